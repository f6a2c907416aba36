"""Events: `emit` adds one to the outbox in the caller's transaction, so it exists if and only if its change does.

Every write that others should hear of (an engagement proposed or answered, an activity
recorded, changed, confirmed or declined, a need filed or changed) calls `emit` before it
commits, beside its audit row. Nothing is sent here: the worker (`app.worker.outbox`)
reads the outbox, writes each party's inbox items, webhook deliveries and e-mails, and
evaluates the providers' alerts, each event in one transaction of its own.

A *party* is who an inbox, a webhook or an e-mail address belongs to: a State
(`state:MEX`) or a provider (`provider:<id>`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlmodel import Session

from app.models.events import OutboxEvent
from app.services.audit import Actor

# Events that reach inboxes, webhooks and e-mail; need.filed and need.changed only wake the alerts.
NEED_EVENTS = frozenset({"need.filed", "need.changed"})


def state_party(state: str) -> str:
    return f"state:{state}"


def provider_party(provider_id: str) -> str:
    return f"provider:{provider_id}"


def party_of(actor: Actor, *, state: str | None = None, provider_id: str | None = None) -> str | None:
    """The party a key acts for (its State, or its provider), or None (admins, unbound keys, the command line)."""
    if actor.role == "state" and state:
        return state_party(state)
    if actor.role == "provider" and provider_id:
        return provider_party(provider_id)
    return None


def split_party(party: str) -> tuple[str, str]:
    """("state", "MEX") or ("provider", "<id>")."""
    kind, _, value = party.partition(":")
    return kind, value


def emit(
    session: Session,
    actor: Actor,
    *,
    type: str,
    resource: str,
    resource_id: str,
    parties: Sequence[str],
    data: Mapping[str, object],
    actor_party: str | None = None,
) -> None:
    """Add an event to the session; the caller's commit writes it with the change it describes."""
    session.add(
        OutboxEvent(
            type=type,
            resource=resource,
            resource_id=resource_id,
            parties=list(dict.fromkeys(parties)),
            actor_party=actor_party,
            actor_role=actor.role,
            data=dict(data),
        )
    )
