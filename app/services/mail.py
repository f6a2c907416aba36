"""E-mail notices: the queue (written with the notice it carries) and unsubscribing.

With `SMTP_URL` set, every inbox notice also goes to the party's contact addresses: a
provider's `contact_email`, and the `contact_email` of each valid key of a State. Each
message carries an unsubscribe link (and `List-Unsubscribe` headers, RFC 2369 / RFC 8058);
an address that used it gets nothing more. The worker sends the queue with retries
(`app.worker.smtp`), claiming messages as it claims webhook deliveries.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlencode

from sqlmodel import Session, col, select

from app.core.logtext import one_line
from app.models.api_key import ApiKey
from app.models.mail import EmailMessage, EmailUnsubscribe
from app.models.provider import Provider
from app.services import events


def unsubscribe_token(secret: bytes, address: str) -> str:
    """The token that proves an unsubscribe link was sent to `address`."""
    key = hmac.new(secret, b"upr-match unsubscribe v1", hashlib.sha256).digest()
    return hmac.new(key, address.strip().lower().encode("utf-8"), hashlib.sha256).hexdigest()[:32]


def check_token(secret: bytes, address: str, token: str) -> bool:
    return hmac.compare_digest(unsubscribe_token(secret, address), token)


def unsubscribe_url(public_url: str, secret: bytes, address: str) -> str:
    query = urlencode({"address": address, "token": unsubscribe_token(secret, address)})
    return f"{public_url.rstrip('/')}/unsubscribe?{query}"


def is_unsubscribed(session: Session, address: str) -> bool:
    return session.get(EmailUnsubscribe, address.strip().lower()) is not None


def unsubscribe(session: Session, *, address: str) -> bool:
    """Stop e-mail to `address` (and drop what is queued for it); True if it was subscribed."""
    normal = address.strip().lower()
    if session.get(EmailUnsubscribe, normal) is not None:
        return False
    session.add(EmailUnsubscribe(address=normal))
    for row in session.exec(
        select(EmailMessage).where(col(EmailMessage.to_address) == normal, col(EmailMessage.status) == "pending")
    ).all():
        row.status, row.last_error = "failed", "unsubscribed"
        session.add(row)
    session.commit()
    return True


def addresses_of(session: Session, party: str) -> list[str]:
    """The contact addresses of a party that have not unsubscribed, lower-cased."""
    kind, value = events.split_party(party)
    if kind == "provider":
        provider = session.get(Provider, value)
        found = [provider.contact_email] if provider is not None and provider.contact_email else []
    else:
        found = [
            address
            for address in session.exec(
                select(ApiKey.contact_email).where(
                    col(ApiKey.state) == value,
                    col(ApiKey.role) == "state",
                    col(ApiKey.revoked_at).is_(None),
                    col(ApiKey.contact_email).is_not(None),
                )
            ).all()
            if address
        ]
    normal = list(dict.fromkeys(a.strip().lower() for a in found if a))
    if not normal:
        return []
    gone = set(session.exec(select(EmailUnsubscribe.address).where(col(EmailUnsubscribe.address).in_(normal))).all())
    return [a for a in normal if a not in gone]


def enqueue(session: Session, *, party: str, subject: str, body: str) -> int:
    """Queue one message per contact address of the party (in the caller's transaction); return how many."""
    addresses = addresses_of(session, party)
    for address in addresses:
        session.add(EmailMessage(party=party, to_address=address, subject=one_line(subject)[:300], body=body))
    return len(addresses)


def enqueue_to(session: Session, *, party: str, address: str, subject: str, body: str) -> bool:
    """Queue one message to one address (an administrator, a requester) unless it unsubscribed; True if queued."""
    normal = address.strip().lower()
    if not normal or is_unsubscribed(session, normal):
        return False
    session.add(EmailMessage(party=party, to_address=normal, subject=one_line(subject)[:300], body=body))
    return True
