"""Cooperation activities: list, get, create, update, delete.

An activity is created by its provider (for itself) or by the State involved (for
itself), or by an admin; either party may edit or delete it. Its recommendations
must exist and be addressed to its State, whatever the State's response: work on a
noted recommendation is still cooperation worth recording.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlmodel import Session, col, delete, func, select

from app.errors import Forbidden, NotFound, UnprocessableEntity, field_error
from app.identity import Principal
from app.models.activity import (
    Activity,
    ActivityCreate,
    ActivityPublic,
    ActivityRecommendation,
    ActivityUpdate,
)
from app.models.need import Need
from app.models.provider import Provider
from app.pagination import PageParams
from app.services import access
from app.services.needs import check_recommendations
from app.services.versioning import check_version, reject_nulls, versioned_delete, versioned_update

_REQUIRED = ("title", "description", "modality", "status", "recommendation_ids")


def _missing(field: str, why: str) -> UnprocessableEntity:
    return UnprocessableEntity(
        f"`{field}` is required: {why}.", errors=[field_error(["body", field], f"required: {why}")]
    )


def _check_dates(start: date | None, end: date | None) -> None:
    if start is not None and end is not None and end < start:
        raise UnprocessableEntity(
            f"end_date {end} is before start_date {start}.",
            errors=[field_error(["body", "end_date"], f"end_date {end} is before start_date {start}")],
        )


def _check_need(session: Session, principal: Principal, need_id: str | None, state: str) -> None:
    if need_id is None:
        return
    need = session.get(Need, need_id)
    # A need the caller can't see is reported exactly like a missing one.
    if need is None or not access.can_read_need(principal, need):
        raise UnprocessableEntity(
            f"Need {need_id} does not exist.", errors=[field_error(["body", "need_id"], f"no need with id {need_id}")]
        )
    if need.state != state:
        raise UnprocessableEntity(
            f"Need {need_id} is a need of {need.state}, not {state}.",
            errors=[field_error(["body", "need_id"], f"need {need_id} belongs to {need.state}, not {state}")],
        )


def _write_links(session: Session, activity_id: str, recommendation_ids: Sequence[str]) -> None:
    session.exec(delete(ActivityRecommendation).where(col(ActivityRecommendation.activity_id) == activity_id))
    for position, rid in enumerate(recommendation_ids):
        session.add(ActivityRecommendation(activity_id=activity_id, recommendation_id=rid, position=position))


def recommendation_ids_of(session: Session, activity_ids: Sequence[str]) -> dict[str, list[str]]:
    """The recommendation ids of each activity, in the order it lists them."""
    links: dict[str, list[str]] = {aid: [] for aid in activity_ids}
    if activity_ids:
        rows = session.exec(
            select(ActivityRecommendation)
            .where(col(ActivityRecommendation.activity_id).in_(activity_ids))
            .order_by(col(ActivityRecommendation.activity_id), col(ActivityRecommendation.position))
        ).all()
        for link in rows:
            links[link.activity_id].append(link.recommendation_id)
    return links


def present_activities(session: Session, rows: Sequence[Activity]) -> list[ActivityPublic]:
    """Activities as the API shows them, with their recommendation ids."""
    links = recommendation_ids_of(session, [r.id for r in rows])
    return [ActivityPublic.model_validate({**r.model_dump(), "recommendation_ids": links[r.id]}) for r in rows]


def get_activity(session: Session, *, principal: Principal, activity_id: str) -> Activity:
    """Return an activity the caller may see; 404 when missing or hidden (planned, not a party)."""
    row = session.get(Activity, activity_id)
    if row is None or not access.can_read_activity(principal, row):
        raise NotFound(f"Activity {activity_id} does not exist.")
    return row


def list_activities(
    session: Session,
    *,
    principal: Principal,
    page: PageParams,
    state: str | None = None,
    provider_id: str | None = None,
    need_id: str | None = None,
    status: str | None = None,
    recommendation_id: str | None = None,
) -> tuple[list[Activity], int]:
    """List the activities this caller may see, matching every given filter, oldest first."""
    conditions: list[Any] = [access.activity_read_clause(principal)]
    if state:
        conditions.append(col(Activity.state) == state.strip().upper())
    if provider_id:
        conditions.append(col(Activity.provider_id) == provider_id)
    if need_id:
        conditions.append(col(Activity.need_id) == need_id)
    if status:
        conditions.append(col(Activity.status) == status)
    if recommendation_id:
        conditions.append(
            col(Activity.id).in_(
                select(ActivityRecommendation.activity_id).where(
                    ActivityRecommendation.recommendation_id == recommendation_id
                )
            )
        )
    total = session.exec(select(func.count()).select_from(Activity).where(*conditions)).one()
    rows = session.exec(
        select(Activity)
        .where(*conditions)
        .order_by(col(Activity.created_at), col(Activity.id))
        .offset(page.offset)
        .limit(page.limit)
    ).all()
    return list(rows), total


def create_activity(session: Session, *, principal: Principal, data: ActivityCreate, is_demo: bool = False) -> Activity:
    """Record an activity between a provider and a State; the caller must be one of them (or admin).

    `is_demo` is server-owned: only the demo loader sets it, never a request body.
    """
    provider_id = data.provider_id
    state = data.state
    if principal.role == "provider":
        if principal.provider_id is None:
            raise Forbidden("This provider key is not bound to a provider yet; register one with POST /v1/providers.")
        provider_id = provider_id or principal.provider_id
    elif principal.role == "state":
        state = state or principal.state
    if provider_id is None:
        raise _missing("provider_id", "the provider carrying out the activity")
    if state is None:
        raise _missing("state", "ISO3 of the State the activity supports")
    if not access.can_create_activity(principal, provider_id=provider_id, state=state):
        raise Forbidden("An activity is recorded by its provider or its State (for themselves) or by an administrator.")
    if session.get(Provider, provider_id) is None:
        raise UnprocessableEntity(
            f"Provider {provider_id} does not exist.",
            errors=[field_error(["body", "provider_id"], f"no provider with id {provider_id}")],
        )
    _check_need(session, principal, data.need_id, state)
    check_recommendations(
        session, data.recommendation_ids, state=state, supported_only=False, loc=["body", "recommendation_ids"]
    )
    _check_dates(data.start_date, data.end_date)
    row = Activity(
        **data.model_dump(exclude={"provider_id", "state", "recommendation_ids"}),
        provider_id=provider_id,
        state=state,
        is_demo=is_demo,
    )
    session.add(row)
    session.flush()
    _write_links(session, row.id, data.recommendation_ids)
    session.commit()
    session.refresh(row)
    return row


def update_activity(
    session: Session, *, principal: Principal, activity_id: str, data: ActivityUpdate, expected: frozenset[int]
) -> Activity:
    """Apply the fields sent to an activity the caller is a party to, if its ETag is still current."""
    row = get_activity(session, principal=principal, activity_id=activity_id)
    if not access.can_write_activity(principal, row):
        raise Forbidden(f"Only the parties to activity {activity_id} may change it.")
    check_version(row.version, expected, f"Activity {activity_id}")
    changes = data.model_dump(exclude_unset=True)
    reject_nulls(changes, _REQUIRED)
    if "need_id" in changes:
        _check_need(session, principal, changes["need_id"], row.state)
    new_ids = changes.pop("recommendation_ids", None)
    if new_ids is not None:
        check_recommendations(
            session, new_ids, state=row.state, supported_only=False, loc=["body", "recommendation_ids"]
        )
    _check_dates(changes.get("start_date", row.start_date), changes.get("end_date", row.end_date))
    versioned_update(
        session, Activity, row_id=row.id, read_version=row.version, values=changes, what=f"Activity {activity_id}"
    )
    if new_ids is not None:
        _write_links(session, row.id, new_ids)
    session.commit()
    session.refresh(row)
    return row


def delete_activity(session: Session, *, principal: Principal, activity_id: str, expected: frozenset[int]) -> None:
    """Delete an activity; its recommendation links go with it."""
    row = get_activity(session, principal=principal, activity_id=activity_id)
    if not access.can_write_activity(principal, row):
        raise Forbidden(f"Only the parties to activity {activity_id} may delete it.")
    check_version(row.version, expected, f"Activity {activity_id}")
    versioned_delete(session, Activity, row_id=activity_id, read_version=row.version, what=f"Activity {activity_id}")
    session.commit()
