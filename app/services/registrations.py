"""An organisation asks for a provider key on the pages; an administrator approves or rejects the request.

The request tells the administrators at once: an item in their shared inbox and an e-mail to the
service's contact address (`CONTACT_EMAIL`, through the mail queue). The requester gets a private
link (only its SHA-256 is stored). Once the request is approved, opening that link makes an unbound
provider key (it registers the organisation's profile, `POST /v1/providers`) and shows its secret
that one time: the secret is never stored, and a second visit is told it was shown already.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Literal

from sqlmodel import Session, col, func, select, update

from app.core.errors import Conflict, Forbidden, NotFound
from app.core.identity import Principal
from app.core.pagination import PageParams
from app.models.api_key import ApiKeyCreate
from app.models.common import utcnow
from app.models.registration import ProviderRegistration, RegistrationCreate
from app.services import audit, inbox, keys, mail

ADMIN_PARTY = inbox.ADMIN_PARTY


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def request_registration(
    session: Session, *, data: RegistrationCreate, admin_address: str | None, status_url: str
) -> tuple[ProviderRegistration, str]:
    """Store the request and tell the administrators; return it and the requester's private token.

    `status_url` is the requester's link without its token (the token is appended); it goes in the
    requester's copy of the request by e-mail, and the administrators' e-mail names the admin page.
    """
    token = secrets.token_urlsafe(32)
    row = ProviderRegistration(**data.model_dump(), token_hash=_digest(token))
    session.add(row)
    session.flush()
    title = f"{row.organisation} asks for a provider key"
    inbox.add_notice(
        session,
        party=ADMIN_PARTY,
        type="registration.requested",
        resource="registration",
        resource_id=row.id,
        need_id=None,
        title=title,
        data={"organisation": row.organisation, "kind": row.kind, "contact_email": row.contact_email},
        dedupe_key=f"registration:{row.id}",
    )
    if admin_address:
        body = (
            f"{row.contact_name} <{row.contact_email}> asks for a provider key for {row.organisation} ({row.kind}).\n"
            f"Website: {row.website or 'not given'}\n\n{row.message or '(no message)'}\n\n"
            "Approve or reject it on the administrators' page: /admin/registrations\n"
        )
        mail.enqueue_to(session, party=ADMIN_PARTY, address=admin_address, subject=title, body=body)
    mail.enqueue_to(
        session,
        party=f"registration:{row.id}",
        address=row.contact_email,
        subject=f"Your request for a key for {row.organisation}",
        body=(
            "We received your request. An administrator answers it; then open this private link to get "
            f"your key (it is shown once):\n{status_url}{token}\n"
        ),
    )
    session.commit()
    session.refresh(row)
    return row, token


def find(session: Session, token: str) -> ProviderRegistration:
    """The request a private link belongs to (404 for any other token)."""
    row = session.exec(
        select(ProviderRegistration).where(col(ProviderRegistration.token_hash) == _digest(token))
    ).first()
    if row is None:
        raise NotFound("No request has this link; check that it was copied whole.")
    return row


def list_registrations(
    session: Session, *, principal: Principal, page: PageParams, status: str | None = None
) -> tuple[list[ProviderRegistration], int]:
    """Requests, newest first (administrators only)."""
    _check_admin(principal)
    conditions = [col(ProviderRegistration.status) == status] if status else []
    total = session.exec(select(func.count()).select_from(ProviderRegistration).where(*conditions)).one()
    rows = session.exec(
        select(ProviderRegistration)
        .where(*conditions)
        .order_by(col(ProviderRegistration.created_at).desc(), col(ProviderRegistration.id))
        .offset(page.offset)
        .limit(page.limit)
    ).all()
    return list(rows), total


def answer(
    session: Session,
    *,
    principal: Principal,
    registration_id: str,
    outcome: Literal["approved", "rejected"],
    message: str | None = None,
) -> ProviderRegistration:
    """Approve or reject a pending request (administrators); a request is answered once."""
    _check_admin(principal)
    row = session.get(ProviderRegistration, registration_id)
    if row is None:
        raise NotFound(f"Registration request {registration_id} does not exist.")
    done = session.exec(
        update(ProviderRegistration)
        .where(col(ProviderRegistration.id) == row.id, col(ProviderRegistration.status) == "pending")
        .values(status=outcome, answered_at=utcnow(), answer_message=message)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        session.rollback()
        raise Conflict(f"Registration request {registration_id} is already {row.status}.", status=row.status)
    action: audit.AuditAction = "approve" if outcome == "approved" else "reject"
    audit.record(session, principal, resource="registration", resource_id=row.id, action=action)
    session.commit()
    session.refresh(row)
    return row


def claim_key(session: Session, *, token: str) -> tuple[ProviderRegistration, str | None]:
    """The request of a private link and, the first time after approval, its new key's secret (else None)."""
    row = find(session, token)
    if row.status != "approved" or row.key_shown_at is not None:
        return row, None
    claimed = session.exec(
        update(ProviderRegistration)
        .where(col(ProviderRegistration.id) == row.id, col(ProviderRegistration.key_shown_at).is_(None))
        .values(key_shown_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # another visit of the link took it first
        session.rollback()
        session.refresh(row)
        return row, None
    actor = audit.SystemActor(name="registration link")
    key, secret = keys.create_key(
        session, data=ApiKeyCreate(name=row.organisation[:120], role="provider"), actor=actor, commit=False
    )
    session.exec(
        update(ProviderRegistration)
        .where(col(ProviderRegistration.id) == row.id)
        .values(key_id=key.id)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    session.refresh(row)
    return row, secret


def _check_admin(principal: Principal) -> None:
    if not principal.is_admin:
        raise Forbidden("Only administrators see and answer registration requests.")
