"""Sending the e-mail queue over SMTP (`SMTP_URL`): claim due messages, send them, record each outcome.

Messages are queued by `app.services.mail` with the notice they carry; a message that fails is tried
again after each of `MAIL_RETRY_S`, then marked failed. Every message carries its unsubscribe link.
Subjects are folded to one line; a message that cannot be built fails alone, and the rest of the
batch is sent.
"""

from __future__ import annotations

import email.policy
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage as MimeMessage
from email.utils import formataddr, make_msgid
from urllib.parse import unquote, urlsplit

from sqlalchemy import or_
from sqlmodel import Session, col, select

from app.core.logtext import one_line
from app.models.common import utcnow
from app.models.mail import EmailMessage
from app.services.mail import unsubscribe_url

MAIL_RETRY_S = (60.0, 300.0, 1800.0, 7200.0, 21600.0)
# Headers up to RFC 5322's 998 characters: the unsubscribe link stays one plain line.
LONG_LINES = email.policy.SMTP.clone(max_line_length=998)
SMTP_TIMEOUT_S = 20.0


@dataclass(frozen=True, slots=True)
class Outgoing:
    id: int
    to_address: str
    subject: str
    body: str


def claim(session: Session, *, worker_id: str, lease_s: float, limit: int) -> list[Outgoing]:
    """Claim due messages for `lease_s` seconds (FOR UPDATE SKIP LOCKED on PostgreSQL) and commit the claim."""
    now = utcnow()
    rows = session.exec(
        select(EmailMessage)
        .where(
            col(EmailMessage.status) == "pending",
            col(EmailMessage.next_attempt_at) <= now,
            or_(col(EmailMessage.claimed_until).is_(None), col(EmailMessage.claimed_until) < now),
        )
        .order_by(col(EmailMessage.next_attempt_at), col(EmailMessage.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    claimed = []
    for row in rows:
        row.claimed_by, row.claimed_until = worker_id, now + timedelta(seconds=lease_s)
        session.add(row)
        claimed.append(Outgoing(row.id or 0, row.to_address, row.subject, row.body))
    session.commit()
    return claimed


def _connect(url: str) -> smtplib.SMTP:
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    if parts.scheme == "smtps":
        client: smtplib.SMTP = smtplib.SMTP_SSL(
            host, parts.port or 465, timeout=SMTP_TIMEOUT_S, context=ssl.create_default_context()
        )
    elif parts.scheme == "smtp":
        client = smtplib.SMTP(host, parts.port or 25, timeout=SMTP_TIMEOUT_S)
        client.ehlo()
        if client.has_extn("starttls"):
            client.starttls(context=ssl.create_default_context())
            client.ehlo()
    else:
        raise ValueError(f"SMTP_URL must start with smtp:// or smtps://, not {parts.scheme}://")
    if parts.username:
        client.login(unquote(parts.username), unquote(parts.password or ""))
    return client


@dataclass(frozen=True, slots=True)
class Result:
    """What sending one message gave: `error` None when sent; `final` when the message itself is at fault."""

    error: str | None = None
    final: bool = False


def build(message: Outgoing, *, sender: str, link: str) -> MimeMessage:
    """The MIME message; the subject folded to one line (a name may hold CR, LF or U+2028)."""
    mime = MimeMessage(policy=LONG_LINES)
    mime["From"] = sender
    mime["To"] = formataddr(("", message.to_address))
    mime["Subject"] = one_line(message.subject)
    mime["Message-ID"] = make_msgid(domain="upr-match")
    mime["List-Unsubscribe"] = f"<{link}>"
    mime["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    mime.set_content(f"{message.body}\n\n--\nStop these e-mails: {link}\n")
    return mime


def send(
    *, smtp_url: str, sender: str, public_url: str, secret: bytes, messages: Sequence[Outgoing]
) -> dict[int, Result]:
    """Send each message over one SMTP connection; per message id, what happened. Never raises.

    A message that cannot be built (or that the client library refuses) fails alone, for good;
    the others are sent. A refusal by the server or a lost connection is retried later.
    """
    results: dict[int, Result] = {}
    try:
        client = _connect(smtp_url)
    except (OSError, smtplib.SMTPException, ValueError) as exc:
        error = f"could not reach the SMTP server: {type(exc).__name__}: {exc}"[:500]
        return {m.id: Result(error) for m in messages}
    try:
        for message in messages:
            try:
                mime = build(message, sender=sender, link=unsubscribe_url(public_url, secret, message.to_address))
                client.send_message(mime)
                results[message.id] = Result()
            except (OSError, smtplib.SMTPException) as exc:
                results[message.id] = Result(f"{type(exc).__name__}: {exc}"[:500])
            except Exception as exc:  # noqa: BLE001 (this message is unsendable: it must not stop the others)
                results[message.id] = Result(f"the message cannot be sent: {type(exc).__name__}: {exc}"[:500], True)
    finally:
        try:
            client.quit()
        except (OSError, smtplib.SMTPException):
            client.close()
    return results


def record(session: Session, *, worker_id: str, results: dict[int, Result]) -> None:
    """Mark sent messages, schedule retries of the others (failed after the last or when final), release the claims."""
    now = utcnow()
    for message_id, result in results.items():
        error = result.error
        row = session.get(EmailMessage, message_id)
        if row is None or row.claimed_by != worker_id:
            continue
        row.attempts += 1
        row.claimed_by, row.claimed_until = None, None
        if error is None:
            row.status, row.sent_at, row.last_error = "sent", now, None
        else:
            row.last_error = error
            if result.final or row.attempts > len(MAIL_RETRY_S):
                row.status = "failed"
            else:
                row.next_attempt_at = now + timedelta(seconds=MAIL_RETRY_S[row.attempts - 1])
        session.add(row)
    session.commit()
