"""The versions of an activity: every content it has had, who recorded it, who accepted it.

`record_first` writes version 1 when an activity is recorded; every later change of its
content (a party's edit of a claim, an admin's edit, an accepted proposal) adds the next
number with the fields it changed (`record`); a confirmation fills in who accepted the
latest (`accept_latest`). An activity stored without versions (rows written before this
table, or by hand) gets its current content as version 1 before its first change
(`ensure_first`), so no content is ever lost. Rows are written in the caller's transaction.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from app.core.identity import Principal
from app.models.activity import Activity, ActivityRecommendation
from app.models.activity_history import CONTENT_FIELDS, ActivityVersion, VersionOrigin
from app.models.common import utcnow

Who = tuple[str | None, str | None]  # (role, key id)


def who(principal: Principal) -> Who:
    """A caller as a version names it."""
    return principal.role, principal.key_id


EMPTY: dict[str, Any] = {"documents": []}  # fields whose empty value is not None


def content_of(session: Session, row: Activity) -> dict[str, Any]:
    """The activity's fields a version keeps, as JSON values, with its recommendation ids in order."""
    links = session.exec(
        select(ActivityRecommendation.recommendation_id)
        .where(col(ActivityRecommendation.activity_id) == row.id)
        .order_by(col(ActivityRecommendation.position))
    ).all()
    content: dict[str, Any] = {}
    for name in CONTENT_FIELDS:
        value = list(links) if name == "recommendation_ids" else getattr(row, name)
        content[name] = value.isoformat() if isinstance(value, date) else value
    return content


def _latest(session: Session, activity_id: str) -> ActivityVersion | None:
    return session.exec(
        select(ActivityVersion)
        .where(col(ActivityVersion.activity_id) == activity_id)
        .order_by(col(ActivityVersion.number).desc())
        .limit(1)
    ).first()


def record_first(session: Session, row: Activity) -> None:
    """Version 1: the activity as recorded, accepted by whoever confirmed it (if anyone did)."""
    session.flush()
    confirmed = row.confirmation == "confirmed"
    session.add(
        ActivityVersion(
            activity_id=row.id,
            number=1,
            origin="recorded",
            content=content_of(session, row),
            changed=[],
            recorded_by_role=row.recorded_by_role,
            recorded_by_key_id=row.recorded_by_key_id,
            recorded_at=row.updated_at,
            accepted_by_role=row.confirmed_by_role if confirmed else None,
            accepted_by_key_id=row.confirmed_by_key_id if confirmed else None,
            accepted_at=row.confirmed_at if confirmed else None,
        )
    )
    session.flush()


def ensure_first(session: Session, row: Activity) -> None:
    """Before changing an activity that has no version yet, keep its current content as version 1."""
    if _latest(session, row.id) is None:
        record_first(session, row)


def record(
    session: Session,
    row: Activity,
    *,
    origin: VersionOrigin,
    by: Who,
    accepted_by: Who | None,
    proposal_id: str | None = None,
) -> None:
    """Add the activity's content, as written now, as its next version (call `ensure_first` before the change)."""
    session.flush()
    session.refresh(row)
    latest = _latest(session, row.id)
    content = content_of(session, row)
    before = latest.content if latest is not None else {}
    now = utcnow()
    session.add(
        ActivityVersion(
            activity_id=row.id,
            number=(latest.number if latest is not None else 0) + 1,
            origin=origin,
            content=content,
            # A version kept before a field existed lacks it: read it as that field's empty value.
            changed=[name for name in CONTENT_FIELDS if before.get(name, EMPTY.get(name)) != content[name]],
            recorded_by_role=by[0],
            recorded_by_key_id=by[1],
            recorded_at=now,
            accepted_by_role=accepted_by[0] if accepted_by else None,
            accepted_by_key_id=accepted_by[1] if accepted_by else None,
            accepted_at=now if accepted_by else None,
            proposal_id=proposal_id,
        )
    )
    session.flush()


def accept_latest(session: Session, row: Activity, principal: Principal) -> None:
    """The other party (or an admin) confirmed the activity: its current version is accepted by them."""
    ensure_first(session, row)
    latest = _latest(session, row.id)
    assert latest is not None  # written just above if it was missing
    latest.accepted_by_role, latest.accepted_by_key_id = who(principal)
    latest.accepted_at = utcnow()
    session.add(latest)
    session.flush()


def list_versions(session: Session, activity_id: str) -> list[ActivityVersion]:
    """Every version of an activity, oldest first."""
    return list(
        session.exec(
            select(ActivityVersion)
            .where(col(ActivityVersion.activity_id) == activity_id)
            .order_by(col(ActivityVersion.number))
        ).all()
    )
