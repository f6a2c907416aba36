"""`upr-match evaluate --from-engagements`: how the current ranking orders what providers accepted or declined."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from app.commands.common import fail
from app.core.errors import Problem


def evaluate(
    from_engagements: Annotated[
        bool,
        typer.Option(
            "--from-engagements",
            help="Judge the ranking by the answered engagements: accepted = relevant, "
            "declined as out of scope = not relevant (other declines say nothing about fit).",
        ),
    ] = False,
    file: Annotated[
        Path | None,
        typer.Option(
            "--file",
            exists=True,
            dir_okay=False,
            help="Read the judgements from a CSV of need_id,provider_id,outcome instead of the engagement table "
            "(outcome: accepted, declined_out_of_scope, declined_no_capacity...).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON, with each need.")] = False,
) -> None:
    """Rank each judged need as its matches are ranked, and report nDCG and MRR of the judged providers' order."""
    from sqlmodel import Session

    from app.core.config import get_settings
    from app.core.db import create_db_engine
    from app.match_index.index import MatchIndex
    from app.services import feedback
    from app.services import themes as theme_service

    if not from_engagements:
        typer.echo("Name what to judge the ranking by: --from-engagements (optionally with --file).", err=True)
        raise typer.Exit(2)
    settings = get_settings()
    engine = create_db_engine(settings)
    try:
        with Session(engine) as session:
            judgements = list(
                feedback.read_judgements(file) if file is not None else feedback.engagement_judgements(session)
            )
            index = MatchIndex(settings, theme_service.load(settings))
            report = feedback.evaluate(session, index, judgements)
    except Problem as problem:
        fail(problem)
    finally:
        engine.dispose()
    if as_json:
        typer.echo(json.dumps(vars(report), indent=2, sort_keys=True))
        return
    source = file.name if file is not None else "the engagement table"
    typer.echo(f"{len(judgements)} judgements read from {source}")
    typer.echo(f"{report.pairs} judged pairs on {report.needs} needs with an accepted provider")
    if report.ignored:
        typer.echo(f"{report.ignored} judgements ignored: their outcome says nothing about fit")
    if report.unranked_needs:
        typer.echo(f"{report.unranked_needs} needs not found in the database: left out", err=True)
    if report.needs:
        typer.echo(f"nDCG {report.ndcg:.4f}  MRR {report.mrr:.4f}  (1.0: every accepted provider ranked first)")
    else:
        typer.echo("No need has an accepted provider yet: nothing to score.")
