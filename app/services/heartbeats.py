"""Worker heartbeats: each worker says it is alive; the readiness probe asks when one was last seen.

A row per worker process in `worker_heartbeat`, in the database every replica shares, so any
API process can tell whether some worker is still delivering the inbox, webhooks and e-mail.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.core.db import intending_to_write
from app.models.common import table_of, utcnow
from app.models.heartbeat import WorkerHeartbeat

#: Rows of workers not seen for this long are deleted by the next heartbeat of any worker.
FORGET_AFTER = timedelta(days=7)

T = table_of(WorkerHeartbeat)


def beat(engine: Engine, *, worker_id: str, started_at: datetime) -> None:
    """Record that `worker_id` is alive now (one short transaction)."""
    now = utcnow()
    with intending_to_write(), engine.begin() as conn:
        updated = conn.execute(update(T).where(T.c.worker_id == worker_id).values(seen_at=now)).rowcount
        if not updated:
            conn.execute(insert(T).values(worker_id=worker_id, started_at=started_at, seen_at=now))
            conn.execute(delete(T).where(T.c.seen_at < now - FORGET_AFTER))


def last_seen(session: Session) -> datetime | None:
    """When any worker was last seen, or None if none ever reported (or all were forgotten)."""
    seen: datetime | None = session.execute(select(func.max(T.c.seen_at))).scalar_one()
    session.commit()
    return seen
