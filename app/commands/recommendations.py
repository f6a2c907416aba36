"""`upr-match import-recommendations PATH`, `import-translations PATH --language fr` and `link-recommendations`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn, TypeVar

import typer

from app.core.config import get_settings
from app.core.errors import Problem

if TYPE_CHECKING:
    from sqlmodel import Session

    from app.commands.progress import Report

FORMATS = ("jsonl", "csv", "uhri", "matrix")
Summary = TypeVar("Summary")


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
    from app.services import themes as theme_service
    from app.services.imports import import_and_tag

    fmt = (format or "auto").lower()
    if fmt not in (*FORMATS, "auto"):
        typer.echo(f"error: --format must be one of {', '.join(FORMATS)}, got {fmt!r}", err=True)
        raise typer.Exit(code=2)
    settings = get_settings()
    tagger = None if dry_run else theme_service.load(settings)
    summary = _run(
        path,
        lambda session, report: import_and_tag(
            session,
            tagger=tagger,
            file=path,
            fmt=fmt,
            dry_run=dry_run,
            max_rows=settings.MAX_IMPORT_ROWS,
            progress=report,
            state=state,
            cycle=cycle,
            review_session=review_session,
        ),
    )
    prefix = "dry run: " if dry_run else ""
    typer.echo(
        f"{prefix}rows read {summary.rows_read}, inserted {summary.inserted}, updated {summary.updated}, "
        f"unchanged {summary.unchanged}, rejected {summary.rejected}"
    )
    _echo_skipped(summary.skipped, summary.skipped_reasons)
    if summary.unrecorded_recommenders:
        typer.echo(
            f"{summary.unrecorded_recommenders} recommendations name no recorded recommending State "
            "('(Unknown)' or empty): kept, without an ISO3 code"
        )
    if summary.linked:
        typer.echo(f"{summary.linked} records are copies of a recommendation from another source: each counts once")
    if summary.themes_predicted:
        typer.echo(f"themes predicted for {summary.themes_predicted} recommendations that had none")


def _run(path: Path, call: Callable[[Session, Report], Summary]) -> Summary:
    """Run an import in a command session with a progress bar; print its problem and exit 1 if it has one."""
    from app.commands.progress import import_progress
    from app.core.db import command_session

    progress, report = import_progress()
    try:
        with progress, command_session() as session:
            return call(session, report)
    except Problem as problem:
        _fail(path, problem)


def _echo_skipped(skipped: int, reasons: dict[str, int]) -> None:
    """Say how many records of other bodies or kinds the file held, per reason."""
    if skipped:
        listed = ", ".join(f"{reason}: {n}" for reason, n in sorted(reasons.items()))
        typer.echo(f"skipped {skipped} records that are not UPR recommendations ({listed})")


def _fail(path: Path, problem: Problem) -> NoReturn:
    """Print an import's problem (naming the file), each bad record or row on its line, and exit with status 1."""
    typer.echo(f"error: {path}: {problem.detail}", err=True)
    unit = problem.extensions.get("unit", "line")
    for err in problem.extensions.get("errors", []):
        reason = err.get("reason", err.get("detail"))
        typer.echo(f"  {unit} {err.get('line', '?')}: {err.get('field')}: {reason}", err=True)
    total = problem.extensions.get("total_errors")
    if total and total > len(problem.extensions.get("errors", [])):
        typer.echo(f"  ... {total} errors in all", err=True)
    raise typer.Exit(code=1)


def import_translations(
    path: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="The UHRI export in that language.")
    ],
    language: Annotated[
        str, typer.Option("--language", "-l", help="fr (export-full-fr.json) or es (export-full-es.json).")
    ],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate and count; write nothing.")] = False,
) -> None:
    """Attach a French or Spanish UHRI export's texts to the recommendations imported from the English one."""
    from app.services.translations import import_translations as attach_all

    limit = get_settings().MAX_IMPORT_ROWS
    summary = _run(
        path,
        lambda session, report: attach_all(
            session, file=path, language=language, dry_run=dry_run, max_rows=limit, progress=report
        ),
    )
    prefix = "dry run: " if dry_run else ""
    typer.echo(
        f"{prefix}{summary.language}: records {summary.records}, attached {summary.attached}, "
        f"updated {summary.updated}, unchanged {summary.unchanged}, unknown ids {summary.unknown}"
    )
    if summary.unknown:
        shown = ", ".join(summary.unknown_ids)
        more = f" (first {len(summary.unknown_ids)})" if summary.unknown > len(summary.unknown_ids) else ""
        typer.echo(f"not in the database, import the English export first{more}: {shown}")
    _echo_skipped(summary.skipped, summary.skipped_reasons)


def link_recommendations() -> None:
    """Link the copies of each recommendation across sources, in every State and session (imports do it too)."""
    from app.commands.progress import import_progress
    from app.core.db import command_session
    from app.services import linking

    progress, report = import_progress()
    with progress, command_session() as session:
        copies = linking.relink_all(session, report)
    typer.echo(f"{copies} records are copies of a recommendation from another source: each counts once")
