"""Signed-in web sessions on the server: started at sign-in, checked and touched on every page, ended at sign-out.

The signed cookie proves who issued it; this table says whether it still counts. A session
ends when its browser signs out (the row goes), when it is idle longer than the idle timeout,
or when it is older than the cookie's lifetime; a revoked key ends its sessions through the
key check every page makes. Rows are stored under a digest of the session id.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.core.db import intending_to_write
from app.models.api_key import ApiKey
from app.models.common import table_of, utcnow
from app.models.web_session import WebSession
from app.services import audit

# last_seen_at is written at most this often per session, so reading a page rarely writes.
TOUCH_EVERY = timedelta(seconds=60)
PURGE_BATCH = 500

T = table_of(WebSession)


def session_digest(sid: str) -> str:
    return hashlib.sha256(sid.encode("utf-8")).hexdigest()


def start(session: Session, *, sid: str, actor: audit.Actor) -> None:
    """Record a new signed-in session of `actor`'s key, and its sign-in in the audit trail."""
    assert actor.key_id is not None
    with intending_to_write():
        session.add(WebSession(id=session_digest(sid), key_id=actor.key_id))
        audit.record(session, actor, resource="session", resource_id=audit_id(sid), action="sign_in")
        session.commit()


def sign_out(session: Session, *, sid: str, actor: audit.Actor) -> None:
    """End the session at its visitor's request, and say so in the audit trail."""
    with intending_to_write():
        session.execute(delete(T).where(T.c.id == session_digest(sid)))
        audit.record(session, actor, resource="session", resource_id=audit_id(sid), action="sign_out")
        session.commit()


def audit_id(sid: str) -> str:
    """How the audit trail names a session: the start of its stored digest (never the id the cookie holds)."""
    return session_digest(sid)[:16]


def resume(session: Session, *, sid: str, key_id: str, idle: timedelta, max_age: timedelta) -> bool:
    """True if the session is still live (then its last activity is brought up to now); False if it ended."""
    now = utcnow()
    row = session.execute(select(T.c.key_id, T.c.created_at, T.c.last_seen_at).where(T.c.id == session_digest(sid)))
    found = row.first()
    session.commit()  # end the read before any write (SQLite: a stale snapshot cannot become a writer)
    if found is None or found.key_id != key_id:
        return False
    if now - found.last_seen_at > idle or now - found.created_at > max_age:
        end(session, sid=sid)
        return False
    if now - found.last_seen_at >= TOUCH_EVERY:
        with intending_to_write():
            session.execute(update(T).where(T.c.id == session_digest(sid)).values(last_seen_at=now))
            session.commit()
    return True


def live_key_id(session: Session, *, sid: str, key_id: str, idle: timedelta, max_age: timedelta) -> str | None:
    """The key id of a session that still signs someone in (its key not revoked), else None; writes nothing."""
    now = utcnow()
    keys = table_of(ApiKey)
    row = session.execute(
        select(T.c.key_id)
        .join(keys, keys.c.id == T.c.key_id)
        .where(
            T.c.id == session_digest(sid),
            T.c.key_id == key_id,
            T.c.last_seen_at >= now - idle,
            T.c.created_at >= now - max_age,
            keys.c.revoked_at.is_(None),
        )
    ).first()
    return None if row is None else str(row.key_id)


def end(session: Session, *, sid: str) -> None:
    """Forget the session (sign-out): its cookie no longer signs anyone in, wherever it was copied."""
    with intending_to_write():
        session.execute(delete(T).where(T.c.id == session_digest(sid)))
        session.commit()


def purge_expired(engine: Engine, *, idle: timedelta, max_age: timedelta, now: datetime | None = None) -> int:
    """Delete up to PURGE_BATCH sessions that have timed out; return how many went."""
    now = now or utcnow()
    expired = (
        select(T.c.id).where(or_(T.c.last_seen_at < now - idle, T.c.created_at < now - max_age)).limit(PURGE_BATCH)
    )
    with intending_to_write(), engine.begin() as conn:
        result = conn.execute(delete(T).where(T.c.id.in_(expired)))
    return int(result.rowcount or 0)
