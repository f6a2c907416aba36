"""The API key a request presents, read off the raw ASGI scope (for middleware that runs before the routes).

Parsed exactly as the routes parse it (`Authorization: Bearer <key>`, scheme in any case,
spaces around the key ignored), so every spelling the API accepts names the same key.
"""

from __future__ import annotations

import hashlib

from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.types import Scope

from app.core.errors import Unauthorized
from app.services.keys import authenticate


def header(scope: Scope, name: bytes) -> bytes | None:
    """The first value of a request header (lower-case name), or None."""
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value)
    return None


def bearer_credential(scope: Scope) -> str | None:
    """The key of an `Authorization` header: None without the header, '' when it is not `Bearer <key>`."""
    raw = header(scope, b"authorization")
    if raw is None:
        return None
    scheme, _, value = raw.decode("latin-1").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def credential_digest(credential: str) -> str:
    return hashlib.sha256(credential.encode("utf-8", "surrogateescape")).hexdigest()


def credential_prefix(credential: str) -> str:
    """A key's public part (`upr_<prefix>`), what failures are counted on; a digest for anything else."""
    parts = credential.split("_", 2)
    if len(parts) == 3 and len(parts[1]) <= 16:
        return f"{parts[0][:8]}_{parts[1]}"
    return "h:" + credential_digest(credential)[:24]


def lookup_key_id(engine: Engine, credential: str) -> str | None:
    """The id of the valid (not revoked) key `credential`, or None. Blocking: run it in a thread."""
    with Session(engine) as session:
        try:
            return authenticate(session, credential).key_id
        except Unauthorized:
            return None
