"""Cooperation activities: list, get, create, update, delete, confirm, decline.

An activity is created by its provider (for itself) or by the State involved (for
itself), or by an admin. Its recommendations
must exist and be addressed to its State, whatever the State's response: work on a
noted recommendation is still cooperation worth recording.

What one party records is a claim about the other too, so it stays *unconfirmed*
until the other party (or an admin) confirms it: until then only the two parties
and admins see it, and the ranking's history signal ignores it. The other party may
decline it instead, with a reason. A party's edit of a claim is a new claim, awaiting
the other side. Once confirmed, an activity is the parties' shared record: a party
changes or deletes it only by a proposal the other party accepts
(`app.services.activity_proposals`). What an admin records or edits is confirmed.
The engagement flow records an activity confirmed by both at once
(`create_activity(..., confirmed_by=...)`). Every content is kept as a version
(`app.services.activity_versions`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Literal

from sqlalchemy import ColumnElement
from sqlmodel import Session, col, delete, func, select

from app.core.errors import Conflict, Forbidden, NotFound, UnprocessableEntity, field_error
from app.core.identity import Principal
from app.core.jsontypes import JsonObject
from app.core.pagination import PageParams
from app.models.activity import (
    Activity,
    ActivityCreate,
    ActivityDecline,
    ActivityPublic,
    ActivityRecommendation,
    ActivityUpdate,
)
from app.models.common import utcnow
from app.models.need import Need
from app.models.provider import Provider
from app.services import access, audit, events
from app.services import activity_versions as versions
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


def _check_need(session: Session, principal: Principal | None, need_id: str | None, state: str) -> None:
    """The need exists, is the State's, and (unless `principal` is None) the caller may read it."""
    if need_id is None:
        return
    need = session.get(Need, need_id)
    # A need the caller can't see is reported exactly like a missing one.
    if need is None or (principal is not None and not access.can_read_need(principal, need)):
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


def _readable_needs(session: Session, principal: Principal, need_ids: set[str]) -> set[str]:
    """Those of `need_ids` the caller may read."""
    if not need_ids:
        return set()
    if principal.is_admin:
        return need_ids
    query = select(Need.id).where(col(Need.id).in_(need_ids), access.need_read_clause(principal))
    return set(session.exec(query).all())


def present_activities(session: Session, rows: Sequence[Activity], principal: Principal) -> list[ActivityPublic]:
    """Activities as this caller may see them: with their recommendation ids, and their need only if
    the caller may read it (a public activity must not reveal a private need's id)."""
    links = recommendation_ids_of(session, [r.id for r in rows])
    readable = _readable_needs(session, principal, {r.need_id for r in rows if r.need_id})
    return [
        ActivityPublic.model_validate(
            {
                **r.model_dump(),
                "recommendation_ids": links[r.id],
                "need_id": r.need_id if r.need_id in readable else None,
                "recorded_by": r.recorded_by_role,
                "confirmed_by": r.confirmed_by_role,
            }
        )
        for r in rows
    ]


def get_activity(session: Session, *, principal: Principal, activity_id: str) -> Activity:
    """Return an activity the caller may see; 404 when missing or hidden (planned or unconfirmed, not a party)."""
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
    confirmation: str | None = None,
    awaiting: Literal["caller", "other_party"] | None = None,
) -> tuple[list[ActivityPublic], int]:
    """List the activities this caller may see, matching every given filter, oldest first.

    `awaiting`: only unconfirmed ones whose answer is up to the caller (`caller`) or to
    the other party of an activity the caller recorded (`other_party`).
    """
    conditions: list[ColumnElement[bool]] = [access.activity_read_clause(principal)]
    if awaiting is not None:
        conditions.append(access.activity_awaiting_clause(principal, answer_by=awaiting))
    if state:
        conditions.append(col(Activity.state) == state.strip().upper())
    if provider_id:
        conditions.append(col(Activity.provider_id) == provider_id)
    if need_id:
        # Filtering by a need the caller may not read finds nothing, as if it did not exist.
        readable = select(Need.id).where(col(Need.id) == need_id, access.need_read_clause(principal))
        conditions.append(col(Activity.need_id).in_(readable))
    if status:
        conditions.append(col(Activity.status) == status)
    if confirmation:
        conditions.append(col(Activity.confirmation) == confirmation)
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
    return present_activities(session, rows, principal), total


def _confirmed_by(principal: Principal) -> JsonObject:
    return {
        "confirmation": "confirmed",
        "confirmed_by_role": principal.role,
        "confirmed_by_key_id": principal.key_id,
        "confirmed_at": utcnow(),
        "decline_reason": None,
    }


def _recorded_by(principal: Principal) -> JsonObject:
    """A party's new claim: unconfirmed, awaiting the other side."""
    return {
        "confirmation": "unconfirmed",
        "recorded_by_role": principal.role,
        "recorded_by_key_id": principal.key_id,
        "confirmed_by_role": None,
        "confirmed_by_key_id": None,
        "confirmed_at": None,
        "decline_reason": None,
    }


def create_activity(
    session: Session,
    *,
    principal: Principal,
    data: ActivityCreate,
    is_demo: bool = False,
    confirmed_by: Principal | None = None,
) -> Activity:
    """Record an activity between a provider and a State; the caller must be one of them (or admin).

    A party's record is unconfirmed until the other party confirms it; an admin's is confirmed.
    `confirmed_by` records the other party's confirmation at once (an accepted engagement);
    it must be that party or an admin. `is_demo` is server-owned: only the demo loader sets
    it, never a request body.
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
        **_recorded_by(principal),
    )
    if confirmed_by is None and principal.is_admin:
        confirmed_by = principal
    if confirmed_by is not None:
        if not access.can_answer_activity(confirmed_by, row):
            raise Forbidden("An activity is confirmed by the other party to it or by an administrator.")
        for name, value in _confirmed_by(confirmed_by).items():
            setattr(row, name, value)
    _insert(session, principal, row, data.recommendation_ids)
    session.commit()
    session.refresh(row)
    return row


def _insert(
    session: Session,
    actor: Principal,
    row: Activity,
    recommendation_ids: Sequence[str],
    engagement_id: str | None = None,
) -> None:
    """Add a new activity with its links, audit row and event (the caller commits)."""
    session.add(row)
    session.flush()
    _write_links(session, row.id, recommendation_ids)
    versions.record_first(session, row)
    detail: JsonObject = {"confirmation": row.confirmation}
    if engagement_id is not None:
        detail["engagement_id"] = engagement_id
    audit.record(
        session,
        actor,
        resource="activity",
        resource_id=row.id,
        action="create",
        version_after=row.version,
        detail=detail,
    )
    emit_activity_event(session, actor, row, "activity.recorded", engagement_id=engagement_id)


def record_agreed_activity(
    session: Session,
    *,
    actor: Principal,
    state_side: Principal,
    provider_side: Principal,
    data: ActivityCreate,
    engagement_id: str,
) -> Activity:
    """Add, without committing, an activity both parties agreed to (an accepted engagement): confirmed at once.

    `state_side` and `provider_side` are the two parties as they acted (who asked, who accepted);
    the audit row names `actor`, who made the call. The caller commits with its own change.
    """
    row = Activity(**data.model_dump(exclude={"recommendation_ids"}), **_recorded_by(state_side))
    for name, value in _confirmed_by(provider_side).items():
        setattr(row, name, value)
    _insert(session, actor, row, data.recommendation_ids, engagement_id)
    return row


def emit_activity_event(
    session: Session,
    actor: Principal,
    row: Activity,
    kind: str,
    *,
    engagement_id: str | None = None,
    extra: JsonObject | None = None,
) -> None:
    """Tell both parties (inbox, webhooks, e-mail) what happened to an activity; part of the caller's transaction.

    The activity is shown as its provider may see it (`provider_view`), so a need visible to its
    State only is not named; `extra` adds to the event's data (a proposal).
    """
    session.flush()
    session.refresh(row)
    shown = present_activities(session, [row], provider_view(row))[0]
    data: JsonObject = {"activity": shown.model_dump(mode="json"), **(extra or {})}
    if engagement_id is not None:
        data["engagement_id"] = engagement_id
    events.emit(
        session,
        actor,
        type=kind,
        resource="activity",
        resource_id=row.id,
        parties=[events.state_party(row.state), events.provider_party(row.provider_id)],
        data=data,
        actor_party=events.party_of(actor, state=row.state, provider_id=row.provider_id),
    )


def provider_view(row: Activity) -> Principal:
    """The activity's provider as a caller: what both parties may be shown of it."""
    return Principal(role="provider", provider_id=row.provider_id)


def check_update(
    session: Session, principal: Principal | None, row: Activity, data: ActivityUpdate
) -> tuple[JsonObject, list[str] | None]:
    """The fields of `data` to write to `row` and its new recommendation ids (None: unchanged), or the 422.

    `principal` must be able to read a need it links (None: checked when the change was proposed).
    """
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
    return changes, new_ids


def update_activity(
    session: Session, *, principal: Principal, activity_id: str, data: ActivityUpdate, expected: frozenset[int]
) -> Activity:
    """Apply the fields sent to an activity the caller may change directly, if its ETag is still current.

    An admin's edit stays confirmed; a party's edit of a claim is a new claim (unconfirmed). A party
    does not change a confirmed activity here: it proposes the change
    (`activity_proposals.edit_activity`), and the other party accepts it.
    """
    row = get_activity(session, principal=principal, activity_id=activity_id)
    if not access.can_write_activity(principal, row):
        raise Forbidden(f"Only the parties to activity {activity_id} may change it.")
    if access.needs_other_party(principal, row):
        raise Conflict(
            f"Activity {activity_id} is confirmed by both parties: a change is a proposal the other party accepts.",
            confirmation=row.confirmation,
        )
    check_version(row.version, expected, f"Activity {activity_id}")
    changes, new_ids = check_update(session, principal, row, data)
    sent = [*changes, *(["recommendation_ids"] if new_ids is not None else [])]
    detail: JsonObject = audit.changed_fields(sent)
    if not principal.is_admin:
        # A party's edit of a claim is a new claim: the other side confirms the new content.
        changes.update(_recorded_by(principal))
        detail["confirmation"] = "unconfirmed"
    accepted_by = versions.who(principal) if principal.is_admin else None
    apply_update(session, principal, row, changes=changes, new_ids=new_ids, detail=detail, accepted_by=accepted_by)
    emit_activity_event(session, principal, row, "activity.changed")
    session.commit()
    session.refresh(row)
    return row


def apply_update(
    session: Session,
    actor: Principal,
    row: Activity,
    *,
    changes: JsonObject,
    new_ids: list[str] | None,
    detail: JsonObject,
    accepted_by: versions.Who | None,
    by: versions.Who | None = None,
    proposal_id: str | None = None,
) -> None:
    """Write checked changes (versioned, audited) and add the new content to the versions (the caller commits).

    `by` wrote the content (default: `actor`), `accepted_by` accepted it; `proposal_id`: the accepted proposal.
    """
    versions.ensure_first(session, row)
    _versioned_write(session, actor, row, values=changes, action="update", detail=detail)
    if new_ids is not None:
        _write_links(session, row.id, new_ids)
    versions.record(
        session,
        row,
        origin="proposal" if proposal_id else "edited",
        by=by or versions.who(actor),
        accepted_by=accepted_by,
        proposal_id=proposal_id,
    )


def _versioned_write(
    session: Session,
    principal: Principal,
    row: Activity,
    *,
    values: JsonObject,
    action: audit.AuditAction,
    detail: JsonObject,
) -> None:
    """Update the row if it is still at the version read (412 otherwise), with its audit row."""
    version = versioned_update(
        session, Activity, row_id=row.id, read_version=row.version, values=values, what=f"Activity {row.id}"
    )
    audit.record(
        session,
        principal,
        resource="activity",
        resource_id=row.id,
        action=action,
        version_before=row.version,
        version_after=version,
        detail=detail,
    )


def delete_activity(session: Session, *, principal: Principal, activity_id: str, expected: frozenset[int]) -> None:
    """Delete an activity (see `access.can_delete_activity`); its links, proposals and versions go with it.

    Both parties hear of it (`activity.deleted`), in the same transaction as the deletion. A party
    asks the other to agree to delete a confirmed activity instead (`activity_proposals.delete_activity`).
    """
    row = get_activity(session, principal=principal, activity_id=activity_id)
    if not access.can_delete_activity(principal, row):
        raise Forbidden(_why_not_deleted(principal, row))
    check_version(row.version, expected, f"Activity {activity_id}")
    emit_activity_event(session, principal, row, "activity.deleted")
    versioned_delete(session, Activity, row_id=activity_id, read_version=row.version, what=f"Activity {activity_id}")
    audit.record(
        session, principal, resource="activity", resource_id=activity_id, action="delete", version_before=row.version
    )
    session.commit()


def _why_not_deleted(principal: Principal, row: Activity) -> str:
    """Why `principal` may not delete `row`, and what it can do instead."""
    if not access.is_activity_party(principal, row):
        return f"Only the parties to activity {row.id} (provider {row.provider_id} and {row.state}) may delete it."
    if row.confirmation == "confirmed":
        return (
            f"Activity {row.id} is confirmed by both parties: it is their shared record, deleted only by an "
            "administrator or with the other party's agreement (a deletion proposal)."
        )
    recorder = "its provider" if row.recorded_by_role == "provider" else row.state
    return (
        f"Activity {row.id} was recorded by {recorder}: decline it instead "
        f"(POST /v1/activities/{row.id}/decline with a reason), or ask an administrator to delete it."
    )


def _check_may_answer(principal: Principal, row: Activity) -> None:
    """403 unless the caller is an admin or the party on the other side from the recorder."""
    if access.can_answer_activity(principal, row):
        return
    if not access.is_activity_party(principal, row):
        raise Forbidden(
            f"Only the parties to activity {row.id} (provider {row.provider_id} and {row.state}) "
            "or an administrator may confirm or decline it."
        )
    if row.recorded_by_role == "provider":
        raise Forbidden(
            f"Activity {row.id} was recorded by its provider; {row.state} (the State) or an administrator "
            "confirms or declines it."
        )
    raise Forbidden(
        f"Activity {row.id} was recorded by {row.state}; its provider ({row.provider_id}) or an administrator "
        "confirms or declines it."
    )


def _answer(
    session: Session,
    *,
    principal: Principal,
    activity_id: str,
    expected: frozenset[int],
    action: Literal["confirm", "decline"],
    values: JsonObject,
    detail: JsonObject,
) -> Activity:
    row = get_activity(session, principal=principal, activity_id=activity_id)
    _check_may_answer(principal, row)
    check_version(row.version, expected, f"Activity {activity_id}")
    allowed_from = ("unconfirmed", "declined") if action == "confirm" else ("unconfirmed",)
    if row.confirmation not in allowed_from:
        hint = "" if row.confirmation == "declined" else "; to change it, propose a change (the other party accepts it)"
        raise Conflict(f"Activity {activity_id} is already {row.confirmation}{hint}.", confirmation=row.confirmation)
    versions.ensure_first(session, row)
    _versioned_write(session, principal, row, values=values, action=action, detail=detail)
    if action == "confirm":
        versions.accept_latest(session, row, principal)
    emit_activity_event(session, principal, row, "activity.confirmed" if action == "confirm" else "activity.declined")
    session.commit()
    session.refresh(row)
    return row


def confirm_activity(session: Session, *, principal: Principal, activity_id: str, expected: frozenset[int]) -> Activity:
    """The other party (or an admin) agrees the activity took place as recorded: it becomes public."""
    return _answer(
        session,
        principal=principal,
        activity_id=activity_id,
        expected=expected,
        action="confirm",
        values=_confirmed_by(principal),
        detail={},
    )


def decline_activity(
    session: Session, *, principal: Principal, activity_id: str, data: ActivityDecline, expected: frozenset[int]
) -> Activity:
    """The other party (or an admin) says the activity did not take place as recorded; it stays private."""
    values = {
        "confirmation": "declined",
        "confirmed_by_role": None,
        "confirmed_by_key_id": None,
        "confirmed_at": None,
        "decline_reason": data.reason,
    }
    return _answer(
        session,
        principal=principal,
        activity_id=activity_id,
        expected=expected,
        action="decline",
        values=values,
        detail={"reason": data.reason},
    )
