"""Secrets the service keeps to use again (webhook signing secrets), encrypted at rest.

Fernet tokens (AES-128-CBC with HMAC-SHA256, from `cryptography`) under the keys of
`WEBHOOK_SECRET_KEYS`, through `MultiFernet`: the first key encrypts, every listed key
decrypts. To rotate, put a new key first and keep the old ones after it, restart, run
`upr-match webhooks rotate-secrets` (every stored secret is encrypted again under the first
key), then drop the old keys.

Without configured keys (development and test only; production refuses to start without them)
the key is derived from the server secret (`SECRET_KEY`, or the one generated into
`SECRET_KEY_FILE`) by HMAC-SHA256 under a label of its own, so it is stable across restarts
and workers and never equal to the key that signs the cookies.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from app.core.config import Settings, load_secret_key

DERIVATION_LABEL = b"upr-match webhook secrets v1"


class SecretUnreadable(Exception):
    """A stored secret that none of the configured keys decrypts (a key was dropped too early)."""


class SecretBox:
    """Encrypt with the first key, decrypt with any."""

    def __init__(self, keys: list[bytes]) -> None:
        if not keys:
            raise ValueError("a SecretBox needs at least one key")
        self._primary = Fernet(keys[0])
        self._all = MultiFernet([Fernet(k) for k in keys])

    def encrypt(self, secret: str) -> str:
        return self._primary.encrypt(secret.encode("utf-8")).decode("ascii")

    def decrypt(self, stored: str) -> str:
        try:
            return self._all.decrypt(stored.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError) as exc:
            raise SecretUnreadable("no configured WEBHOOK_SECRET_KEYS key decrypts this secret") from exc

    def is_current(self, stored: str) -> bool:
        """True when `stored` is encrypted under the first key (nothing to rotate)."""
        try:
            self._primary.decrypt(stored.encode("ascii"))
        except (InvalidToken, UnicodeError):
            return False
        return True

    def rotate(self, stored: str) -> str:
        """The same secret, encrypted under the first key."""
        try:
            return self._all.rotate(stored.encode("ascii")).decode("ascii")
        except (InvalidToken, UnicodeError) as exc:
            raise SecretUnreadable("no configured WEBHOOK_SECRET_KEYS key decrypts this secret") from exc


def derived_key(server_secret: bytes) -> bytes:
    """A Fernet key derived from the server secret (development and test)."""
    return base64.urlsafe_b64encode(hmac.new(server_secret, DERIVATION_LABEL, hashlib.sha256).digest())


def secret_box(settings: Settings) -> SecretBox:
    """The box for these settings' keys (derived from the server secret when none is configured)."""
    if settings.WEBHOOK_SECRET_KEYS:
        return _box(tuple(settings.WEBHOOK_SECRET_KEYS))
    if settings.ENVIRONMENT == "production":  # the settings already refuse this; never fall back
        raise RuntimeError("WEBHOOK_SECRET_KEYS is required in production")
    return _box((derived_key(load_secret_key(settings)).decode("ascii"),))


@lru_cache(maxsize=8)
def _box(keys: tuple[str, ...]) -> SecretBox:
    return SecretBox([k.encode("ascii") for k in keys])
