"""API keys: who a presented key is, and their management: create, list, revoke (each write recorded in the
audit trail)."""

from __future__ import annotations

import hmac

from sqlmodel import Session, col, func, select

from app.core.errors import NotFound, Unauthorized, UnprocessableEntity, field_error
from app.core.identity import KEY_PREFIX, KEY_PREFIX_LENGTH, Principal, generate_key, hash_key
from app.core.pagination import PageParams
from app.models.api_key import ApiKey, ApiKeyCreate
from app.models.common import utcnow
from app.models.provider import Provider
from app.reference.validation import normalise_iso3
from app.services import audit


def authenticate(session: Session, raw: str) -> Principal:
    """Resolve a presented key to its principal, or raise Unauthorized."""
    parts = raw.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or len(parts[1]) != KEY_PREFIX_LENGTH or not parts[2]:
        raise Unauthorized("The API key is malformed; expected `upr_<prefix>_<secret>`.")
    row = session.exec(select(ApiKey).where(ApiKey.prefix == parts[1])).first()
    presented = hash_key(raw)
    # Compare even when no row matched, so timing does not reveal which prefixes exist.
    expected = row.key_hash if row is not None else "0" * 64
    if not hmac.compare_digest(presented, expected) or row is None:
        raise Unauthorized("The API key is not valid.")
    if row.revoked_at is not None:
        raise Unauthorized("The API key has been revoked.")
    return Principal(role=row.role, key_id=row.id, name=row.name, state=row.state, provider_id=row.provider_id)


def principal_for_key_id(session: Session, key_id: str) -> Principal:
    """Resolve a key by its id (a web session holds the id, never the secret), or raise Unauthorized."""
    row = session.get(ApiKey, key_id)
    if row is None or row.revoked_at is not None:
        raise Unauthorized("The key of this session has been revoked; sign in again.")
    return Principal(role=row.role, key_id=row.id, name=row.name, state=row.state, provider_id=row.provider_id)


def create_key(session: Session, *, data: ApiKeyCreate, actor: audit.Actor, commit: bool = True) -> tuple[ApiKey, str]:
    """Create a key bound to its role's owner; return the row and the secret (shown once).

    `commit=False` leaves the commit to the caller (a key made with another change, all or nothing)."""
    state = data.state
    if data.role == "state":
        if not state:
            raise UnprocessableEntity(
                "A state key needs `state`.", errors=[field_error(["body", "state"], "required for role state")]
            )
        state = normalise_iso3(state, loc=["body", "state"])
    elif state is not None:
        raise UnprocessableEntity(
            "Only state keys take `state`.",
            errors=[field_error(["body", "state"], f"not allowed for role {data.role}")],
        )
    if data.role == "provider":
        # Without provider_id the key is *unbound*: it may register exactly one provider
        # (POST /v1/providers), which then binds it. With one, that provider must exist.
        if data.provider_id is not None:
            _check_provider_exists(session, data.provider_id)
    elif data.provider_id is not None:
        raise UnprocessableEntity(
            "Only provider keys take `provider_id`.",
            errors=[field_error(["body", "provider_id"], f"not allowed for role {data.role}")],
        )
    if data.contact_email is not None and data.role != "state":
        raise UnprocessableEntity(
            "Only state keys take `contact_email` (a provider's address is on its profile).",
            errors=[field_error(["body", "contact_email"], f"not allowed for role {data.role}")],
        )
    key, prefix, digest = generate_key()
    row = ApiKey(
        name=data.name,
        role=data.role,
        state=state,
        provider_id=data.provider_id,
        contact_email=data.contact_email,
        prefix=prefix,
        key_hash=digest,
    )
    session.add(row)
    session.flush()
    detail = {
        "role": row.role,
        **({"state": state} if state else {}),
        **({"provider_id": row.provider_id} if row.provider_id else {}),
    }
    audit.record(session, actor, resource="key", resource_id=row.id, action="create", detail=detail)
    if commit:
        session.commit()
        session.refresh(row)
    return row, key


def _check_provider_exists(session: Session, provider_id: str) -> None:
    """Refuse a provider key for a provider that does not exist."""
    if session.get(Provider, provider_id) is None:
        raise UnprocessableEntity(
            f"Provider {provider_id} does not exist.",
            errors=[field_error(["body", "provider_id"], f"no provider with id {provider_id}")],
        )


def list_keys(session: Session, *, page: PageParams) -> tuple[list[ApiKey], int]:
    """List keys, newest first, without their secrets."""
    total = session.exec(select(func.count()).select_from(ApiKey)).one()
    rows = session.exec(
        select(ApiKey).order_by(col(ApiKey.created_at).desc(), col(ApiKey.id)).offset(page.offset).limit(page.limit)
    ).all()
    return list(rows), total


def revoke_key(session: Session, *, key_id: str, actor: audit.Actor) -> ApiKey:
    """Revoke a key; revoking twice keeps the first revocation time (and records one revocation)."""
    row = session.get(ApiKey, key_id)
    if row is None:
        raise NotFound(f"API key {key_id} does not exist.")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.add(row)
        audit.record(session, actor, resource="key", resource_id=row.id, action="revoke")
        session.commit()
        session.refresh(row)
    return row
