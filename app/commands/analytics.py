"""`upr-match import-funding`, `upr-match analytics refresh` and `upr-match report`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from app.commands.common import fail
from app.core.config import Settings, get_settings
from app.core.db import command_session

if TYPE_CHECKING:  # the index and the tagger load scikit-learn: imported when a command needs them
    from app.match_index.index import MatchIndex
    from matching.schemes import MultiSchemeTagger

app = typer.Typer(help="Where help is missing: the analytics' stored scores.", no_args_is_help=True)


def load_index(settings: Settings, tagger: MultiSchemeTagger | None) -> MatchIndex:
    """The matching index, built in a read session (it stores new theme vectors in transactions of its own)."""
    from sqlmodel import Session

    from app.core.db import create_db_engine
    from app.match_index.index import MatchIndex

    index = MatchIndex(settings, tagger)
    engine = create_db_engine(settings)
    try:
        with Session(engine) as session:
            index.load(session)
    finally:
        engine.dispose()
    return index


def import_funding(
    file: Annotated[
        Path | None,
        typer.Argument(
            help="The UN INFO JSON file (default: uninfo_resources_by_country_and_sdg.json in UPR_DATA_DIR)."
        ),
    ] = None,
) -> None:
    """Import the USD required and available per country and SDG (replaces the previous figures)."""
    from app.core.errors import Problem
    from app.services.analytics.funding import FUNDING_FILE, import_funding

    path = file or get_settings().UPR_DATA_DIR / FUNDING_FILE
    if not path.is_file():
        typer.echo(f"error: no funding file at {path} (set UPR_DATA_DIR or give the file)", err=True)
        raise typer.Exit(code=1)
    try:
        with command_session() as session:
            summary = import_funding(session, path=path)
    except Problem as problem:
        fail(problem)
    typer.echo(
        f"funding: read {summary.rows_read} rows, imported {summary.imported} for {summary.countries} countries; "
        f"skipped {summary.skipped_no_sdg} without an SDG"
        + (f" and {', '.join(summary.skipped_countries)} (no ISO code)" if summary.skipped_countries else "")
    )


@app.command("refresh")
def refresh() -> None:
    """Score every open need again with the ranking and store its best score (after providers changed)."""
    from rich.progress import Progress

    from app.services import themes as theme_service
    from app.services.analytics.scores import refresh_open_needs

    settings = get_settings()
    index = load_index(settings, theme_service.load(settings))
    with Progress(transient=True, disable=not sys.stderr.isatty()) as bar, command_session() as session:
        task = bar.add_task("scoring open needs", total=None)
        count = refresh_open_needs(
            session, index, progress=lambda done, total: bar.update(task, completed=done, total=total)
        )
    typer.echo(f"best scores stored for {count} open needs")


def report(
    state: Annotated[str, typer.Option(help="ISO3 of the State, e.g. MEX.")],
    format: Annotated[
        Literal["html", "md"], typer.Option("--format", help="html (one self-contained file) or md.")
    ] = "html",
    output: Annotated[Path | None, typer.Option(help="Where to write it (default: gaps-<STATE>.<format>).")] = None,
) -> None:
    """Write a State's gaps report: pipeline, unserved needs, supply vs demand, funding, period and sources."""
    from app.core.errors import Problem
    from app.services import themes as theme_service
    from app.services.analytics.report import markdown, state_report

    settings = get_settings()
    index = load_index(settings, theme_service.load(settings))
    try:
        with command_session() as session:
            found = state_report(session, state=state, index=index)
    except Problem as problem:
        fail(problem)
    if format == "md":
        text = markdown(found)
    else:
        from app.web.report import html

        text = html(found)
    path = output or Path(f"gaps-{found.state}.{format}")
    partial = path.with_name(path.name + ".part")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)  # never a half-written report
    typer.echo(f"report for {found.name} written to {path}")
