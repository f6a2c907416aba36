"""`upr-match import-recommendations PATH`: the CLI face of the recommendations import."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from app.config import get_settings


def _guess_format(path: Path) -> str:
    return "csv" if path.suffix.lower() in (".csv", ".txt") else "jsonl"


def import_recommendations(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="The file to import.")],
    format: Annotated[
        str | None,
        typer.Option("--format", "-f", help="jsonl or csv (default: from the file extension)."),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate and count; write nothing.")] = False,
) -> None:
    """Import recommendations (JSONL, UPR Info CSV or our CSV export), all or nothing."""
    from app.commands.progress import import_progress
    from app.db import command_session
    from app.errors import Problem
    from app.services import themes as theme_service
    from app.services.imports import import_and_tag

    fmt = (format or _guess_format(path)).lower()
    if fmt not in ("jsonl", "csv"):
        typer.echo(f"error: --format must be jsonl or csv, got {fmt!r}", err=True)
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
            )
    except Problem as problem:
        typer.echo(f"error: {problem.detail}", err=True)
        for err in problem.extensions.get("errors", []):
            typer.echo(
                f"  line {err.get('line', '?')}: {err.get('field')}: {err.get('reason', err.get('detail'))}", err=True
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
    if summary.themes_predicted:
        typer.echo(f"themes predicted for {summary.themes_predicted} recommendations that had none")
