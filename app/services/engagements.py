"""Engagements: a State asks a provider for help with a need (an invitation) or a provider offers it (an offer).

The other party accepts or declines; the party that started may withdraw while it is
`proposed`. Accepting records a **confirmed** activity (planned, both parties, the need and
its recommendations) in the same transaction, and moves an open need to `in_progress`.
One open engagement (proposed or accepted) per need and provider: a second is a 409 naming
the first. Every write is audited and emits an event to both parties (`app.services.events`).

What engagements teach the ranking (through its inputs, `declined_out_of_scope` and
`accepted_pairs`): a provider that declined a need as `out_of_scope` is not suggested again
for it, and an accepted engagement counts as cooperation in the history signal. Nothing of an
engagement is public.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from app.core.errors import Conflict, Forbidden, NotFound, UnprocessableEntity, field_error
from app.core.identity import Principal
from app.core.jsontypes import JsonObject
from app.core.pagination import PageParams
from app.models.activity import ActivityCreate
from app.models.common import utcnow
from app.models.engagement import (
    Engagement,
    EngagementAccept,
    EngagementCreate,
    EngagementDecline,
    EngagementPublic,
)
from app.models.need import Need
from app.models.provider import Provider
from app.services import access, audit, events
from app.services import activities as activity_service
from app.services import needs as need_service
from app.services.versioning import check_version, versioned_update

__all__ = [
    "accept_engagement",
    "accepted_pairs",
    "create_engagement",
    "decline_engagement",
    "declined_out_of_scope",
    "get_engagement",
    "list_engagements",
    "present_engagements",
    "withdraw_engagement",
]


def _open_key(need_id: str, provider_id: str) -> str:
    return f"{need_id}:{provider_id}"


def present_engagements(rows: Sequence[Engagement]) -> list[EngagementPublic]:
    """Engagements as their parties and admins see them."""
    return [
        EngagementPublic.model_validate(
            {**row.model_dump(), "initiated_by": row.initiated_by_role, "answered_by": row.answered_by_role}
        )
        for row in rows
    ]


def get_engagement(session: Session, *, principal: Principal, engagement_id: str) -> Engagement:
    """An engagement the caller is a party to (or any, for admins); 404 otherwise, as if it did not exist."""
    row = session.get(Engagement, engagement_id)
    if row is None or not (
        principal.is_admin or access.engagement_side(principal, state=row.state, provider_id=row.provider_id)
    ):
        raise NotFound(f"Engagement {engagement_id} does not exist.")
    return row


def list_engagements(
    session: Session,
    *,
    principal: Principal,
    page: PageParams,
    status: str | None = None,
    need_id: str | None = None,
    provider_id: str | None = None,
    direction: str | None = None,
) -> tuple[list[Engagement], int]:
    """The engagements the caller is a party to (all, for admins), newest first; every filter given must match."""
    conditions: list[ColumnElement[bool]] = [
        access.engagement_read_clause(principal, col(Engagement.state), col(Engagement.provider_id))
    ]
    for column, value in (
        (Engagement.status, status),
        (Engagement.need_id, need_id),
        (Engagement.provider_id, provider_id),
        (Engagement.direction, direction),
    ):
        if value is not None:
            conditions.append(col(column) == value)
    total = session.exec(select(func.count()).select_from(Engagement).where(*conditions)).one()
    rows = session.exec(
        select(Engagement)
        .where(*conditions)
        .order_by(col(Engagement.created_at).desc(), col(Engagement.id).desc())
        .offset(page.offset)
        .limit(page.limit)
    ).all()
    return list(rows), total


def _raise_if_open(session: Session, need_id: str, provider_id: str) -> None:
    existing = session.exec(
        select(Engagement.id, Engagement.status).where(Engagement.open_key == _open_key(need_id, provider_id))
    ).first()
    if existing is not None:
        raise Conflict(
            f"Engagement {existing[0]} between this need and this provider is already {existing[1]}; "
            "answer or withdraw that one instead.",
            existing_id=existing[0],
            existing=f"/v1/engagements/{existing[0]}",
        )


def _parties(principal: Principal, need: Need, data: EngagementCreate) -> tuple[str, str]:
    """(provider id, direction) of a new engagement, or the Problem saying why this caller may not start it."""
    if principal.role == "provider":
        if principal.provider_id is None:
            raise Forbidden("This provider key is not bound to a provider yet; register one with POST /v1/providers.")
        if data.provider_id is not None and data.provider_id != principal.provider_id:
            raise Forbidden(
                f"This key acts for provider {principal.provider_id}; it offers help for itself only "
                "(leave `provider_id` out)."
            )
        return principal.provider_id, "offer"
    if principal.role == "state" and principal.state != need.state:
        raise Forbidden(f"Need {need.id} belongs to {need.state}; only its State asks partners for it.")
    if principal.role not in ("state", "admin"):
        raise Forbidden("Engagements are started by the need's State, a provider or an administrator.")
    if data.provider_id is None:
        raise UnprocessableEntity(
            "`provider_id` is required: the provider you ask.",
            errors=[field_error(["body", "provider_id"], "required: the provider the State asks for help")],
        )
    return data.provider_id, "invitation"


def create_engagement(session: Session, *, principal: Principal, need_id: str, data: EngagementCreate) -> Engagement:
    """Start an engagement on a need: the State invites a provider, or a provider offers its help."""
    need = need_service.get_need(session, principal=principal, need_id=need_id)
    provider_id, direction = _parties(principal, need, data)
    if need.status == "closed":
        raise Conflict(f"Need {need.id} is closed; reopen it before asking partners.", status=need.status)
    if direction == "invitation" and need.visibility == "state_only":
        raise Conflict(
            f"Need {need.id} is visible to its State only, so a provider could not read it; "
            "make it visible to providers (or public) first.",
            visibility=need.visibility,
        )
    provider = session.get(Provider, provider_id)
    if provider is None:
        raise UnprocessableEntity(
            f"Provider {provider_id} does not exist.",
            errors=[field_error(["body", "provider_id"], f"no provider with id {provider_id}")],
        )
    _raise_if_open(session, need.id, provider.id)
    row = Engagement(
        need_id=need.id,
        provider_id=provider.id,
        state=need.state,
        direction=direction,
        message=data.message,
        initiated_by_role=principal.role,
        initiated_by_key_id=principal.key_id,
        open_key=_open_key(need.id, provider.id),
    )
    session.add(row)
    try:
        session.flush()
        audit.record(
            session,
            principal,
            resource="engagement",
            resource_id=row.id,
            action="create",
            version_after=1,
            detail={"need_id": need.id, "provider_id": provider.id, "direction": direction},
        )
        _emit(session, principal, row, "engagement.proposed")
        session.commit()
    except IntegrityError:
        # A concurrent request opened the same pair first (unique open_key): name it.
        session.rollback()
        _raise_if_open(session, need_id, provider_id)
        raise
    session.refresh(row)
    return row


def _transition(
    session: Session,
    *,
    principal: Principal,
    engagement_id: str,
    expected: frozenset[int],
    side: str,
    verb: str,
) -> Engagement:
    """Load an engagement for a transition: 404 if hidden, 403 for the wrong party, 412 stale, 409 not proposed."""
    row = get_engagement(session, principal=principal, engagement_id=engagement_id)
    initiator = "state" if row.direction == "invitation" else "provider"
    wanted = access.answering_side(row.direction) if side == "answer" else initiator
    if not principal.is_admin and access.engagement_side(principal, state=row.state, provider_id=row.provider_id) != (
        wanted
    ):
        who = row.state if wanted == "state" else f"provider {row.provider_id}"
        raise Forbidden(f"Engagement {row.id} is {verb} by {who} (or an administrator), not by this key.")
    check_version(row.version, expected, f"Engagement {engagement_id}")
    if row.status != "proposed":
        raise Conflict(
            f"Engagement {engagement_id} is already {row.status}; only a proposed engagement can be {verb}.",
            status=row.status,
        )
    return row


def _answered(principal: Principal) -> JsonObject:
    return {"answered_by_role": principal.role, "answered_by_key_id": principal.key_id, "answered_at": utcnow()}


def _write(
    session: Session,
    principal: Principal,
    row: Engagement,
    *,
    values: JsonObject,
    action: audit.AuditAction,
    event: str,
    detail: JsonObject,
) -> Engagement:
    version = versioned_update(
        session, Engagement, row_id=row.id, read_version=row.version, values=values, what=f"Engagement {row.id}"
    )
    audit.record(
        session,
        principal,
        resource="engagement",
        resource_id=row.id,
        action=action,
        version_before=row.version,
        version_after=version,
        detail=detail,
    )
    session.refresh(row)
    _emit(session, principal, row, event)
    session.commit()
    session.refresh(row)
    return row


def accept_engagement(
    session: Session, *, principal: Principal, engagement_id: str, data: EngagementAccept, expected: frozenset[int]
) -> Engagement:
    """The other party accepts: a confirmed activity is recorded, and an open need moves to in_progress."""
    row = _transition(
        session, principal=principal, engagement_id=engagement_id, expected=expected, side="answer", verb="accepted"
    )
    need = session.get(Need, row.need_id)
    provider = session.get(Provider, row.provider_id)
    assert need is not None and provider is not None  # the engagement goes with either (CASCADE)
    recommendation_ids = need_service.recommendation_ids_of(session, [need.id])[need.id]
    modality = next(
        (m for m in need.modalities if m in provider.modalities),
        (need.modalities or provider.modalities or ["other"])[0],
    )
    # Both parties agree: whoever asked recorded it, whoever accepted confirmed it.
    asker_key = row.initiated_by_key_id if row.initiated_by_role != "admin" else None
    answer_key = principal.key_id if not principal.is_admin else None
    asking, answering = ("state", "provider") if row.direction == "invitation" else ("provider", "state")
    keys = {asking: asker_key, answering: answer_key}
    activity = activity_service.record_agreed_activity(
        session,
        actor=principal,
        state_side=Principal(role="state", state=row.state, key_id=keys["state"]),
        provider_side=Principal(role="provider", provider_id=row.provider_id, key_id=keys["provider"]),
        data=ActivityCreate(
            provider_id=row.provider_id,
            state=row.state,
            need_id=need.id,
            recommendation_ids=recommendation_ids,
            title=need.title,
            description="",  # what was done is reported once it is done; the request stays on the engagement
            modality=modality,  # type: ignore[arg-type]  # validated Modality values, stored as list[str]
            status="planned",
        ),
        engagement_id=row.id,
    )
    if need.status == "open":
        moved = session.exec(
            update(Need)
            .where(col(Need.id) == need.id, col(Need.status) == "open")
            .values(status="in_progress", version=Need.version + 1, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        if moved.rowcount == 1:
            audit.record(
                session,
                principal,
                resource="need",
                resource_id=need.id,
                action="update",
                version_before=need.version,
                version_after=need.version + 1,
                detail={"fields": ["status"], "status": "in_progress", "engagement_id": row.id},
            )
    values = {"status": "accepted", "answer_message": data.message, "activity_id": activity.id, **_answered(principal)}
    return _write(
        session,
        principal,
        row,
        values=values,
        action="accept",
        event="engagement.accepted",
        detail={"activity_id": activity.id},
    )


def decline_engagement(
    session: Session, *, principal: Principal, engagement_id: str, data: EngagementDecline, expected: frozenset[int]
) -> Engagement:
    """The other party declines, with a reason (never shown publicly)."""
    row = _transition(
        session, principal=principal, engagement_id=engagement_id, expected=expected, side="answer", verb="declined"
    )
    values = {
        "status": "declined",
        "decline_reason": data.reason,
        "answer_message": data.message,
        "open_key": None,
        **_answered(principal),
    }
    return _write(
        session,
        principal,
        row,
        values=values,
        action="decline",
        event="engagement.declined",
        detail={"reason": data.reason},
    )


def withdraw_engagement(
    session: Session, *, principal: Principal, engagement_id: str, expected: frozenset[int]
) -> Engagement:
    """The party that started a proposed engagement withdraws it."""
    row = _transition(
        session, principal=principal, engagement_id=engagement_id, expected=expected, side="start", verb="withdrawn"
    )
    values = {"status": "withdrawn", "open_key": None, **_answered(principal)}
    return _write(session, principal, row, values=values, action="withdraw", event="engagement.withdrawn", detail={})


def _emit(session: Session, principal: Principal, row: Engagement, kind: str) -> None:
    events.emit(
        session,
        principal,
        type=kind,
        resource="engagement",
        resource_id=row.id,
        parties=[events.state_party(row.state), events.provider_party(row.provider_id)],
        data={"engagement": present_engagements([row])[0].model_dump(mode="json")},
        actor_party=events.party_of(principal, state=row.state, provider_id=row.provider_id),
    )


# --- what engagements teach the ranking -------------------------------------------------------


def declined_out_of_scope(session: Session, *, need_id: str | None = None, provider_id: str | None = None) -> set[str]:
    """Providers that declined `need_id` as out of their scope, or the needs `provider_id` so declined."""
    query = select(Engagement.need_id, Engagement.provider_id).where(
        col(Engagement.status) == "declined", col(Engagement.decline_reason) == "out_of_scope"
    )
    if need_id is not None:
        query = query.where(col(Engagement.need_id) == need_id)
    if provider_id is not None:
        query = query.where(col(Engagement.provider_id) == provider_id)
    rows = session.exec(query).all()
    return {pid for _, pid in rows} if need_id is not None else {nid for nid, _ in rows}


def accepted_pairs(session: Session) -> list[tuple[str, str, list[str]]]:
    """(provider id, State, the need's themes) of every accepted engagement: cooperation agreed by both."""
    rows = session.exec(
        select(Engagement.provider_id, Engagement.state, Need.themes)
        .join(Need, col(Need.id) == col(Engagement.need_id))
        .where(col(Engagement.status) == "accepted")
    ).all()
    return [(pid, state, list(themes or [])) for pid, state, themes in rows]
