"""Changing or deleting a confirmed activity: one party proposes, the other accepts or rejects.

A confirmed activity is the shared record of its two parties. A party's `PATCH` of it
(`edit_activity`) stores a *change* proposal and its `DELETE` (`delete_activity`) a
*deletion* proposal; the activity stays as confirmed, public and unchanged, until the other
party (or an admin) accepts: the change is then written as a new version, recorded by the
proposer and confirmed by the acceptor, or the activity is deleted. A rejected or withdrawn
proposal changes nothing. One proposal per activity is pending at a time (a second is a
409 naming the first). An unconfirmed claim keeps its own rules (`app.services.activities`).

Proposals and versions are seen by the two parties and admins only. Every step is audited
and tells the other party (`activity.proposed`, `activity.proposal_accepted`,
`activity.proposal_rejected`, `activity.proposal_withdrawn`) in the same transaction.
"""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from app.core.errors import Conflict, Forbidden, NotFound, UnprocessableEntity, field_error
from app.core.identity import Principal
from app.core.pagination import PageParams
from app.models.activity import Activity, ActivityUpdate
from app.models.activity_history import (
    ActivityProposal,
    ActivityProposalPublic,
    ActivityVersion,
    ActivityVersionPublic,
    ProposalAnswer,
)
from app.models.common import utcnow
from app.models.need import Need
from app.services import access, audit
from app.services import activities as activity_service
from app.services.versioning import check_version, versioned_delete, versioned_update

Outcome = Literal["accepted", "rejected", "withdrawn"]
ACTIONS: dict[Outcome, audit.AuditAction] = {"accepted": "accept", "rejected": "reject", "withdrawn": "withdraw"}
EVENTS: dict[str, str] = {
    "pending": "activity.proposed",
    "accepted": "activity.proposal_accepted",
    "rejected": "activity.proposal_rejected",
    "withdrawn": "activity.proposal_withdrawn",
}


# --- reading ---------------------------------------------------------------------------


def _history_of(session: Session, principal: Principal, activity_id: str) -> Activity:
    """The activity, if the caller may read its proposals and versions: 404 if hidden, 403 if only public."""
    row = activity_service.get_activity(session, principal=principal, activity_id=activity_id)
    if not access.can_read_activity_history(principal, row):
        raise Forbidden(
            f"Only the parties to activity {activity_id} (provider {row.provider_id} and {row.state}) "
            "and administrators see its proposals and versions."
        )
    return row


def _hide_need(session: Session, principal: Principal, values: dict[str, Any]) -> dict[str, Any]:
    """`values` without a need id the caller may not read (a State's private need, shown to its provider)."""
    need_id = values.get("need_id")
    if need_id is None:
        return values
    need = session.get(Need, need_id)
    if need is not None and access.can_read_need(principal, need):
        return values
    return {**values, "need_id": None}


def present_proposal(
    session: Session, principal: Principal, row: ActivityProposal, **overrides: Any
) -> ActivityProposalPublic:
    """A proposal as this caller may see it (`overrides`: values just written)."""
    values = {**row.model_dump(), **overrides}
    return ActivityProposalPublic.model_validate(
        {
            **values,
            "changes": _hide_need(session, principal, values["changes"]),
            "proposed_by": values["proposed_by_role"],
            "answered_by": values["answered_by_role"],
        }
    )


def list_proposals(
    session: Session, *, principal: Principal, activity_id: str, page: PageParams, status: str | None = None
) -> tuple[list[ActivityProposalPublic], int]:
    """The proposals made on an activity, newest first (its parties and admins)."""
    _history_of(session, principal, activity_id)
    conditions: list[Any] = [col(ActivityProposal.activity_id) == activity_id]
    if status is not None:
        conditions.append(col(ActivityProposal.status) == status)
    total = session.exec(select(func.count()).select_from(ActivityProposal).where(*conditions)).one()
    rows = session.exec(
        select(ActivityProposal)
        .where(*conditions)
        .order_by(col(ActivityProposal.created_at).desc(), col(ActivityProposal.id).desc())
        .offset(page.offset)
        .limit(page.limit)
    ).all()
    return [present_proposal(session, principal, r) for r in rows], total


def get_proposal(session: Session, *, principal: Principal, activity_id: str, proposal_id: str) -> ActivityProposal:
    """One proposal on an activity (its parties and admins); 404 when it is not one of the activity's."""
    _history_of(session, principal, activity_id)
    row = session.get(ActivityProposal, proposal_id)
    if row is None or row.activity_id != activity_id:
        raise NotFound(f"Proposal {proposal_id} of activity {activity_id} does not exist.")
    return row


def list_versions(
    session: Session, *, principal: Principal, activity_id: str, page: PageParams
) -> tuple[list[ActivityVersionPublic], int]:
    """Every content the activity has had, oldest first (its parties and admins)."""
    _history_of(session, principal, activity_id)
    condition = col(ActivityVersion.activity_id) == activity_id
    total = session.exec(select(func.count()).select_from(ActivityVersion).where(condition)).one()
    rows = session.exec(
        select(ActivityVersion)
        .where(condition)
        .order_by(col(ActivityVersion.number))
        .offset(page.offset)
        .limit(page.limit)
    ).all()
    items = [
        ActivityVersionPublic.model_validate(
            {
                **r.model_dump(),
                "content": _hide_need(session, principal, r.content),
                "recorded_by": r.recorded_by_role,
                "accepted_by": r.accepted_by_role,
            }
        )
        for r in rows
    ]
    return items, total


# --- proposing -------------------------------------------------------------------------


def edit_activity(
    session: Session, *, principal: Principal, activity_id: str, data: ActivityUpdate, expected: frozenset[int]
) -> Activity | ActivityProposal:
    """PATCH: change the activity directly, or (a party, once it is confirmed) propose the change."""
    row = activity_service.get_activity(session, principal=principal, activity_id=activity_id)
    if not access.needs_other_party(principal, row):
        return activity_service.update_activity(
            session, principal=principal, activity_id=activity_id, data=data, expected=expected
        )
    check_version(row.version, expected, f"Activity {activity_id}")
    changes, new_ids = activity_service.check_update(session, principal, row, data)
    if new_ids is not None:
        changes["recommendation_ids"] = new_ids
    if not changes:
        raise UnprocessableEntity(
            "Send at least one field to change.", errors=[field_error(["body"], "no field to change")]
        )
    stored = data.model_dump(mode="json", include=set(changes))
    return _propose(session, principal, row, kind="change", changes=stored)


def delete_activity(
    session: Session, *, principal: Principal, activity_id: str, expected: frozenset[int]
) -> ActivityProposal | None:
    """DELETE: delete the activity (None), or (a party, once it is confirmed) propose deleting it."""
    row = activity_service.get_activity(session, principal=principal, activity_id=activity_id)
    if not access.needs_other_party(principal, row):
        activity_service.delete_activity(session, principal=principal, activity_id=activity_id, expected=expected)
        return None
    check_version(row.version, expected, f"Activity {activity_id}")
    return _propose(session, principal, row, kind="deletion", changes={})


def _pending(session: Session, activity_id: str) -> ActivityProposal | None:
    return session.exec(select(ActivityProposal).where(col(ActivityProposal.open_key) == activity_id)).first()


def _raise_pending(existing: ActivityProposal) -> None:
    raise Conflict(
        f"A proposed {existing.kind} of activity {existing.activity_id} (proposal {existing.id}) is pending; "
        "it is answered (accepted or rejected) or withdrawn before another is made.",
        existing_id=existing.id,
        existing=f"/v1/activities/{existing.activity_id}/proposals/{existing.id}",
    )


def _propose(
    session: Session, principal: Principal, row: Activity, *, kind: str, changes: dict[str, Any]
) -> ActivityProposal:
    existing = _pending(session, row.id)
    if existing is not None:
        _raise_pending(existing)
    proposal = ActivityProposal(
        activity_id=row.id,
        kind=kind,
        changes=changes,
        base_version=row.version,
        proposed_by_role=principal.role,
        proposed_by_key_id=principal.key_id,
        open_key=row.id,
    )
    try:
        with session.begin_nested():
            session.add(proposal)
    except IntegrityError:  # another proposal was made meanwhile
        existing = _pending(session, row.id)
        if existing is None:
            raise
        _raise_pending(existing)
    detail = {"activity_id": row.id, "kind": kind, **(audit.changed_fields(list(changes)) if changes else {})}
    audit.record(
        session,
        principal,
        resource="activity_proposal",
        resource_id=proposal.id,
        action="propose",
        version_after=proposal.version,
        detail=detail,
    )
    _emit(session, principal, row, proposal)
    session.commit()
    session.refresh(proposal)
    return proposal


def _emit(session: Session, actor: Principal, row: Activity, proposal: ActivityProposal, **overrides: Any) -> None:
    """Tell both parties (the actor's side excepted) what happened to a proposal; shown as the provider sees it."""
    shown = present_proposal(session, activity_service.provider_view(row), proposal, **overrides)
    kind = EVENTS[shown.status]
    activity_service.emit_activity_event(session, actor, row, kind, extra={"proposal": shown.model_dump(mode="json")})


# --- answering -------------------------------------------------------------------------


def _answerable(
    session: Session,
    principal: Principal,
    activity_id: str,
    proposal_id: str,
    expected: frozenset[int],
    outcome: Outcome,
) -> tuple[Activity, ActivityProposal]:
    proposal = get_proposal(session, principal=principal, activity_id=activity_id, proposal_id=proposal_id)
    row = activity_service.get_activity(session, principal=principal, activity_id=activity_id)
    if outcome == "withdrawn":
        if not access.can_withdraw_proposal(principal, row, proposal.proposed_by_role):
            raise Forbidden(f"Proposal {proposal_id} is withdrawn by the party that made it or an administrator.")
    elif not access.can_answer_proposal(principal, row, proposal.proposed_by_role):
        other = row.state if proposal.proposed_by_role == "provider" else f"its provider ({row.provider_id})"
        raise Forbidden(
            f"Proposal {proposal_id} was made by the {proposal.proposed_by_role}; {other} or an administrator "
            "accepts or rejects it."
        )
    check_version(proposal.version, expected, f"Proposal {proposal_id}")
    if proposal.status != "pending":
        raise Conflict(f"Proposal {proposal_id} is already {proposal.status}.", proposal_status=proposal.status)
    return row, proposal


def _close(
    session: Session, principal: Principal, proposal: ActivityProposal, outcome: Outcome, data: ProposalAnswer
) -> dict[str, Any]:
    """Write the proposal's answer (versioned); return the values written."""
    values: dict[str, Any] = {
        "status": outcome,
        "answered_by_role": principal.role,
        "answered_by_key_id": principal.key_id,
        "answered_at": utcnow(),
        "answer_message": data.message,
        "open_key": None,
    }
    version = versioned_update(
        session,
        ActivityProposal,
        row_id=proposal.id,
        read_version=proposal.version,
        values=values,
        what=f"Proposal {proposal.id}",
    )
    return {**values, "version": version, "updated_at": utcnow()}


def answer_proposal(
    session: Session,
    *,
    principal: Principal,
    activity_id: str,
    proposal_id: str,
    outcome: Outcome,
    data: ProposalAnswer,
    expected: frozenset[int],
) -> ActivityProposalPublic:
    """Accept, reject (the other party or an admin) or withdraw (the proposer or an admin) a pending proposal.

    Accepting a change writes it to the activity as a new version, recorded by the proposer and
    confirmed by the acceptor; accepting a deletion deletes the activity. Requires the proposal's ETag.
    """
    row, proposal = _answerable(session, principal, activity_id, proposal_id, expected, outcome)
    if outcome == "accepted" and proposal.kind == "change":
        _apply_change(session, principal, row, proposal)
    written = _close(session, principal, proposal, outcome, data)
    audit.record(
        session,
        principal,
        resource="activity_proposal",
        resource_id=proposal.id,
        action=ACTIONS[outcome],
        version_before=proposal.version,
        version_after=written["version"],
        detail={"activity_id": row.id, "kind": proposal.kind},
    )
    _emit(session, principal, row, proposal, **written)
    answer = present_proposal(session, principal, proposal, **written)
    if outcome == "accepted" and proposal.kind == "deletion":
        # Its proposals and versions go with it; the audit trail and both parties' inboxes keep the story.
        versioned_delete(session, Activity, row_id=row.id, read_version=row.version, what=f"Activity {row.id}")
        audit.record(
            session, principal, resource="activity", resource_id=row.id, action="delete", version_before=row.version
        )
    session.commit()
    return answer


def _apply_change(session: Session, principal: Principal, row: Activity, proposal: ActivityProposal) -> None:
    """Write an accepted change, checked again against the activity as it is now (a need may be gone)."""
    data = ActivityUpdate.model_validate(proposal.changes)
    changes, new_ids = activity_service.check_update(session, None, row, data)
    changes.update(
        confirmation="confirmed",
        recorded_by_role=proposal.proposed_by_role,
        recorded_by_key_id=proposal.proposed_by_key_id,
        confirmed_by_role=principal.role,
        confirmed_by_key_id=principal.key_id,
        confirmed_at=utcnow(),
        decline_reason=None,
    )
    sent = [*data.model_dump(exclude_unset=True)]
    activity_service.apply_update(
        session,
        principal,
        row,
        changes=changes,
        new_ids=new_ids,
        detail={**audit.changed_fields(sent), "proposal_id": proposal.id},
        by=(proposal.proposed_by_role, proposal.proposed_by_key_id),
        accepted_by=(principal.role, principal.key_id),
        proposal_id=proposal.id,
    )
