"""`upr-match demo load`: the shared recommendations, the demo provider profiles and demo needs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from app.commands.common import fail
from app.commands.progress import import_progress
from app.core.config import get_settings
from app.core.db import command_session

app = typer.Typer(help="The demo data set.", no_args_is_help=True)


@app.command("load")
def load(
    url: Annotated[
        str, typer.Option(help="Where the server will listen, for the printed examples.")
    ] = "http://127.0.0.1:8000",
    key_file: Annotated[Path, typer.Option(help="Where the local admin key is kept.")] = Path("var/admin_key"),
) -> None:
    """Load the shared recommendations, the provider profiles and demo needs (idempotent)."""
    from app.commands.analytics import load_index
    from app.core.errors import Problem
    from app.demo.loader import load_demo
    from app.services import themes as theme_service
    from app.services.analytics.scores import refresh_open_needs

    settings = get_settings()
    tagger = theme_service.load(settings)
    progress, report = import_progress("recommendations: ")
    try:
        with progress, command_session() as session:
            summary = load_demo(
                session,
                data_dir=settings.UPR_DATA_DIR,
                key_file=key_file,
                max_rows=settings.MAX_IMPORT_ROWS,
                tagger=tagger,
                progress=report,
            )
        index = load_index(settings, tagger)
        with command_session() as session:
            scored = refresh_open_needs(session, index)
    except Problem as problem:
        fail(problem)
    recs = summary.recommendations
    if recs:
        typer.echo(
            f"recommendations: read {recs['read']}, inserted {recs['inserted']}, updated {recs['updated']}, "
            f"unchanged {recs['unchanged']}, themes predicted {recs['themes_predicted']}"
        )
    typer.echo(
        f"providers: created {summary.providers_created}, updated {summary.providers_updated}, "
        f"unchanged {summary.providers_unchanged}"
    )
    typer.echo(f"demo needs: created {summary.needs_created}, already there {summary.needs_existing}")
    typer.echo(f"demo activities: created {summary.activities_created}, already there {summary.activities_existing}")
    if summary.funding is not None:
        typer.echo(f"funding: imported {summary.funding.imported} figures for {summary.funding.countries} countries")
    typer.echo(f"best match stored for {scored} open needs (the unserved-needs measure)")
    for note in summary.notes:
        typer.echo(f"note: {note}", err=True)
    created = " (new)" if summary.admin_key_created else f" (from {key_file})"
    need_id = summary.example_need_id or "<need-id>"
    typer.echo(
        f"""
demo data loaded; once the server runs it is at {url}  (API docs: {url}/docs)
admin key for local use{created}:
  {summary.admin_key}

Try:
  curl -s '{url}/v1/recommendations?state=MEX&response=supported&q=torture&limit=3'
  curl -s '{url}/v1/needs/{need_id}/matches?limit=3'
  curl -s -X POST {url}/v1/match -H 'Content-Type: application/json' \\
       -d '{{"text": "set up a national preventive mechanism against torture", "state": "MEX", "limit": 3}}'
"""
    )
