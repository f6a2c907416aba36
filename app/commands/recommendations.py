"""`upr-match import-recommendations PATH` and `upr-match link-recommendations`: the CLI faces of the import."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from app.core.config import get_settings

FORMATS = ("jsonl", "csv", "uhri", "matrix")


def import_recommendations(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="The file to import.")],
    format: Annotated[
        str | None,
        typer.Option(
            "--format",
            "-f",
            help="jsonl, csv, uhri or matrix (default: from the name and content: .docx, .pdf and .txt are "
            "OHCHR's matrix of recommendations, a JSON array is the UHRI export, '{' opens JSON Lines, "
            "anything else is CSV).",
        ),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate and count; write nothing.")] = False,
    state: Annotated[
        str | None, typer.Option("--state", help="Matrix only: the State under review, when the document does not say.")
    ] = None,
    cycle: Annotated[
        int | None,
        typer.Option("--cycle", min=1, max=20, help="Matrix only: the UPR cycle, when the document does not say."),
    ] = None,
    review_session: Annotated[
        int | None,
        typer.Option(
            "--session", min=1, max=200, help="Matrix only: the review's session, when the document does not say."
        ),
    ] = None,
) -> None:
    """Import recommendations (OHCHR's matrix of recommendations, UHRI export, JSONL, UPR Info CSV or our CSV export).

    All or nothing: one bad row and nothing is written.
    """
    from app.commands.progress import import_progress
    from app.core.db import command_session
    from app.core.errors import Problem
    from app.services import themes as theme_service
    from app.services.imports import import_and_tag

    fmt = (format or "auto").lower()
    if fmt not in (*FORMATS, "auto"):
        typer.echo(f"error: --format must be one of {', '.join(FORMATS)}, got {fmt!r}", err=True)
        raise typer.Exit(code=2)
    settings = get_settings()
    progress, report = import_progress()

    try:
        with progress, command_session() as session:
            summary = import_and_tag(
                session,
                tagger=None if dry_run else theme_service.load(settings),
                file=path,
                fmt=fmt,
                dry_run=dry_run,
                max_rows=settings.MAX_IMPORT_ROWS,
                progress=report,
                state=state,
                cycle=cycle,
                review_session=review_session,
            )
    except Problem as problem:
        typer.echo(f"error: {path}: {problem.detail}", err=True)
        unit = problem.extensions.get("unit", "line")
        for err in problem.extensions.get("errors", []):
            typer.echo(
                f"  {unit} {err.get('line', '?')}: {err.get('field')}: {err.get('reason', err.get('detail'))}", err=True
            )
        total = problem.extensions.get("total_errors")
        if total and total > len(problem.extensions.get("errors", [])):
            typer.echo(f"  ... {total} errors in all", err=True)
        raise typer.Exit(code=1) from None
    prefix = "dry run: " if dry_run else ""
    typer.echo(
        f"{prefix}rows read {summary.rows_read}, inserted {summary.inserted}, updated {summary.updated}, "
        f"unchanged {summary.unchanged}, rejected {summary.rejected}"
    )
    if summary.skipped:
        reasons = ", ".join(f"{reason}: {n}" for reason, n in sorted(summary.skipped_reasons.items()))
        typer.echo(f"skipped {summary.skipped} records that are not UPR recommendations ({reasons})")
    if summary.unrecorded_recommenders:
        typer.echo(
            f"{summary.unrecorded_recommenders} recommendations name no recorded recommending State "
            "('(Unknown)' or empty): kept, without an ISO3 code"
        )
    if summary.linked:
        typer.echo(f"{summary.linked} records are copies of a recommendation from another source: each counts once")
    if summary.themes_predicted:
        typer.echo(f"themes predicted for {summary.themes_predicted} recommendations that had none")


def link_recommendations() -> None:
    """Link the copies of each recommendation across sources, in every State and session (imports do it too)."""
    from app.commands.progress import import_progress
    from app.core.db import command_session
    from app.services import linking

    progress, report = import_progress()
    with progress, command_session() as session:
        copies = linking.relink_all(session, report)
    typer.echo(f"{copies} records are copies of a recommendation from another source: each counts once")
