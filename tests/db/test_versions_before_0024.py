"""A version kept before migration 0024 lacks the report fields: the next version does not list them as changed."""

from __future__ import annotations

from sqlmodel import Session, col, select

from app.core.identity import Principal
from app.models.activity import ActivityUpdate
from app.models.activity_history import ActivityVersion
from app.services import activities as activity_service
from app.services import activity_versions
from tests.factories import make_activity, make_provider


def test_fields_missing_from_an_old_version_are_not_changes(session: Session) -> None:
    row = make_activity(session, make_provider(session))
    activity_versions.record_first(session, row)
    session.commit()
    first = session.exec(select(ActivityVersion).where(col(ActivityVersion.activity_id) == row.id)).one()
    first.content = {k: v for k, v in first.content.items() if k not in ("challenges", "lessons", "documents")}
    session.add(first)
    session.commit()
    admin = Principal(role="admin", key_id=None)
    activity_service.update_activity(
        session, principal=admin, activity_id=row.id, data=ActivityUpdate(outcomes="Done."), expected=frozenset({1})
    )
    latest = session.exec(
        select(ActivityVersion).where(col(ActivityVersion.activity_id) == row.id, col(ActivityVersion.number) == 2)
    ).one()
    assert latest.changed == ["outcomes"]
