"""Settings read from the environment (and an optional `.env` file).

Every field is documented in the configuration table of docs/operations.md; names are the
environment variables, upper case, with no prefix so that `DATABASE_URL` is the
name hosting platforms already use.
"""

from __future__ import annotations

import base64
import contextlib
import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.core.files import private_dir
from matching.weights import Weights

#: The engine's weights: the settings' defaults, so both read the same numbers.
DEFAULT_WEIGHTS = Weights()

MIN_SECRET_LENGTH = 32
SyncLanguage = Literal["en", "fr", "es"]


class Settings(BaseSettings):
    """Runtime configuration of the service and the CLI."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    ENVIRONMENT: Literal["development", "test", "production"] = "development"
    DATABASE_URL: str = "sqlite:///./var/upr-match.db"
    # SQLite: FULL survives power loss; NORMAL (faster) only an application crash.
    SQLITE_SYNCHRONOUS: Literal["FULL", "NORMAL"] = "FULL"
    DB_POOL_SIZE: int = Field(default=10, ge=1, le=100)
    # Requests using the database at once per worker (at most DB_POOL_SIZE); the others wait their turn.
    DB_SESSIONS_PER_WORKER: int = Field(default=4, ge=1, le=100)
    DB_STATEMENT_TIMEOUT_MS: int = Field(default=5000, ge=100)
    DB_CONNECT_TIMEOUT_S: int = Field(default=3, ge=1, le=60)

    UPR_DATA_DIR: Path = Path("../shared/data/upr")
    MODEL_DIR: Path = Path("./var/models")

    LOG_LEVEL: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # Where States and organisations write to ask for an API key; the front page names it.
    CONTACT_EMAIL: str | None = Field(default=None, max_length=254)
    MAX_BODY_BYTES: int = Field(default=1024 * 1024, ge=1024)
    MAX_IMPORT_BYTES: int = Field(default=64 * 1024 * 1024, ge=1024)
    MAX_IMPORT_ROWS: int = Field(default=500_000, ge=1)
    CORS_ORIGINS: list[str] = Field(default_factory=list)
    # Streamed exports: how many run at once per worker, and how long a client may accept no bytes.
    EXPORT_MAX_CONCURRENT: int = Field(default=4, ge=1, le=1000)
    EXPORT_SEND_TIMEOUT_S: float = Field(default=30.0, gt=0, le=3600)
    # Of those, how many one client address may run at once; and how soon a client that reads
    # nothing is cut off while others were just refused for want of a slot.
    EXPORT_MAX_PER_CLIENT: int = Field(default=2, ge=1, le=1000)
    EXPORT_STALL_WHEN_BUSY_S: float = Field(default=5.0, gt=0, le=3600)

    RATE_LIMIT_PER_MINUTE: int = Field(default=600, ge=1)
    WRITE_QUOTA_PER_HOUR: int = Field(default=1000, ge=1)
    AUTH_FAILURES_PER_MINUTE: int = Field(default=20, ge=1)
    # Where rate-limit counters live: unset = each worker's memory; redis://host:port/db = shared by all.
    RATE_LIMIT_STORAGE_URL: str | None = None
    # Anonymous answers: how long a browser, proxy or CDN may reuse one, then serve it stale while it revalidates.
    PUBLIC_MAX_AGE_S: int = Field(default=10, ge=0, le=86_400)
    PUBLIC_STALE_WHILE_REVALIDATE_S: int = Field(default=60, ge=0, le=86_400)
    # Anonymous answers each worker keeps rendered, by ETag (0: none), and the memory they may take.
    PUBLIC_KEPT_ANSWERS: int = Field(default=2048, ge=0, le=1_000_000)
    PUBLIC_KEPT_MB: int = Field(default=64, ge=0, le=4096)

    # Matching: how the text score and the structured signals combine (docs/matching.md, "How matches are ranked").
    MATCH_WEIGHT_TEXT: float = Field(default=DEFAULT_WEIGHTS.text, ge=0)
    MATCH_WEIGHT_THEME: float = Field(default=DEFAULT_WEIGHTS.theme, ge=0)
    MATCH_WEIGHT_LANGUAGE: float = Field(default=DEFAULT_WEIGHTS.language, ge=0)
    MATCH_WEIGHT_PRESENCE: float = Field(default=DEFAULT_WEIGHTS.presence, ge=0)
    MATCH_WEIGHT_MODALITY: float = Field(default=DEFAULT_WEIGHTS.modality, ge=0)
    MATCH_WEIGHT_HISTORY: float = Field(default=DEFAULT_WEIGHTS.history, ge=0)
    # Read the recommendations that `related` ranks in the background at start-up, so the first such
    # request (the need form's "List the recommendations it speaks to") does not wait for them.
    RELATED_WARM_AT_START: bool = True

    # Prometheus metrics (docs/operations.md, "Metrics"): unset, /metrics on the API port answers admin keys only;
    # set, `upr-match serve` answers them on this port instead (no key; bind it where only Prometheus reaches).
    METRICS_PORT: int | None = Field(default=None, ge=1, le=65535)
    METRICS_HOST: str = "127.0.0.1"

    # Signs the web pages' session cookies and CSRF tokens. Required in production; in
    # development and test an unset key is generated once into SECRET_KEY_FILE and shared.
    SECRET_KEY: str | None = Field(default=None, repr=False)
    SECRET_KEY_FILE: Path = Path("./var/secret_key")
    # A signed-in page session ends after this long without a request (and at sign-out, always).
    WEB_SESSION_IDLE_MINUTES: int = Field(default=60, ge=1, le=720)

    # The worker (`upr-match worker`): webhooks, e-mail, alerts (docs/api.md, "The cooperation loop").
    # Retry delays after each failed webhook attempt, in seconds; after the last one the delivery fails.
    WEBHOOK_RETRY_SCHEDULE: list[float] = Field(
        default_factory=lambda: [5.0, 30.0, 120.0, 600.0, 3600.0, 21600.0, 86400.0]
    )
    WEBHOOK_TIMEOUT_S: float = Field(default=5.0, gt=0, le=60)
    # An endpoint whose deliveries have failed for this long without a success is disabled.
    WEBHOOK_DISABLE_AFTER_S: float = Field(default=3 * 86400, gt=0)
    # Tests and local development only: allow http:// and private/loopback addresses for webhooks.
    WEBHOOK_ALLOW_PRIVATE: bool = False
    # Fernet keys (urlsafe base64 of 32 bytes) that encrypt the stored webhook signing secrets: the
    # first encrypts, all decrypt (rotation: put a new key first, run `upr-match webhooks rotate-secrets`,
    # then drop the old one). Required in production; elsewhere, when empty, derived from SECRET_KEY.
    WEBHOOK_SECRET_KEYS: list[str] = Field(default_factory=list, repr=False)
    WORKER_POLL_S: float = Field(default=1.0, gt=0, le=60)
    # /health/ready fails once no worker has been seen for this long (a worker reports every
    # WORKER_STALE_AFTER_S / 4 seconds at most, 15 s at least often; a round longer than this counts as stalled).
    WORKER_STALE_AFTER_S: float = Field(default=120.0, ge=10, le=86400)
    # How long a worker owns what it claimed; a worker killed mid-delivery leaves it to others after this.
    WORKER_LEASE_S: float = Field(default=60.0, gt=0, le=3600)
    WORKER_CONCURRENCY: int = Field(default=16, ge=1, le=256)
    # smtp://user:pass@host:25 (STARTTLS when offered), smtps://host:465 (TLS); unset: no e-mail.
    SMTP_URL: str | None = Field(default=None, repr=False)
    SMTP_FROM: str = Field(default="UPR cooperation repository <no-reply@localhost>", max_length=254)
    # The address people reach the pages at, for links in e-mails (unsubscribe, the inbox).
    PUBLIC_URL: str = Field(default="http://127.0.0.1:8000", max_length=2048)

    # `upr-match sync` (docs/data.md, "Keeping the data current"): OHCHR's Universal Human Rights Index export,
    # an http(s) URL, a file:// URL or a path (a mirror). The other languages' exports are this URL with
    # -fr / -es in place of -en (export-full-fr.json); SYNC_LANGUAGES lists those synced, English first
    # (it brings the records; the others attach their texts to them).
    SYNC_URL: str = Field(default="https://dataex.ohchr.org/uhri/export-results/export-full-en.json", max_length=2048)
    SYNC_LANGUAGES: list[SyncLanguage] = Field(default_factory=lambda: list[SyncLanguage](["en"]), min_length=1)
    # The worker syncs every this many hours; 0 = never. Default 24, but 0 when ENVIRONMENT=test unless set.
    SYNC_INTERVAL_HOURS: float = Field(default=24.0, ge=0, le=24 * 366)
    # Where a download is received (and a partial one kept, to be resumed).
    SYNC_DIR: Path = Path("./var/sync")
    SYNC_TIMEOUT_S: float = Field(default=60.0, gt=0, le=3600)
    # Times a transfer cut mid-way is resumed within one run.
    SYNC_RETRIES: int = Field(default=3, ge=0, le=50)
    # How long a replica holds the sync lease without renewing it (a sync killed mid-way frees it after this).
    SYNC_LEASE_S: float = Field(default=1800.0, ge=60, le=86400)

    @field_validator("WEBHOOK_RETRY_SCHEDULE")
    @classmethod
    def _check_schedule(cls, value: list[float]) -> list[float]:
        if not value or any(delay <= 0 for delay in value):
            raise ValueError("WEBHOOK_RETRY_SCHEDULE must list one or more delays in seconds, each above 0")
        return value

    @field_validator("WEBHOOK_SECRET_KEYS")
    @classmethod
    def _check_fernet_keys(cls, value: list[str]) -> list[str]:
        for position, key in enumerate(value, start=1):
            try:
                raw = base64.urlsafe_b64decode(key.encode("ascii"))
            except (ValueError, UnicodeError):
                raw = b""
            if len(raw) != 32:
                raise ValueError(
                    f"WEBHOOK_SECRET_KEYS: key {position} is not a Fernet key (urlsafe base64 of 32 bytes; make one "
                    "with `python -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())'`)"
                )
        return value

    @field_validator("DATABASE_URL")
    @classmethod
    def _normalise_postgres_scheme(cls, value: str) -> str:
        # Hosting platforms hand out postgres:// URLs; SQLAlchemy needs a driver name.
        for prefix in ("postgres://", "postgresql://"):
            if value.startswith(prefix):
                return "postgresql+psycopg://" + value[len(prefix) :]
        return value

    @model_validator(mode="after")
    def _sync_off_in_tests(self) -> Settings:
        if self.ENVIRONMENT == "test" and "SYNC_INTERVAL_HOURS" not in self.model_fields_set:
            self.SYNC_INTERVAL_HOURS = 0.0  # tests never reach OHCHR unless they ask for it
        return self

    @model_validator(mode="after")
    def _check_limits(self) -> Settings:
        if "*" in self.CORS_ORIGINS and self.ENVIRONMENT == "production":
            raise ValueError("CORS_ORIGINS must list origins in production, not '*'")
        if self.ENVIRONMENT == "production" and (not self.SECRET_KEY or len(self.SECRET_KEY) < MIN_SECRET_LENGTH):
            raise ValueError(
                f"SECRET_KEY must be set in production, at least {MIN_SECRET_LENGTH} characters "
                "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`)"
            )
        if self.ENVIRONMENT == "production" and not self.WEBHOOK_SECRET_KEYS:
            raise ValueError(
                "WEBHOOK_SECRET_KEYS must be set in production: a JSON list of Fernet keys that encrypt the "
                "stored webhook secrets, e.g. "
                "`python -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())'`"
            )
        if self.WORKER_LEASE_S < 2 * self.WEBHOOK_TIMEOUT_S:
            raise ValueError(
                "WORKER_LEASE_S must be at least twice WEBHOOK_TIMEOUT_S (a claim must outlive an attempt)"
            )
        return self


@lru_cache
def get_settings() -> Settings:
    """Return the process-wide settings, read once (tests call `get_settings.cache_clear()`)."""
    return Settings()


def load_secret_key(settings: Settings) -> bytes:
    """The server secret: `SECRET_KEY`, or (development/test) one generated once into SECRET_KEY_FILE.

    The file is created with mode 0600 by an atomic hard link, so of several workers
    starting together exactly one writes it and all of them read the same key.
    """
    if settings.SECRET_KEY:
        return settings.SECRET_KEY.encode("utf-8")
    if settings.ENVIRONMENT == "production":  # the validator already refuses this; never fall back
        raise RuntimeError("SECRET_KEY is required in production")
    path = settings.SECRET_KEY_FILE
    if not path.exists():
        private_dir(path.parent)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(secrets.token_urlsafe(48))
            with contextlib.suppress(FileExistsError):  # another worker won the race: then use theirs
                os.link(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    key = path.read_text(encoding="utf-8").strip()
    if len(key) < MIN_SECRET_LENGTH:
        raise RuntimeError(f"{path} holds a key shorter than {MIN_SECRET_LENGTH} characters; delete it to regenerate")
    return key.encode("utf-8")
