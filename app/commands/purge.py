"""`upr-match purge`: delete what has expired (idempotency records older than 24 hours), in batches."""

from __future__ import annotations

import typer

from app.config import get_settings


def purge() -> None:
    """Delete expired records in batches (safe while the service runs); prints how many went."""
    from app.db import create_db_engine
    from app.idempotency import purge_expired

    engine = create_db_engine(get_settings())
    try:
        total = 0
        while True:
            deleted = purge_expired(engine)
            total += deleted
            if deleted == 0:
                break
        typer.echo(f"idempotency records: {total} expired deleted")
    finally:
        engine.dispose()
