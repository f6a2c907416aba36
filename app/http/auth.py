"""Authentication by API key (`Authorization: Bearer <key>`): the header becomes a `Principal`.

The key format and its hash are `app.core.identity`'s; a presented key is found by its
prefix and its hash compared in constant time (`app.services.keys.authenticate`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from app.core.errors import Forbidden, Unauthorized
from app.core.identity import ANONYMOUS, Principal, generate_key, hash_key
from app.http.sessions import get_session
from app.services import keys as key_service

__all__ = [
    "ANONYMOUS",
    "AdminDep",
    "AuthenticatedDep",
    "CurrentPrincipal",
    "Principal",
    "generate_key",
    "get_principal",
    "hash_key",
]

bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="An API key from `upr-match keys create` or `POST /v1/keys`: `Authorization: Bearer upr_...`.",
)


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
    principal = await run_in_threadpool(key_service.authenticate, session, credentials.credentials.strip())
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
