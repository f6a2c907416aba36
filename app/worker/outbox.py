"""The worker's reading of the outbox: each event becomes inbox items, webhook deliveries, e-mails and alerts.

`process_batch` claims unprocessed events (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so
several workers share the work; SQLite's single writer serialises them), fans each out in a
savepoint and marks it processed, all in one transaction: a worker killed half-way leaves
the events unprocessed, to be done again in full, never in part.

- engagement.* and activity.*: an inbox item (and e-mail) for each party but the one that
  acted; a webhook delivery to every endpoint of either party that wants the event.
  (The activity an accepted engagement records is announced by `engagement.accepted`, so its
  `activity.recorded` goes to webhooks only.)
- need.filed and need.changed: the need is scored for every provider with the service's
  ranking, and each subscription it fits gets one `need.matched` notice and webhook.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app.core.db import intending_to_write
from app.match_index.index import MatchIndex
from app.models.common import utcnow
from app.models.events import OutboxEvent
from app.models.mail import EmailMessage
from app.models.need import Need
from app.models.provider import Provider
from app.models.webhook import WebhookDelivery
from app.reference.countries import display_name
from app.services import events, inbox, mail, subscriptions, webhooks
from app.services import matching as matching_service
from app.services import needs as need_service
from app.services.analytics import scores as best_scores

logger = logging.getLogger("app.worker")

REASONS = {
    "out_of_scope": "outside its field of work",
    "no_capacity": "no capacity now",
    "no_funding": "no funding",
    "timing": "the timing does not suit",
    "other": "another reason",
}


@dataclass(frozen=True, slots=True)
class Notice:
    """One thing to tell one party: an inbox item, a webhook message and an e-mail."""

    party: str
    type: str
    resource: str
    resource_id: str
    need_id: str | None
    title: str
    data: Mapping[str, object]
    dedupe_key: str
    msg_id: str
    when: datetime


def tell(session: Session, notice: Notice, *, smtp: bool, public_url: str) -> bool:
    """Write a notice to the party's inbox, webhooks and e-mail queue, once; True when new."""
    added = inbox.add_notice(
        session,
        party=notice.party,
        type=notice.type,
        resource=notice.resource,
        resource_id=notice.resource_id,
        need_id=notice.need_id,
        title=notice.title,
        data=notice.data,
        dedupe_key=notice.dedupe_key,
    )
    if not added:
        return False
    webhooks.enqueue(
        session, party=notice.party, event_type=notice.type, data=notice.data, msg_id=notice.msg_id, when=notice.when
    )
    if smtp:
        _mail(session, notice.party, notice.title, public_url)
    return True


def _mail(session: Session, party: str, title: str, public_url: str) -> None:
    """The e-mail of a notice: its sentence and a link to the inbox."""
    link = f"{public_url.rstrip('/')}/inbox"
    mail.enqueue(session, party=party, subject=title[:300], body=f"{title}\n\nYour inbox: {link}")


class Names:
    """Names of States and providers for titles, read once per batch."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._providers: dict[str, str] = {}

    def provider(self, provider_id: str) -> str:
        if provider_id not in self._providers:
            row = self.session.get(Provider, provider_id)
            self._providers[provider_id] = row.name if row is not None else "A provider"
        return self._providers[provider_id]

    def party(self, party: str | None, role: str) -> str:
        if party is None:
            return "An administrator" if role == "admin" else "The service"
        kind, value = events.split_party(party)
        return display_name(value) if kind == "state" else self.provider(value)


def _engagement_title(event: OutboxEvent, names: Names, need_title: str) -> str:
    item = event.data.get("engagement", {})
    state, provider = display_name(str(item.get("state"))), names.provider(str(item.get("provider_id")))
    actor = names.party(event.actor_party, event.actor_role)
    quoted = f"“{need_title}”"
    if event.type == "engagement.proposed":
        if item.get("direction") == "invitation":
            return f"{state} asks {provider} for help with {quoted}"
        return f"{provider} offers help with {quoted} ({state})"
    if event.type == "engagement.accepted":
        return f"{actor} accepted the request about {quoted}: the activity is recorded, confirmed by both"
    if event.type == "engagement.declined":
        reason = REASONS.get(str(item.get("decline_reason")), "another reason")
        return f"{actor} declined the request about {quoted} ({reason})"
    return f"{actor} withdrew the request about {quoted}"


def _activity_title(event: OutboxEvent, names: Names) -> str:
    item = event.data.get("activity", {})
    actor = names.party(event.actor_party, event.actor_role)
    quoted = f"“{item.get('title', '')}”"
    waiting = item.get("confirmation") == "unconfirmed"
    if event.type == "activity.recorded":
        return f"{actor} recorded the activity {quoted}" + (": please confirm or decline it" if waiting else "")
    if event.type == "activity.changed":
        return f"{actor} changed the activity {quoted}" + (": please confirm the new content" if waiting else "")
    if event.type == "activity.confirmed":
        return f"{actor} confirmed the activity {quoted}"
    if event.type == "activity.deleted":
        return f"{actor} deleted the activity {quoted}"
    if event.type.startswith("activity.proposal") or event.type == "activity.proposed":
        return _proposal_title(event, actor, quoted)
    return f"{actor} declined the activity {quoted}"


def _proposal_title(event: OutboxEvent, actor: str, quoted: str) -> str:
    proposal = event.data.get("proposal", {})
    deletion = proposal.get("kind") == "deletion"
    if event.type == "activity.proposed":
        if deletion:
            return f"{actor} asks to delete the activity {quoted}: please accept or reject"
        fields = ", ".join(sorted(proposal.get("changes", {})))
        return f"{actor} proposes a change to the activity {quoted} ({fields}): please accept or reject it"
    what = f"deleting the activity {quoted}" if deletion else f"the change to the activity {quoted}"
    if event.type == "activity.proposal_accepted":
        return f"{actor} accepted {what}" + (": it is deleted" if deletion else "")
    if event.type == "activity.proposal_rejected":
        return f"{actor} rejected {what}"
    return f"{actor} withdrew the proposal of {what}"


def _party_event(session: Session, event: OutboxEvent, names: Names, *, smtp: bool, public_url: str) -> None:
    msg_id = webhooks.message_id("event", str(event.id))
    for party in event.parties:
        webhooks.enqueue(
            session, party=party, event_type=event.type, data=event.data, msg_id=msg_id, when=event.occurred_at
        )
    if event.resource == "activity" and event.data.get("engagement_id"):
        return  # told by engagement.accepted
    if event.resource == "engagement":
        need_id = str(event.data.get("engagement", {}).get("need_id"))
        need = session.get(Need, need_id)
        title = _engagement_title(event, names, need.title if need is not None else "a need")
    else:
        need_id = event.data.get("activity", {}).get("need_id")
        title = _activity_title(event, names)
    for party in event.parties:
        if party == event.actor_party:
            continue
        added = inbox.add_notice(
            session,
            party=party,
            type=event.type,
            resource=event.resource,
            resource_id=event.resource_id,
            need_id=need_id,
            title=title,
            data=event.data,
            dedupe_key=f"event:{event.id}:{party}",
        )
        if added and smtp:
            _mail(session, party, title, public_url)


def _need_event(session: Session, event: OutboxEvent, index: MatchIndex, *, smtp: bool, public_url: str) -> int:
    """Alerts: tell each subscription the need fits, once per need and subscription; return how many were told."""
    need = session.get(Need, event.resource_id)
    if need is None or need.status == "closed":
        return 0
    scores = matching_service.scores_for_need(session, index, need=need)
    best_scores.record(session, need, scores)
    found = subscriptions.fits(session, need, scores)
    if not found:
        return 0
    shown = need_service.present_needs(session, [need])[0].model_dump(mode="json")
    told = 0
    for fit in found:
        sub = fit.subscription
        data = {"need": shown, "provider_id": sub.provider_id, "subscription_id": sub.id, "score": round(fit.score, 6)}
        title = f"A need fits your alert: “{need.title}” ({display_name(need.state)}, score {fit.score:.2f})"
        notice = Notice(
            party=events.provider_party(sub.provider_id),
            type="need.matched",
            resource="need",
            resource_id=need.id,
            need_id=need.id,
            title=title,
            data=data,
            dedupe_key=f"need.matched:{sub.id}:{need.id}",
            msg_id=webhooks.message_id("need.matched", sub.id, need.id),
            when=event.occurred_at,
        )
        told += tell(session, notice, smtp=smtp, public_url=public_url)
    return told


def process_batch(
    session: Session, index: MatchIndex, *, limit: int = 50, smtp: bool, public_url: str, skip: set[int]
) -> int:
    """Fan out up to `limit` unprocessed events (not in `skip`) and commit; return how many were processed.

    An event whose fan-out raises is rolled back to its savepoint, logged, left unprocessed
    and added to `skip`, so it is tried again by the next worker start, not in a loop.
    """
    query = select(OutboxEvent).where(col(OutboxEvent.processed_at).is_(None))
    if skip:
        query = query.where(col(OutboxEvent.id).not_in(skip))
    rows = session.exec(query.order_by(col(OutboxEvent.id)).limit(limit).with_for_update(skip_locked=True)).all()
    names = Names(session)
    done = 0
    for event in rows:
        try:
            with session.begin_nested():
                if event.type in events.NEED_EVENTS:
                    _need_event(session, event, index, smtp=smtp, public_url=public_url)
                else:
                    _party_event(session, event, names, smtp=smtp, public_url=public_url)
                event.processed_at = utcnow()
                session.add(event)
            done += 1
        except Exception:
            logger.exception("event %s (%s) could not be processed; it stays in the outbox", event.id, event.type)
            skip.add(event.id or 0)
    session.commit()
    return done


# Processed events, finished deliveries (with their attempts) and sent e-mails are kept this long.
KEEP_DONE = timedelta(days=30)


def purge_done(engine: Engine, *, batch: int = 500, keep: timedelta = KEEP_DONE) -> int:
    """Delete up to `batch` rows of each kind finished before `keep` ago; return how many went (`upr-match purge`)."""
    cutoff = utcnow() - keep
    total = 0
    with intending_to_write(), Session(engine) as session:
        for model, finished, when in (
            (OutboxEvent, col(OutboxEvent.processed_at).is_not(None), col(OutboxEvent.processed_at)),
            (
                WebhookDelivery,
                col(WebhookDelivery.status).in_(("succeeded", "failed")),
                col(WebhookDelivery.created_at),
            ),
            (EmailMessage, col(EmailMessage.status).in_(("sent", "failed")), col(EmailMessage.created_at)),
        ):
            key = col(model.id)
            oldest = select(key).where(finished, when < cutoff).limit(batch)
            result = session.exec(delete(model).where(key.in_(oldest)).execution_options(synchronize_session=False))
            total += int(result.rowcount or 0)
        session.commit()
    return total
