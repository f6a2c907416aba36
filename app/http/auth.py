"""Authentication by API key (`Authorization: Bearer <key>`): the header becomes a `Principal`.

The key format and its hash are `app.core.identity`'s; a presented key is found by its
prefix and its hash compared in constant time.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session, select

from app.core.errors import Forbidden, Unauthorized
from app.core.identity import ANONYMOUS, KEY_PREFIX, KEY_PREFIX_LENGTH, Principal, generate_key, hash_key
from app.http.sessions import get_session
from app.models.api_key import ApiKey

__all__ = [
    "ANONYMOUS",
    "AdminDep",
    "AuthenticatedDep",
    "CurrentPrincipal",
    "Principal",
    "authenticate",
    "generate_key",
    "get_principal",
    "hash_key",
    "principal_for_key_id",
]

bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="An API key from `upr-match keys create` or `POST /v1/keys`: `Authorization: Bearer upr_...`.",
)


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


async def get_principal(
    request: Request,
    session: Annotated[Session, Depends(get_session)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Principal:
    """The caller: anonymous without an Authorization header; 401 for a bad or revoked key.

    On the event loop: an anonymous read costs no trip to the thread pool; a key is looked up in it.
    """
    header = request.headers.get("authorization")
    if header is None:
        return ANONYMOUS
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("The Authorization header must be `Bearer <key>`.")
    principal = await run_in_threadpool(authenticate, session, credentials.credentials.strip())
    request.state.principal = principal
    return principal


async def require_authenticated(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
    if principal.is_anonymous:
        raise Unauthorized("This operation needs an API key: `Authorization: Bearer <key>`.")
    return principal


async def require_admin(principal: Annotated[Principal, Depends(require_authenticated)]) -> Principal:
    if not principal.is_admin:
        raise Forbidden("This operation is for administrators.")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]
AuthenticatedDep = Annotated[Principal, Depends(require_authenticated)]
AdminDep = Annotated[Principal, Depends(require_admin)]
