"""An organisation's request for a provider key, made on the pages and answered by an administrator."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from app.models.common import SQLModelConfig, UTCDateTime, utcnow
from app.reference.vocab import Email, HttpsUrl, ProviderKind

RegistrationStatus = Literal["pending", "approved", "rejected"]


# One request. Only a hash of the requester's private link is kept; the key is made when the
# requester opens the link after approval (`key_shown_at`), so its secret is shown once and never stored.
class ProviderRegistration(SQLModel, table=True):
    __tablename__ = "provider_registration"

    id: str = Field(default_factory=lambda: str(uuid.uuid4()), primary_key=True, max_length=36)
    organisation: str = Field(max_length=200)
    kind: str = Field(max_length=32)
    contact_name: str = Field(max_length=120)
    contact_email: str = Field(max_length=254)
    website: str | None = Field(default=None, max_length=2048)
    message: str = Field(default="", sa_column=Column(Text, nullable=False))
    status: str = Field(default="pending", max_length=16, index=True)
    token_hash: str = Field(max_length=64, unique=True)
    key_id: str | None = Field(default=None, max_length=36)
    answer_message: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    answered_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    key_shown_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))


# What the "register your organisation" form sends.
class RegistrationCreate(SQLModel):
    model_config = SQLModelConfig(extra="forbid")

    organisation: str = Field(min_length=2, max_length=200)
    kind: ProviderKind
    contact_name: str = Field(min_length=2, max_length=120)
    contact_email: Email
    website: HttpsUrl | None = None
    message: str = Field(default="", max_length=5_000)
