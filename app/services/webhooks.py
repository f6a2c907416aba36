"""Webhook endpoints: register, list, change, delete, test; their deliveries and a manual retry.

An endpoint belongs to a party (a State or a provider): a State key or a bound provider
key registers endpoints for itself; admins may manage any and register one for a party they
name. The signing secret (`whsec_...`, Standard Webhooks) is generated here and shown once.

URLs must be `https` and may not name a private, loopback, link-local, multicast or reserved
address; `WEBHOOK_ALLOW_PRIVATE=true` (tests, local development) lifts both rules. A name is
checked again at every delivery, on the address it resolves to then (`app.worker.delivery`).
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import secrets
from collections.abc import Mapping, Sequence
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement
from sqlmodel import Session, col, func, select

from app.core.errors import Conflict, Forbidden, NotFound, UnprocessableEntity, field_error
from app.core.identity import Principal
from app.core.jsontypes import JsonObject
from app.core.pagination import PageParams
from app.core.secret_box import SecretBox
from app.models.common import utcnow
from app.models.provider import Provider
from app.models.webhook import (
    AttemptPublic,
    DeliveryPublic,
    Webhook,
    WebhookAttempt,
    WebhookCreate,
    WebhookDelivery,
    WebhookPublic,
    WebhookUpdate,
)
from app.services import audit, events
from app.services.versioning import check_version, versioned_delete, versioned_update

MAX_ATTEMPTS_SHOWN = 20
# Endpoints one State or provider may register: enough for several systems, not a fan-out amplifier.
MAX_WEBHOOKS = 20


def new_secret() -> str:
    """A Standard Webhooks signing secret: `whsec_` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def address_refusal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why webhooks may not go to `address` (loopback, private, link-local...), or None when it is public."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    for kind, flag in (
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved or address.is_unspecified),
    ):
        if flag:
            return f"{address} is a {kind} address"
    if not address.is_global:
        return f"{address} is not a public address"
    return None


def check_url(url: str, *, allow_private: bool, loc: list[str | int]) -> str:
    """The URL if an endpoint may have it, else a 422 naming why."""
    parts = urlsplit(url.strip())

    def refuse(why: str) -> UnprocessableEntity:
        return UnprocessableEntity(f"url {url!r} refused: {why}.", errors=[field_error(loc, why)])

    schemes = ("https", "http") if allow_private else ("https",)
    if parts.scheme.lower() not in schemes or not parts.hostname:
        raise refuse("must be an https:// URL")
    if parts.username or parts.password or parts.fragment or any(c.isspace() for c in url):
        raise refuse("must not carry credentials, a #fragment or whitespace")
    try:
        literal = ipaddress.ip_address(parts.hostname)
    except ValueError:
        literal = None
    if literal is not None and not allow_private and (why := address_refusal(literal)):
        raise refuse(f"{why}; webhooks go to public addresses only")
    if not allow_private and parts.hostname.lower() in {"localhost", "localhost.localdomain"}:
        raise refuse("localhost is a loopback address; webhooks go to public addresses only")
    try:
        _ = parts.port
    except ValueError as exc:
        raise refuse("has an invalid port") from exc
    return url.strip()


def _owner(session: Session, principal: Principal, data: WebhookCreate) -> str:
    """The party a new endpoint belongs to."""
    if principal.is_admin:
        if (data.state is None) == (data.provider_id is None):
            raise UnprocessableEntity(
                "An administrator names exactly one owner: `state` or `provider_id`.",
                errors=[field_error(["body", "state"], "give state or provider_id (one of them)")],
            )
        if data.provider_id is not None:
            if session.get(Provider, data.provider_id) is None:
                raise UnprocessableEntity(
                    f"Provider {data.provider_id} does not exist.",
                    errors=[field_error(["body", "provider_id"], f"no provider with id {data.provider_id}")],
                )
            return events.provider_party(data.provider_id)
        assert data.state is not None
        return events.state_party(data.state)
    party = events.party_of(principal, state=principal.state, provider_id=principal.provider_id)
    if party is None:
        raise Forbidden("Webhooks belong to a State or a registered provider; register your provider first.")
    if (data.state is not None and events.state_party(data.state) != party) or (
        data.provider_id is not None and events.provider_party(data.provider_id) != party
    ):
        raise Forbidden(
            "A key registers webhooks for its own State or provider only (leave state and provider_id out)."
        )
    return party


def present_webhook(row: Webhook) -> WebhookPublic:
    kind, value = events.split_party(row.party)
    return WebhookPublic.model_validate(
        {
            **row.model_dump(exclude={"secret", "party"}),
            "state": value if kind == "state" else None,
            "provider_id": value if kind == "provider" else None,
        }
    )


def _owns(principal: Principal, row: Webhook) -> bool:
    return principal.is_admin or events.party_of(
        principal, state=principal.state, provider_id=principal.provider_id
    ) == (row.party)


def get_webhook(session: Session, *, principal: Principal, webhook_id: str) -> Webhook:
    """An endpoint of the caller's party (any, for admins); 404 otherwise."""
    row = session.get(Webhook, webhook_id)
    if row is None or not _owns(principal, row):
        raise NotFound(f"Webhook {webhook_id} does not exist.")
    return row


def list_webhooks(session: Session, *, principal: Principal, page: PageParams) -> tuple[list[Webhook], int]:
    """The caller's endpoints (all, for admins), oldest first."""
    conditions: list[ColumnElement[bool]] = []
    if not principal.is_admin:
        party = events.party_of(principal, state=principal.state, provider_id=principal.provider_id)
        conditions.append(col(Webhook.party) == (party or ""))
    total = session.exec(select(func.count()).select_from(Webhook).where(*conditions)).one()
    rows = session.exec(
        select(Webhook)
        .where(*conditions)
        .order_by(col(Webhook.created_at), col(Webhook.id))
        .offset(page.offset)
        .limit(page.limit)
    ).all()
    return list(rows), total


def create_webhook(
    session: Session, *, principal: Principal, data: WebhookCreate, allow_private: bool, box: SecretBox
) -> tuple[Webhook, str]:
    """Register an endpoint; return it and its signing secret (show it once: the row keeps it encrypted)."""
    party = _owner(session, principal, data)
    url = check_url(data.url, allow_private=allow_private, loc=["body", "url"])
    count = session.exec(select(func.count()).select_from(Webhook).where(col(Webhook.party) == party)).one()
    if count >= MAX_WEBHOOKS:
        raise Conflict(f"{party} has {count} webhooks, the most it may have ({MAX_WEBHOOKS}); delete one first.")
    secret = new_secret()
    row = Webhook(party=party, url=url, events=data.events, description=data.description, secret=box.encrypt(secret))
    session.add(row)
    session.flush()
    audit.record(
        session,
        principal,
        resource="webhook",
        resource_id=row.id,
        action="create",
        version_after=1,
        detail={"party": party, "events": row.events},
    )
    session.commit()
    session.refresh(row)
    return row, secret


def rotate_secrets(session: Session, *, box: SecretBox, batch: int = 200) -> tuple[int, int]:
    """Encrypt again under the first key every stored secret that is not already; return (rotated, total).

    Raises SecretUnreadable, writing nothing more, when a secret has none of the configured keys.
    """
    rotated = total = 0
    last = ""
    while True:
        rows = session.exec(select(Webhook).where(col(Webhook.id) > last).order_by(col(Webhook.id)).limit(batch)).all()
        if not rows:
            return rotated, total
        for row in rows:
            total += 1
            if not box.is_current(row.secret):
                row.secret = box.rotate(row.secret)
                session.add(row)
                rotated += 1
        last = rows[-1].id
        session.commit()


def update_webhook(
    session: Session,
    *,
    principal: Principal,
    webhook_id: str,
    data: WebhookUpdate,
    expected: frozenset[int],
    allow_private: bool,
) -> Webhook:
    """Change an endpoint's URL, events or description; `enabled` turns it off or on again."""
    row = get_webhook(session, principal=principal, webhook_id=webhook_id)
    check_version(row.version, expected, f"Webhook {webhook_id}")
    changes = data.model_dump(exclude_unset=True)
    for name in ("url", "events", "enabled"):
        if name in changes and changes[name] is None:
            raise UnprocessableEntity(
                f"{name} may not be null.", errors=[field_error(["body", name], "may not be null; leave it out")]
            )
    values: JsonObject = {k: v for k, v in changes.items() if k != "enabled"}
    if "url" in values:
        values["url"] = check_url(values["url"], allow_private=allow_private, loc=["body", "url"])
    enabled = changes.get("enabled")
    if enabled is True:
        values.update(status="active", disabled_at=None, disabled_reason=None, failing_since=None)
    elif enabled is False:
        values.update(status="disabled", disabled_at=utcnow(), disabled_reason="disabled by its owner")
    version = versioned_update(
        session, Webhook, row_id=row.id, read_version=row.version, values=values, what=f"Webhook {webhook_id}"
    )
    audit.record(
        session,
        principal,
        resource="webhook",
        resource_id=row.id,
        action="update",
        version_before=row.version,
        version_after=version,
        detail=audit.changed_fields(changes),
    )
    session.commit()
    session.refresh(row)
    return row


def delete_webhook(session: Session, *, principal: Principal, webhook_id: str, expected: frozenset[int]) -> None:
    """Delete an endpoint with its deliveries."""
    row = get_webhook(session, principal=principal, webhook_id=webhook_id)
    check_version(row.version, expected, f"Webhook {webhook_id}")
    versioned_delete(session, Webhook, row_id=row.id, read_version=row.version, what=f"Webhook {webhook_id}")
    audit.record(
        session, principal, resource="webhook", resource_id=webhook_id, action="delete", version_before=row.version
    )
    session.commit()


# --- deliveries ---------------------------------------------------------------------------------


def body_of(event_type: str, data: Mapping[str, object], when: datetime) -> str:
    """The JSON body Standard Webhooks describes: {"type", "timestamp", "data"}."""
    body = {"type": event_type, "timestamp": when.isoformat().replace("+00:00", "Z"), "data": dict(data)}
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


def message_id(*parts: str) -> str:
    """A `webhook-id` unique to one message (the same on every retry)."""
    return "msg_" + hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]


def wants(events_: Sequence[str], event_type: str) -> bool:
    """True when an endpoint subscribed to `event_type` (by name or by family)."""
    family = event_type.split(".", 1)[0] + ".*"
    return event_type in events_ or family in events_


def enqueue(
    session: Session, *, party: str, event_type: str, data: Mapping[str, object], msg_id: str, when: datetime
) -> int:
    """Add a delivery for each active endpoint of `party` that wants `event_type`; return how many."""
    endpoints = session.exec(select(Webhook).where(col(Webhook.party) == party, col(Webhook.status) == "active")).all()
    count = 0
    for endpoint in endpoints:
        if wants(endpoint.events, event_type):
            session.add(
                WebhookDelivery(
                    webhook_id=endpoint.id,
                    msg_id=msg_id,
                    event_type=event_type,
                    payload=body_of(event_type, data, when),
                )
            )
            count += 1
    return count


def send_test(session: Session, *, principal: Principal, webhook_id: str) -> WebhookDelivery:
    """Queue a `webhook.test` message to the endpoint (the worker delivers it like any other)."""
    row = get_webhook(session, principal=principal, webhook_id=webhook_id)
    if row.status != "active":
        raise Conflict(f"Webhook {webhook_id} is disabled; enable it (PATCH enabled: true) first.", status=row.status)
    now = utcnow()
    delivery = WebhookDelivery(
        webhook_id=row.id,
        msg_id=message_id("test", row.id, secrets.token_hex(8)),
        event_type="webhook.test",
        payload=body_of("webhook.test", {"webhook_id": row.id, "url": row.url}, now),
    )
    session.add(delivery)
    session.flush()
    audit.record(
        session, principal, resource="webhook", resource_id=row.id, action="test", detail={"delivery_id": delivery.id}
    )
    session.commit()
    session.refresh(delivery)
    return delivery


def list_deliveries(
    session: Session, *, principal: Principal, webhook_id: str, page: PageParams, status: str | None = None
) -> tuple[list[DeliveryPublic], int]:
    """An endpoint's deliveries, newest first, each with its latest attempts."""
    get_webhook(session, principal=principal, webhook_id=webhook_id)
    conditions: list[ColumnElement[bool]] = [col(WebhookDelivery.webhook_id) == webhook_id]
    if status is not None:
        conditions.append(col(WebhookDelivery.status) == status)
    total = session.exec(select(func.count()).select_from(WebhookDelivery).where(*conditions)).one()
    rows = session.exec(
        select(WebhookDelivery)
        .where(*conditions)
        .order_by(col(WebhookDelivery.created_at).desc(), col(WebhookDelivery.id))
        .offset(page.offset)
        .limit(page.limit)
    ).all()
    return present_deliveries(session, rows), total


def present_deliveries(session: Session, rows: Sequence[WebhookDelivery]) -> list[DeliveryPublic]:
    attempts: dict[str, list[WebhookAttempt]] = {row.id: [] for row in rows}
    if rows:
        for attempt in session.exec(
            select(WebhookAttempt)
            .where(col(WebhookAttempt.delivery_id).in_(list(attempts)))
            .order_by(col(WebhookAttempt.id).desc())
        ).all():
            shown = attempts[attempt.delivery_id]
            if len(shown) < MAX_ATTEMPTS_SHOWN:
                shown.append(attempt)
    return [
        DeliveryPublic(
            id=row.id,
            webhook_id=row.webhook_id,
            msg_id=row.msg_id,
            event_type=row.event_type,
            status=row.status,  # type: ignore[arg-type]  # the column holds only DeliveryStatus values
            attempt_count=row.attempts,
            next_attempt_at=row.next_attempt_at if row.status == "pending" else None,
            last_status_code=row.last_status_code,
            last_error=row.last_error,
            created_at=row.created_at,
            delivered_at=row.delivered_at,
            payload=json.loads(row.payload),
            attempts=[AttemptPublic.model_validate(a, from_attributes=True) for a in attempts[row.id]],
        )
        for row in rows
    ]


def retry_delivery(session: Session, *, principal: Principal, webhook_id: str, delivery_id: str) -> WebhookDelivery:
    """Send a delivery again now (same `webhook-id`, so a receiver that has it already ignores it)."""
    endpoint = get_webhook(session, principal=principal, webhook_id=webhook_id)
    row = session.get(WebhookDelivery, delivery_id)
    if row is None or row.webhook_id != endpoint.id:
        raise NotFound(f"Delivery {delivery_id} of webhook {webhook_id} does not exist.")
    if endpoint.status != "active":
        raise Conflict(f"Webhook {webhook_id} is disabled; enable it (PATCH enabled: true) first.", status="disabled")
    if row.status == "pending":
        raise Conflict(f"Delivery {delivery_id} is still pending; the worker retries it by itself.", status="pending")
    previous = row.status
    row.status, row.next_attempt_at, row.claimed_by, row.claimed_until = "pending", utcnow(), None, None
    session.add(row)
    audit.record(
        session,
        principal,
        resource="webhook",
        resource_id=endpoint.id,
        action="retry",
        detail={"delivery_id": row.id, "status_before": previous},
    )
    session.commit()
    session.refresh(row)
    return row
