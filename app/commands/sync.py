"""`upr-match sync`: fetch OHCHR's Universal Human Rights Index export if it changed and import it."""

from __future__ import annotations

from typing import Annotated

import typer

from app.core.config import get_settings


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
    from app.services import themes as theme_service

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
                    tagger=theme_service.load(settings),
                    progress=report,
                    notice=typer.echo,
                )
        except sync_service.SyncError as exc:
            typer.echo(f"error: {exc.reason}", err=True)
            failed = True
            continue
        for line in describe(result):
            typer.echo(line)
    if failed:
        raise typer.Exit(code=1)


def describe(result: object) -> list[str]:
    """What a sync did, in the lines the command prints."""
    from app.services.sync import SyncResult

    assert isinstance(result, SyncResult)
    if result.outcome == "not_modified":
        when = f"since the sync of {result.since:%Y-%m-%d %H:%M} UTC" if result.since else "since the last sync"
        tag = f" (ETag {result.validators.etag})" if result.validators.etag else ""
        return [f"not modified: {result.url} has not changed {when}{tag}; nothing to do"]
    summary = result.summary
    assert summary is not None
    resumed = f", resumed from byte {result.resumed_from:,}" if result.resumed_from else ""
    lines = [
        f"imported {result.url} ({result.bytes_received:,} bytes received{resumed}): "
        f"{summary.inserted} new, {summary.updated + result.restored} updated, "
        f"{max(0, summary.unchanged - result.restored)} unchanged, {result.withdrawn} withdrawn"
    ]
    if result.restored:
        lines.append(f"{result.restored} withdrawn records are back in the export: restored")
    if summary.skipped:
        reasons = ", ".join(f"{reason}: {n}" for reason, n in sorted(summary.skipped_reasons.items()))
        lines.append(f"skipped {summary.skipped} records that are not UPR recommendations ({reasons})")
    if summary.themes_predicted:
        lines.append(f"themes predicted for {summary.themes_predicted} recommendations that had none")
    return lines
