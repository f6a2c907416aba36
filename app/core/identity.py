"""Who is calling, independent of how they proved it (API key header, web session, command line).

Services take a `Principal` and decide with `app.services.access`; the HTTP side
(`app.http.auth`, `app.web.session`) turns credentials into one.

A key looks like `upr_<prefix>_<secret>`. The prefix is stored in clear to find
the row; the whole key is stored only as a SHA-256 hash (keys are 190 bits of
randomness, so a slow password hash adds nothing).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

KEY_PREFIX = "upr"
KEY_PREFIX_LENGTH = 8


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


def generate_key() -> tuple[str, str, str]:
    """Return (key, prefix, sha256 hex) for a new random key."""
    prefix = secrets.token_hex(KEY_PREFIX_LENGTH // 2)
    key = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(24)}"
    return key, prefix, hash_key(key)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()
