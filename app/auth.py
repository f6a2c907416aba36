"""Authentication by API key (`Authorization: Bearer <key>`) and the caller's identity.

A key looks like `upr_<prefix>_<secret>`. The prefix is stored in clear to find
the row; the whole key is stored only as a SHA-256 hash (keys are 190 bits of
randomness, so a slow password hash adds nothing) and compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session, select

from app.db import get_session
from app.errors import Forbidden, Unauthorized
from app.models.api_key import ApiKey

KEY_PREFIX = "upr"
_PREFIX_LEN = 8

bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="An API key from `upr-match keys create` or `POST /v1/keys`: `Authorization: Bearer upr_...`.",
)


def generate_key() -> tuple[str, str, str]:
    """Return (key, prefix, sha256 hex) for a new random key."""
    prefix = secrets.token_hex(_PREFIX_LEN // 2)
    key = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(24)}"
    return key, prefix, hash_key(key)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a role and, for State and provider keys, what they act for."""

    role: str  # "anonymous", "admin", "state", "provider"
    key_id: str | None = None
    name: str | None = None
    state: str | None = None
    provider_id: str | None = None

    @property
    def is_anonymous(self) -> bool:
        return self.role == "anonymous"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


ANONYMOUS = Principal(role="anonymous")


def authenticate(session: Session, raw: str) -> Principal:
    """Resolve a presented key to its principal, or raise Unauthorized."""
    parts = raw.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or len(parts[1]) != _PREFIX_LEN or not parts[2]:
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


def get_principal(
    request: Request,
    session: Annotated[Session, Depends(get_session)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Principal:
    """The caller: anonymous without an Authorization header; 401 for a bad or revoked key."""
    header = request.headers.get("authorization")
    if header is None:
        return ANONYMOUS
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("The Authorization header must be `Bearer <key>`.")
    principal = authenticate(session, credentials.credentials.strip())
    request.state.principal = principal
    return principal


def require_authenticated(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
    if principal.is_anonymous:
        raise Unauthorized("This operation needs an API key: `Authorization: Bearer <key>`.")
    return principal


def require_admin(principal: Annotated[Principal, Depends(require_authenticated)]) -> Principal:
    if not principal.is_admin:
        raise Forbidden("This operation is for administrators.")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]
AuthenticatedDep = Annotated[Principal, Depends(require_authenticated)]
AdminDep = Annotated[Principal, Depends(require_admin)]
