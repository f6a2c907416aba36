"""API keys: stored only as a SHA-256 hash, bound to a role and, for states and providers, an owner."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from app.models.common import SQLModelConfig, UTCDateTime, utcnow
from app.reference.vocab import Email

Role = Literal["admin", "state", "provider"]


# Shared fields of a key, as created and as listed.
class ApiKeyBase(SQLModel):
    name: str = Field(min_length=1, max_length=120, description="Who or what uses the key.")
    role: str = Field(max_length=16, description="admin, state or provider.")
    state: str | None = Field(
        default=None, min_length=3, max_length=3, description="ISO3 of the State a `state` key acts for."
    )
    provider_id: str | None = Field(default=None, max_length=36, description="Provider a `provider` key acts for.")
    contact_email: str | None = Field(
        default=None, max_length=254, description="State keys: where e-mail notices go (with SMTP_URL set)."
    )


# The stored key; the secret itself is never stored, only its hash.
class ApiKey(ApiKeyBase, table=True):
    __tablename__ = "api_key"

    id: str = Field(default_factory=lambda: str(uuid.uuid4()), primary_key=True, max_length=36)
    prefix: str = Field(max_length=16, index=True, unique=True, description="Public part of the key, for lookup.")
    key_hash: str = Field(max_length=64, description="sha256 of the whole key, hex.")
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))


# Body of POST /v1/keys.
class ApiKeyCreate(SQLModel):
    model_config = SQLModelConfig(extra="forbid")

    name: str = Field(min_length=1, max_length=120, description="Who or what uses the key.")
    role: Role
    state: str | None = Field(default=None, min_length=3, max_length=3, regex=r"^[A-Za-z]{3}$")
    provider_id: str | None = Field(default=None, min_length=1, max_length=36)
    contact_email: Email | None = Field(
        default=None, description="State keys: where the State's e-mail notices go (with SMTP_URL set)."
    )


# A key as listed (never the secret).
class ApiKeyPublic(ApiKeyBase):
    id: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


# The answer to a create: the only time the secret is shown.
class ApiKeyCreated(ApiKeyPublic):
    key: str = Field(description="The secret key. Shown once; store it now.")
