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
            help="The export to read: an http(s) URL, a file:// URL or a path (default: SYNC_URL, "
            "OHCHR's export-full-en.json, and the -fr/-es files beside it).",
        ),
    ] = None,
    language: Annotated[
        list[str] | None,
        typer.Option(
            "--language",
            "-l",
            help="en, fr or es; repeat for several (default: SYNC_LANGUAGES, or en with --url). French and Spanish "
            "attach their texts to the recommendations the English export brought.",
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
    languages = language or (["en"] if url else list(settings.SYNC_LANGUAGES))
    unknown = [code for code in languages if code not in sync_service.IMPORTERS]
    if unknown:
        typer.echo(
            f"error: --language must be one of {', '.join(sync_service.IMPORTERS)}, got {unknown[0]!r}", err=True
        )
        raise typer.Exit(code=2)
    progress, report = import_progress()
    failed = False
    for code in languages:
        try:
            # One language reads --url as given; several read the files beside it (export-full-fr.json).
            source = url if url is None or len(languages) == 1 else sync_service.language_url(url, code)
            with progress, command_session() as session:
                result = sync_service.sync_export(
                    session,
                    settings,
                    url=source,
                    language=code,
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
