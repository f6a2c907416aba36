"""`upr-match backup PATH` and `upr-match restore PATH`: consistent copies of the embedded SQLite database."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from app.core.config import get_settings


def backup(
    path: Annotated[Path, typer.Argument(help="Where to write the copy (a new file).")],
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace PATH if it exists.")] = False,
) -> None:
    """Copy the SQLite database consistently while the service runs and writes (checked before it is kept)."""
    from app.core.backups import BackupError
    from app.core.backups import backup as run_backup

    try:
        result = run_backup(get_settings().DATABASE_URL, path, overwrite=overwrite)
    except BackupError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from None
    typer.echo(f"backed up to {result.path}: {result.bytes / 1e6:.1f} MB, {result.tables} tables, integrity ok")


def restore(
    path: Annotated[Path, typer.Argument(help="A file written by `upr-match backup`.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Replace the SQLite database with a backup that passes integrity_check (stop the service first)."""
    from app.core.backups import BackupError, check, sqlite_path
    from app.core.backups import restore as run_restore

    settings = get_settings()
    try:
        target = sqlite_path(settings.DATABASE_URL)
        tables = check(path)
    except BackupError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from None
    if not yes:
        typer.confirm(f"Replace the contents of {target} with {path} ({tables} tables)?", abort=True)
    try:
        kept = run_restore(settings.DATABASE_URL, path)
    except BackupError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from None
    typer.echo(f"restored {target} from {path}" + (f"; the previous contents are in {kept}" if kept else ""))
    typer.echo("run `upr-match migrate` if the backup is from an older version, then start the service")
