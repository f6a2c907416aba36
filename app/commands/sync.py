"""`upr-match sync`: fetch OHCHR's Universal Human Rights Index export if it changed and import it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from app.core.config import Settings, get_settings

if TYPE_CHECKING:
    from matching.schemes import MultiSchemeTagger


def sync(
    url: Annotated[
        str | None,
        typer.Option(
            "--url",
            help="The English export to read: an http(s) URL, a file:// URL or a path (default: SYNC_URL, "
            "OHCHR's export-full-en.json).",
        ),
    ] = None,
) -> None:
    """Sync the recommendations from OHCHR's export: only if it changed, resumable, all or nothing.

    Prints what changed (new, updated, unchanged, withdrawn); "not modified" when the source says the
    file is the one last synced. Exits 1, changing nothing, when offline or the file is not the export.
    """
    from app.commands.progress import import_progress
    from app.core.db import command_session
    from app.services import sync as sync_service

    settings = get_settings()
    languages = ["en"] if url else list(settings.SYNC_LANGUAGES)
    progress, report = import_progress()
    failed = False
    for language in languages:
        try:
            with progress, command_session() as session:
                result = sync_service.sync_export(
                    session,
                    settings,
                    url=url,
                    language=language,
                    tagger=lambda: _tagger(settings),
                    progress=report,
                    notice=typer.echo,
                )
        except sync_service.SyncError as exc:
            typer.echo(f"error: {exc.reason}", err=True)
            failed = True
            continue
        for line in sync_service.describe(result):
            typer.echo(line)
    if failed:
        raise typer.Exit(code=1)


def _tagger(settings: Settings) -> MultiSchemeTagger | None:
    """The theme tagger, loaded only when a file is imported (so "not modified" answers at once)."""
    from app.services import themes as theme_service

    return theme_service.load(settings)
