"""The inbox: what waits on a party and what happened to its engagements, activities and alerts.

Items are written by the worker from the outbox (`app.worker.outbox`), one per event and
party, never for the party that acted; `add_notice` keeps each one unique by its
`dedupe_key`. Whether an item still waits on its reader (`action_required`: an engagement to
answer, an activity to confirm) is checked when the inbox is read, so it never goes stale.
Every key of a State, or of a provider, reads and marks the same inbox.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import ColumnElement, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from app.core.errors import UnprocessableEntity, field_error
from app.core.identity import Principal
from app.core.pagination import PageParams
from app.models.activity import Activity
from app.models.activity_history import ActivityProposal
from app.models.common import utcnow
from app.models.engagement import Engagement
from app.models.events import InboxItem, InboxItemPublic, InboxPage, InboxRead, InboxReadResult, InboxWaiting
from app.services import access, audit, events

WAITING_TYPES = {
    "engagement.proposed": "engagement",
    "activity.recorded": "activity",
    "activity.changed": "activity",
    "activity.proposed": "proposal",
}


ADMIN_PARTY = "admin"  # the administrators' shared inbox (registration requests)


def party_for(principal: Principal) -> str | None:
    """The inbox a key reads: its State's or its provider's, the administrators' (none for unbound keys)."""
    if principal.is_admin:
        return ADMIN_PARTY
    return events.party_of(principal, state=principal.state, provider_id=principal.provider_id)


def add_notice(
    session: Session,
    *,
    party: str,
    type: str,
    resource: str,
    resource_id: str,
    need_id: str | None,
    title: str,
    data: Mapping[str, object],
    dedupe_key: str,
) -> bool:
    """Add an item to a party's inbox unless one with `dedupe_key` exists; True when added."""
    if session.exec(select(InboxItem.id).where(col(InboxItem.dedupe_key) == dedupe_key)).first() is not None:
        return False
    item = InboxItem(
        party=party,
        type=type,
        resource=resource,
        resource_id=resource_id,
        need_id=need_id,
        title=title[:500],
        data=dict(data),
        dedupe_key=dedupe_key,
    )
    try:
        with session.begin_nested():
            session.add(item)
    except IntegrityError:  # another worker wrote the same notice meanwhile
        return False
    return True


def _waiting_engagements(session: Session, principal: Principal, ids: list[str] | None = None) -> set[str]:
    """Proposed engagements the caller answers (among `ids` when given)."""
    conditions: list[ColumnElement[bool]] = [
        col(Engagement.status) == "proposed",
        access.engagement_read_clause(principal, col(Engagement.state), col(Engagement.provider_id)),
    ]
    if principal.role == "state":
        conditions.append(col(Engagement.direction) == "offer")
    elif principal.role == "provider":
        conditions.append(col(Engagement.direction) == "invitation")
    if ids is not None:
        conditions.append(col(Engagement.id).in_(ids))
    return set(session.exec(select(Engagement.id).where(*conditions)).all())


def _waiting_activities(session: Session, principal: Principal, ids: list[str] | None = None) -> set[str]:
    """Unconfirmed activities the other party recorded, which the caller confirms (among `ids` when given)."""
    if principal.role == "state" and principal.state:
        mine: ColumnElement[bool] = col(Activity.state) == principal.state
    elif principal.role == "provider" and principal.provider_id:
        mine = col(Activity.provider_id) == principal.provider_id
    else:
        return set()
    conditions: list[ColumnElement[bool]] = [
        mine,
        col(Activity.confirmation) == "unconfirmed",
        func.coalesce(col(Activity.recorded_by_role), "") != principal.role,
    ]
    if ids is not None:
        conditions.append(col(Activity.id).in_(ids))
    return set(session.exec(select(Activity.id).where(*conditions)).all())


def _waiting_proposals(session: Session, principal: Principal, ids: list[str] | None = None) -> dict[str, str]:
    """{proposal id: activity id} of the pending proposals the caller accepts or rejects (among `ids` when given)."""
    party = access.activity_party_clause(principal)
    if party is None or principal.role not in ("state", "provider"):
        return {}
    conditions: list[ColumnElement[bool]] = [
        col(ActivityProposal.status) == "pending",
        col(ActivityProposal.proposed_by_role) != principal.role,
        col(ActivityProposal.activity_id).in_(select(Activity.id).where(party)),
    ]
    if ids is not None:
        conditions.append(col(ActivityProposal.id).in_(ids))
    return dict(session.exec(select(ActivityProposal.id, ActivityProposal.activity_id).where(*conditions)).all())


def waiting(session: Session, *, principal: Principal) -> InboxWaiting:
    """How many engagements and activities (a claim to confirm, a proposal to answer) wait on the caller now."""
    if party_for(principal) in (None, ADMIN_PARTY):  # administrators answer no engagement or activity of their own
        return InboxWaiting(engagements=0, activities=0)
    return InboxWaiting(
        engagements=len(_waiting_engagements(session, principal)),
        activities=len(waiting_activity_ids(session, principal=principal)),
    )


def waiting_activity_ids(session: Session, *, principal: Principal) -> set[str]:
    """The activities waiting for the caller: a claim to confirm, or another party's proposal to answer."""
    return _waiting_activities(session, principal) | set(_waiting_proposals(session, principal).values())


def list_inbox(
    session: Session, *, principal: Principal, page: PageParams, unread: bool | None = None, type: str | None = None
) -> InboxPage:
    """The caller's inbox, newest first, with unread counts and what waits on it."""
    party = party_for(principal) or ""
    conditions: list[ColumnElement[bool]] = [col(InboxItem.party) == party]
    if unread is True:
        conditions.append(col(InboxItem.read_at).is_(None))
    elif unread is False:
        conditions.append(col(InboxItem.read_at).is_not(None))
    if type is not None:
        conditions.append(col(InboxItem.type) == type)
    total = session.exec(select(func.count()).select_from(InboxItem).where(*conditions)).one()
    rows = session.exec(
        select(InboxItem).where(*conditions).order_by(col(InboxItem.id).desc()).offset(page.offset).limit(page.limit)
    ).all()
    by_type = dict(
        session.exec(
            select(InboxItem.type, func.count())
            .where(col(InboxItem.party) == party, col(InboxItem.read_at).is_(None))
            .group_by(col(InboxItem.type))
        ).all()
    )
    engagement_ids = [r.resource_id for r in rows if WAITING_TYPES.get(r.type) == "engagement"]
    activity_ids = [r.resource_id for r in rows if WAITING_TYPES.get(r.type) == "activity"]
    open_engagements = _waiting_engagements(session, principal, engagement_ids) if engagement_ids else set()
    open_activities = _waiting_activities(session, principal, activity_ids) if activity_ids else set()
    proposal_ids = [str(_proposal_id(r)) for r in rows if WAITING_TYPES.get(r.type) == "proposal"]
    open_proposals = set(_waiting_proposals(session, principal, proposal_ids)) if proposal_ids else set()
    items = [
        InboxItemPublic(
            id=r.id or 0,
            type=r.type,  # type: ignore[arg-type]  # the column holds only the InboxType values written here
            title=r.title,
            resource=r.resource,
            resource_id=r.resource_id,
            need_id=r.need_id,
            action_required=_still_waiting(r, open_engagements, open_activities, open_proposals),
            read=r.read_at is not None,
            read_at=r.read_at,
            created_at=r.created_at,
            data=r.data,
        )
        for r in rows
    ]
    return InboxPage(
        items=items,
        total=total,
        limit=page.limit,
        offset=page.offset,
        unread=sum(by_type.values()),
        unread_by_type=by_type,
        waiting=waiting(session, principal=principal),
    )


def _proposal_id(item: InboxItem) -> object:
    proposal = item.data.get("proposal")
    return proposal.get("id") if isinstance(proposal, dict) else None


def _still_waiting(item: InboxItem, engagements: set[str], activities: set[str], proposals: set[str]) -> bool:
    """Whether an item still waits on its reader: its engagement, claim or proposal is still unanswered."""
    kind = WAITING_TYPES.get(item.type)
    if kind == "engagement":
        return item.resource_id in engagements
    if kind == "activity":
        return item.resource_id in activities
    return kind == "proposal" and _proposal_id(item) in proposals


def mark_read(session: Session, *, principal: Principal, data: InboxRead) -> InboxReadResult:
    """Mark items of the caller's inbox read (some by id, or all); ids not in it are a 422 naming each."""
    party = party_for(principal) or ""
    conditions: list[ColumnElement[bool]] = [col(InboxItem.party) == party, col(InboxItem.read_at).is_(None)]
    if data.ids is not None:
        found = set(
            session.exec(
                select(InboxItem.id).where(col(InboxItem.party) == party, col(InboxItem.id).in_(data.ids))
            ).all()
        )
        unknown = [(i, item_id) for i, item_id in enumerate(data.ids) if item_id not in found]
        if unknown:
            raise UnprocessableEntity(
                f"{len(unknown)} item(s) are not in your inbox: {', '.join(str(u) for _, u in unknown[:10])}.",
                errors=[field_error(["body", "ids", i], f"no item {item_id} in your inbox") for i, item_id in unknown],
            )
        conditions.append(col(InboxItem.id).in_(data.ids))
    marked = int(
        session.exec(
            update(InboxItem).where(*conditions).values(read_at=utcnow()).execution_options(synchronize_session=False)
        ).rowcount
        or 0
    )
    audit.record(
        session, principal, resource="inbox", resource_id=party or "none", action="read", detail={"marked": marked}
    )
    session.commit()
    left = session.exec(
        select(func.count())
        .select_from(InboxItem)
        .where(col(InboxItem.party) == party, col(InboxItem.read_at).is_(None))
    ).one()
    return InboxReadResult(marked=marked, unread=left)
