"""The change log the indexes follow (`index_change`, filled by database triggers on every provider
and need write): its newest row, and pruning the rows every worker has long applied."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete
from sqlmodel import Session, col, func, select

from app.core.config import Settings
from app.core.db import create_db_engine
from app.models.common import utcnow
from app.models.index_change import IndexChange

# How far back each refresh looks for log rows committed out of order (PostgreSQL
# sequences are taken at insert, and transactions commit in any order).
GAP_WINDOW = 200


def newest_log_seq(session: Session) -> int:
    """The newest row of the change log (0 when empty): how far the indexes have to follow."""
    return int(session.exec(select(func.max(IndexChange.seq))).one() or 0)


def prune_log(session: Session, *, older_than: timedelta = timedelta(days=1)) -> int:
    """Delete log rows every worker has long applied (workers that start later load the tables)."""
    result = session.exec(delete(IndexChange).where(col(IndexChange.created_at) < utcnow() - older_than))
    session.commit()
    return int(result.rowcount or 0)


def read_newest_seq(settings: Settings) -> int | None:
    """The newest row of the change log read on a connection of its own (None when the database does not answer)."""
    engine = create_db_engine(settings, pool_size=1, max_overflow=0)
    try:
        with Session(engine) as session:
            return newest_log_seq(session)
    except Exception:  # noqa: BLE001 - a scrape reports what it can
        return None
    finally:
        engine.dispose()
