"""Webhook deliveries: claim, send (signed, to a checked address), record, retry with backoff, disable.

The worker claims due deliveries for a lease (`WORKER_LEASE_S`; on PostgreSQL with
`FOR UPDATE SKIP LOCKED`, so several workers never claim the same one), sends them
concurrently (`app.worker.dispatch`: at most `WORKER_CONCURRENCY` at once and half of that to
any one endpoint, so a slow endpoint never holds the others), then records each attempt. A
worker killed mid-delivery loses nothing: its claims lapse and the messages go out again (at
least once; receivers deduplicate on `webhook-id`, as Standard Webhooks says). Recording
checks the claim is still this worker's.

Every attempt: the URL's host is resolved once, every address it resolves to must be public
(unless `WEBHOOK_ALLOW_PRIVATE`), and the request goes to that address (TLS still verifies
the name, through SNI), so no DNS answer can change between the check and the connection.
No redirect is followed; the answer's body is read up to 1 KiB. The whole attempt (resolving,
connecting, sending, the answer's headers and body) has one deadline, `WEBHOOK_TIMEOUT_S`:
an endpoint trickling its answer a byte at a time is cut off there. A 2xx is a success;
anything else is retried after `WEBHOOK_RETRY_SCHEDULE` (5 s, 30 s, 2 min, 10 min, 1 h, 6 h,
24 h), then the delivery fails. An item that cannot be sent at all (say, an unreadable
secret) fails alone, as an attempt. An endpoint without a success for
`WEBHOOK_DISABLE_AFTER_S` (3 days) is disabled, its pending deliveries fail, and its owner
is told in the inbox (and by e-mail).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

import httpx
from sqlalchemy import or_, update
from sqlmodel import Session, col, select
from standardwebhooks.webhooks import Webhook as Signer

from app.core.secret_box import SecretBox, SecretUnreadable
from app.models.common import utcnow
from app.models.webhook import Webhook, WebhookAttempt, WebhookDelivery
from app.services import inbox, mail
from app.services.webhooks import address_refusal

logger = logging.getLogger("app.worker")

MAX_BODY = 1024
USER_AGENT = "upr-match-webhooks/1"

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[Address]]


def resolve(host: str, port: int) -> list[Address]:
    """Every address `host` resolves to (the system resolver)."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in found))


@dataclass(frozen=True, slots=True)
class Claimed:
    """A delivery this worker owns until its lease ends."""

    id: str
    webhook_id: str
    url: str
    secret: str | None  # in clear, in memory only; None when no configured key decrypts it
    msg_id: str
    payload: str


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one attempt gave."""

    delivery_id: str
    started: datetime
    duration_ms: int
    address: str | None
    status_code: int | None
    error: str | None
    body: str | None

    @property
    def ok(self) -> bool:
        return self.error is None and self.status_code is not None and 200 <= self.status_code < 300


def claim(
    session: Session,
    *,
    worker_id: str,
    lease_s: float,
    limit: int,
    box: SecretBox,
    per_endpoint: int | None = None,
    in_flight: Mapping[str, int] | None = None,
) -> list[Claimed]:
    """Claim up to `limit` due deliveries of active endpoints for `lease_s` seconds, and commit the claim.

    Each carries its endpoint's signing secret, decrypted with `box`. With `per_endpoint`, no endpoint
    gets more than that many at once, counting those this
    worker has `in_flight`: the deliveries of other endpoints come first, not after a backlog.
    """
    now = utcnow()
    busy = {w for w, n in (in_flight or {}).items() if per_endpoint is not None and n >= per_endpoint}
    query = (
        select(WebhookDelivery)
        .join(Webhook, col(Webhook.id) == col(WebhookDelivery.webhook_id))
        .where(
            col(WebhookDelivery.status) == "pending",
            col(WebhookDelivery.next_attempt_at) <= now,
            or_(col(WebhookDelivery.claimed_until).is_(None), col(WebhookDelivery.claimed_until) < now),
            col(Webhook.status) == "active",
        )
        .order_by(col(WebhookDelivery.next_attempt_at), col(WebhookDelivery.id))
    )
    if busy:
        query = query.where(col(WebhookDelivery.webhook_id).not_in(busy))
    # A wider window than `limit` when capped, so one endpoint's backlog does not hide the others.
    window = limit if per_endpoint is None else limit * 4
    found = session.exec(query.limit(window).with_for_update(skip_locked=True, of=WebhookDelivery)).all()
    taken = dict(in_flight or {})
    rows: list[WebhookDelivery] = []
    for row in found:
        if len(rows) == limit:
            break
        if per_endpoint is not None and taken.get(row.webhook_id, 0) >= per_endpoint:
            continue
        taken[row.webhook_id] = taken.get(row.webhook_id, 0) + 1
        rows.append(row)
    if not rows:
        session.commit()
        return []
    endpoints = {
        w.id: w for w in session.exec(select(Webhook).where(col(Webhook.id).in_({r.webhook_id for r in rows}))).all()
    }
    until = now + timedelta(seconds=lease_s)
    claimed = []
    for row in rows:
        row.claimed_by, row.claimed_until = worker_id, until
        session.add(row)
        endpoint = endpoints[row.webhook_id]
        secret = _unsealed(box, endpoint)
        claimed.append(Claimed(row.id, row.webhook_id, endpoint.url, secret, row.msg_id, row.payload))
    session.commit()
    return claimed


def _unsealed(box: SecretBox, endpoint: Webhook) -> str | None:
    try:
        return box.decrypt(endpoint.secret)
    except SecretUnreadable:
        logger.error("webhook %s: its signing secret cannot be decrypted with WEBHOOK_SECRET_KEYS", endpoint.id)
        return None


def _target(url: str, resolver: Resolver, allow_private: bool) -> tuple[str, str, str, Address]:
    """(URL to the resolved address, Host header, host name, address), or ValueError saying why not."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme != "https" and not (allow_private and scheme == "http"):
        raise ValueError("the URL is not https")
    host = parts.hostname or ""
    port = parts.port or (443 if scheme == "https" else 80)
    try:
        addresses = resolver(host, port)
    except (OSError, UnicodeError) as exc:
        raise ValueError(f"could not resolve {host}: {exc}") from exc
    if not addresses:
        raise ValueError(f"{host} resolves to no address")
    if not allow_private:
        for address in addresses:
            why = address_refusal(address)
            if why:
                raise ValueError(f"{host} resolves to {why}; webhooks go to public addresses only")
    address = addresses[0]
    shown = f"[{address}]" if address.version == 6 else str(address)
    netloc = shown if parts.port is None else f"{shown}:{parts.port}"
    host_header = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, "")), host_header, host, address


def _signed_headers(item: Claimed, host_header: str) -> dict[str, str]:
    if item.secret is None:  # send() refuses such an item first
        raise ValueError("no signing secret")
    stamp = datetime.now(UTC)
    return {
        "host": host_header,
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": item.msg_id,
        "webhook-timestamp": str(int(stamp.timestamp())),
        "webhook-signature": Signer(item.secret).sign(item.msg_id, stamp, item.payload),
    }


async def send(
    client: httpx.AsyncClient, item: Claimed, *, timeout_s: float, allow_private: bool, resolver: Resolver
) -> Outcome:
    """Make one signed attempt, all of it within `timeout_s`; never raises."""
    started = utcnow()
    clock = time.monotonic()
    address: Address | None = None
    status: int | None = None  # once the answer's headers are in

    def done(error: str | None = None, body: str | None = None) -> Outcome:
        elapsed = int((time.monotonic() - clock) * 1000)
        shown = str(address) if address is not None else None
        return Outcome(item.id, started, elapsed, shown, status, error[:500] if error else None, body)

    if item.secret is None:
        return done("the endpoint's signing secret cannot be decrypted (WEBHOOK_SECRET_KEYS lacks its key)")
    try:
        async with asyncio.timeout(timeout_s):
            try:
                target, host_header, host, address = await asyncio.to_thread(_target, item.url, resolver, allow_private)
            except ValueError as exc:
                return done(str(exc))
            extensions = {"sni_hostname": host} if target.startswith("https") else {}
            content = item.payload.encode("utf-8")
            headers = _signed_headers(item, host_header)
            async with client.stream("POST", target, content=content, headers=headers, extensions=extensions) as answer:
                status = answer.status_code
                body = b""
                async for chunk in answer.aiter_raw():
                    body += chunk
                    if len(body) >= MAX_BODY:
                        break
            text = body[:MAX_BODY].decode("utf-8", "replace")
            return done(None if 200 <= status < 300 else f"answered HTTP {status}", text)
    except TimeoutError:
        if status is None:
            return done(f"no answer within {timeout_s:g} s")
        return done(f"the answer took longer than {timeout_s:g} s")
    except httpx.HTTPError as exc:
        return done(f"{type(exc).__name__}: {exc}")
    except Exception as exc:  # noqa: BLE001 (this item cannot be sent: it fails alone, the others go)
        return done(f"could not be sent: {type(exc).__name__}: {exc}")


def record(
    session: Session,
    *,
    worker_id: str,
    outcomes: Sequence[Outcome],
    schedule: Sequence[float],
    disable_after_s: float,
    smtp: bool,
) -> None:
    """Write each attempt; schedule retries or give up; track and disable failing endpoints; commit."""
    now = utcnow()
    touched: dict[str, bool] = {}
    for outcome in outcomes:
        row = session.get(WebhookDelivery, outcome.delivery_id)
        if row is None:  # the endpoint was deleted meanwhile
            continue
        session.add(
            WebhookAttempt(
                delivery_id=row.id,
                attempted_at=outcome.started,
                duration_ms=outcome.duration_ms,
                address=outcome.address,
                status_code=outcome.status_code,
                error=outcome.error,
                response_body=outcome.body,
            )
        )
        if row.claimed_by != worker_id or row.status != "pending":
            continue  # our lease ran out and another worker took it over: it decides
        row.attempts += 1
        row.claimed_by, row.claimed_until = None, None
        row.last_status_code, row.last_error = outcome.status_code, outcome.error
        if outcome.ok:
            row.status, row.delivered_at = "succeeded", now
        elif row.attempts > len(schedule):
            row.status = "failed"
        else:
            row.next_attempt_at = now + timedelta(seconds=schedule[row.attempts - 1])
        session.add(row)
        touched[row.webhook_id] = touched.get(row.webhook_id, False) or outcome.ok
    for webhook_id, any_ok in touched.items():
        endpoint = session.get(Webhook, webhook_id)
        if endpoint is None:
            continue
        if any_ok:
            endpoint.failing_since = None
        elif endpoint.failing_since is None:
            endpoint.failing_since = now
        session.add(endpoint)
        if endpoint.failing_since is not None and now - endpoint.failing_since >= timedelta(seconds=disable_after_s):
            disable(session, endpoint, now=now, smtp=smtp)
    session.commit()


def disable(session: Session, endpoint: Webhook, *, now: datetime, smtp: bool) -> None:
    """Disable a failing endpoint, fail its pending deliveries, and tell its owner (in the caller's transaction)."""
    assert endpoint.failing_since is not None
    days = (now - endpoint.failing_since).total_seconds() / 86400
    since = endpoint.failing_since.strftime("%d %b %Y %H:%M UTC")
    reason = f"every delivery failed since {since}"
    endpoint.status, endpoint.disabled_at, endpoint.disabled_reason = "disabled", now, reason
    endpoint.version += 1
    session.add(endpoint)
    session.exec(
        update(WebhookDelivery)
        .where(col(WebhookDelivery.webhook_id) == endpoint.id, col(WebhookDelivery.status) == "pending")
        .values(status="failed", last_error="the endpoint was disabled", claimed_by=None, claimed_until=None)
        .execution_options(synchronize_session=False)
    )
    title = (
        f"Your webhook {endpoint.url} was turned off: its deliveries failed for {days:.1f} days "
        f"({reason}). Fix it, then enable it again."
    )
    inbox.add_notice(
        session,
        party=endpoint.party,
        type="webhook.disabled",
        resource="webhook",
        resource_id=endpoint.id,
        need_id=None,
        title=title,
        data={"webhook_id": endpoint.id, "url": endpoint.url, "failing_since": endpoint.failing_since.isoformat()},
        dedupe_key=f"webhook.disabled:{endpoint.id}:{now.isoformat()}",
    )
    if smtp:
        mail.enqueue(session, party=endpoint.party, subject="A webhook of yours was turned off", body=title)
