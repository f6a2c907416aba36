"""`upr-match purge`: delete what has expired (idempotency records, timed-out web sessions, old events), in batches."""

from __future__ import annotations

from collections.abc import Callable

import typer

from app.core.config import get_settings


def purge() -> None:
    """Delete expired records in batches (safe while the service runs); prints how many went."""
    from datetime import timedelta

    from app.core.db import create_db_engine
    from app.http import idempotency
    from app.services import web_sessions
    from app.web.session import SESSION_MAX_AGE
    from app.worker import outbox

    settings = get_settings()
    engine = create_db_engine(settings)
    idle, max_age = timedelta(minutes=settings.WEB_SESSION_IDLE_MINUTES), timedelta(seconds=SESSION_MAX_AGE)
    purges: list[tuple[str, Callable[[], int]]] = [
        ("idempotency records", lambda: idempotency.purge_expired(engine)),
        ("web sessions", lambda: web_sessions.purge_expired(engine, idle=idle, max_age=max_age)),
        ("events, deliveries and e-mails done over 30 days ago", lambda: outbox.purge_done(engine)),
    ]
    try:
        for label, purge_batch in purges:
            total = 0
            while deleted := purge_batch():
                total += deleted
            typer.echo(f"{label}: {total} expired deleted")
    finally:
        engine.dispose()
