"""The recommendations a signed-in visitor ticks on the search page, to file one need citing them.

A State searches, ticks results on several pages and in several searches, then files
one need citing exactly the ticked ones. The ticks are kept on the server, per page
session (`web_selection`, keyed like `web_session` by a digest of the session id),
so every worker behind the proxy sees the same selection and nothing is carried in
URLs. They follow the need's rules from the start: only supported recommendations of
one State the visitor may file needs for, at most MAX_RECOMMENDATIONS of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Insert, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col
from sqlmodel import select as select_rows

from app.core.db import intending_to_write
from app.core.errors import Forbidden
from app.core.identity import Principal
from app.models.common import table_of, utcnow
from app.models.recommendation import Recommendation
from app.models.web_session import WebSelection
from app.reference.countries import display_name
from app.reference.vocab import MAX_RECOMMENDATIONS
from app.services import access
from app.services.web_sessions import session_digest

T = table_of(WebSelection)
R = table_of(Recommendation)


@dataclass(frozen=True, slots=True)
class Selection:
    """The ticked recommendations, oldest tick first, and the State they are addressed to."""

    ids: list[str]
    state: str | None


@dataclass(slots=True)
class SelectionChange:
    """What a change did: how many were added and removed, and why any were refused, in words."""

    added: int = 0
    removed: int = 0
    refused: list[str] = field(default_factory=list)


def may_select(principal: Principal) -> bool:
    """Signed-in States (for their own recommendations) and admins tick results for a need."""
    return principal.role in {"state", "admin"} and not principal.is_anonymous


def may_select_for(principal: Principal, state: str) -> bool:
    """True when this visitor may tick (and so cite) recommendations addressed to `state`."""
    return may_select(principal) and access.can_create_need(principal, state)


def get_selection(session: Session, *, sid: str) -> Selection:
    """The recommendations ticked in this page session."""
    rows = session.execute(
        select(T.c.recommendation_id, R.c.state_under_review)
        .join(R, R.c.id == T.c.recommendation_id)
        .where(T.c.session_id == session_digest(sid))
        .order_by(T.c.added_at, T.c.recommendation_id)
    ).all()
    return Selection(ids=[r[0] for r in rows], state=rows[0][1] if rows else None)


def change_selection(
    session: Session, *, principal: Principal, sid: str, add: Sequence[str] = (), remove: Sequence[str] = ()
) -> SelectionChange:
    """Tick `add` and untick `remove`; a recommendation a need could not cite is refused, saying why."""
    if not may_select(principal):
        raise Forbidden("Only a State (for its own recommendations) or an administrator chooses recommendations.")
    change = SelectionChange()
    digest = session_digest(sid)
    current = get_selection(session, sid=sid)
    keep = [rid for rid in current.ids if rid not in set(remove)]
    wanted = [rid for rid in dict.fromkeys(add) if rid not in set(keep)]
    found = {r.id: r for r in session.exec(select_rows(Recommendation).where(col(Recommendation.id).in_(wanted)))}
    state = current.state if keep else None
    accepted: list[str] = []
    for rid in wanted:
        rec = found.get(rid)
        reason = _refusal(principal, rec, state, len(keep) + len(accepted))
        if reason is None:
            assert rec is not None
            accepted.append(rid)
            state = rec.state_under_review
        else:
            change.refused.append(reason)
    gone = [rid for rid in current.ids if rid in set(remove)]
    session.commit()  # end the read before writing (SQLite: a stale snapshot cannot become a writer)
    now = utcnow()
    with intending_to_write():
        if gone:
            session.execute(delete(T).where(T.c.session_id == digest, T.c.recommendation_id.in_(gone)))
        for position, rid in enumerate(accepted):
            # Microseconds apart, so the selection lists them in the order they were ticked.
            added_at = now + timedelta(microseconds=position)
            session.execute(_insert_ignoring_repeats(session, digest, rid, added_at))
        session.commit()
    change.added, change.removed = len(accepted), len(gone)
    return change


def _refusal(principal: Principal, rec: Recommendation | None, state: str | None, count: int) -> str | None:
    """Why a need could not cite this recommendation alongside the others, or None."""
    if rec is None:
        return "A recommendation you ticked no longer exists."
    name = display_name(rec.state_under_review)
    if not may_select_for(principal, rec.state_under_review):
        return f"You may not file needs for {name}, so its recommendations cannot be chosen."
    if rec.response != "supported":
        return f"Recommendation {rec.id} was not supported by {name}; a need cites supported recommendations only."
    if state is not None and rec.state_under_review != state:
        return (
            f"A need cites the recommendations of one State: you have chosen recommendations to "
            f"{display_name(state)}, so those to {name} were not added."
        )
    if count >= MAX_RECOMMENDATIONS:
        return f"A need cites at most {MAX_RECOMMENDATIONS} recommendations; untick some to add others."
    return None


def _insert_ignoring_repeats(session: Session, digest: str, rid: str, added_at: datetime) -> Insert:
    """INSERT ... ON CONFLICT DO NOTHING: a tick sent twice (two tabs) is one tick."""
    values = {"session_id": digest, "recommendation_id": rid, "added_at": added_at}
    if session.get_bind().dialect.name == "postgresql":
        return pg_insert(T).values(**values).on_conflict_do_nothing()
    return sqlite_insert(T).values(**values).on_conflict_do_nothing()


def clear_selection(session: Session, *, sid: str, ids: Sequence[str] | None = None) -> None:
    """Untick `ids` (every tick when None): the need citing them is filed, or the visitor starts again."""
    condition = T.c.session_id == session_digest(sid)
    with intending_to_write():
        if ids is None:
            session.execute(delete(T).where(condition))
        elif ids:
            session.execute(delete(T).where(condition, T.c.recommendation_id.in_(list(ids))))
        session.commit()
