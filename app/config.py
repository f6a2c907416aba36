"""Settings read from the environment (and an optional `.env` file).

Every field is documented in the README's configuration table; names are the
environment variables, upper case, with no prefix so that `DATABASE_URL` is the
name hosting platforms already use.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Runtime configuration of the service and the CLI."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    ENVIRONMENT: Literal["development", "test", "production"] = "development"
    DATABASE_URL: str = "sqlite:///./var/upr-match.db"
    # SQLite: FULL survives power loss; NORMAL (faster) only an application crash.
    SQLITE_SYNCHRONOUS: Literal["FULL", "NORMAL"] = "FULL"
    DB_POOL_SIZE: int = Field(default=5, ge=1, le=100)
    DB_STATEMENT_TIMEOUT_MS: int = Field(default=5000, ge=100)
    DB_CONNECT_TIMEOUT_S: int = Field(default=3, ge=1, le=60)

    UPR_DATA_DIR: Path = Path("../shared/data/upr")
    MODEL_DIR: Path = Path("./var/models")

    LOG_LEVEL: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    MAX_BODY_BYTES: int = Field(default=1024 * 1024, ge=1024)
    MAX_IMPORT_BYTES: int = Field(default=64 * 1024 * 1024, ge=1024)
    MAX_IMPORT_ROWS: int = Field(default=500_000, ge=1)
    CORS_ORIGINS: list[str] = Field(default_factory=list)

    RATE_LIMIT_PER_MINUTE: int = Field(default=600, ge=1)
    WRITE_QUOTA_PER_HOUR: int = Field(default=1000, ge=1)
    AUTH_FAILURES_PER_MINUTE: int = Field(default=20, ge=1)

    # Matching: how the text score and the structured signals combine (README, "How matches are ranked").
    MATCH_WEIGHT_TEXT: float = Field(default=0.45, ge=0)
    MATCH_WEIGHT_THEME: float = Field(default=0.55, ge=0)
    MATCH_WEIGHT_LANGUAGE: float = Field(default=0.05, ge=0)
    MATCH_WEIGHT_PRESENCE: float = Field(default=0.08, ge=0)
    MATCH_WEIGHT_MODALITY: float = Field(default=0.07, ge=0)
    MATCH_WEIGHT_HISTORY: float = Field(default=0.05, ge=0)
    MATCH_MAX_LIMIT: int = Field(default=50, ge=1, le=200)

    @field_validator("DATABASE_URL")
    @classmethod
    def _normalise_postgres_scheme(cls, value: str) -> str:
        # Hosting platforms hand out postgres:// URLs; SQLAlchemy needs a driver name.
        for prefix in ("postgres://", "postgresql://"):
            if value.startswith(prefix):
                return "postgresql+psycopg://" + value[len(prefix) :]
        return value

    @model_validator(mode="after")
    def _check_limits(self) -> Settings:
        if "*" in self.CORS_ORIGINS and self.ENVIRONMENT == "production":
            raise ValueError("CORS_ORIGINS must list origins in production, not '*'")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.DATABASE_URL.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    """Return the process-wide settings, read once (tests call `get_settings.cache_clear()`)."""
    return Settings()
