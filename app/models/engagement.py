"""Engagements: a State asks a provider for help with a need, or a provider offers it; the other party answers.

An engagement is `proposed` until the party that did not start it accepts or declines it,
or the party that started it withdraws it. Everything in it (messages, the reason of a
decline) is for the two parties and admins only; once accepted, the activity it creates
is the public record.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import field_validator
from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from app.models.common import SQLModelConfig, UTCDateTime, utcnow

EngagementStatus = Literal["proposed", "accepted", "declined", "withdrawn"]
# invitation: the need's State asked the provider; offer: the provider offered help.
Direction = Literal["invitation", "offer"]
DeclineReason = Literal["out_of_scope", "no_capacity", "no_funding", "timing", "other"]
ENGAGEMENT_STATUSES: tuple[str, ...] = ("proposed", "accepted", "declined", "withdrawn")
DECLINE_REASONS: tuple[str, ...] = ("out_of_scope", "no_capacity", "no_funding", "timing", "other")
# Proposed and accepted engagements are "open": one per (need, provider).
OPEN_STATUSES = frozenset({"proposed", "accepted"})
MAX_MESSAGE = 5000


def _message(value: str | None) -> str | None:
    """Plain text: trimmed; line breaks kept."""
    if value is None:
        return None
    return value.strip()


# The stored engagement. It goes with its need or its provider (ON DELETE CASCADE); the activity
# an acceptance created stays (SET NULL), and it keeps the need from being deleted.
class Engagement(SQLModel, table=True):
    __tablename__ = "engagement"
    __table_args__ = (Index(None, "created_at", "id"),)

    id: str = Field(default_factory=lambda: str(uuid.uuid4()), primary_key=True, max_length=36)
    need_id: str = Field(foreign_key="need.id", ondelete="CASCADE", max_length=36, index=True)
    provider_id: str = Field(foreign_key="provider.id", ondelete="CASCADE", max_length=36, index=True)
    state: str = Field(max_length=3, index=True)
    direction: str = Field(max_length=16)
    status: str = Field(default="proposed", max_length=16, index=True)
    message: str = Field(default="", sa_column=Column(Text, nullable=False))
    answer_message: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    decline_reason: str | None = Field(default=None, max_length=16)
    activity_id: str | None = Field(default=None, foreign_key="activity.id", ondelete="SET NULL", max_length=36)
    initiated_by_role: str = Field(max_length=16)
    initiated_by_key_id: str | None = Field(default=None, max_length=36)
    answered_by_role: str | None = Field(default=None, max_length=16)
    answered_by_key_id: str | None = Field(default=None, max_length=36)
    answered_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    # "<need id>:<provider id>" while proposed or accepted, NULL after: the unique index makes a
    # second open engagement of the same pair impossible, even between concurrent requests.
    open_key: str | None = Field(default=None, max_length=80, unique=True)
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))


# Body of POST /v1/needs/{need_id}/engagements.
class EngagementCreate(SQLModel):
    model_config = SQLModelConfig(extra="forbid")

    provider_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=36,
        description="The provider the State asks (State keys and admins). A provider key offering help leaves "
        "it out (or names itself).",
    )
    message: str = Field(
        min_length=1, max_length=MAX_MESSAGE, description="Plain text for the other party (at most 5,000 characters)."
    )

    @field_validator("message")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        text = value.strip()
        if not text:
            raise ValueError("write a message to the other party")
        return text


# Body of POST /v1/engagements/{id}/accept.
class EngagementAccept(SQLModel):
    model_config = SQLModelConfig(extra="forbid")

    message: str | None = Field(default=None, max_length=MAX_MESSAGE, description="Plain text for the other party.")

    _clean = field_validator("message")(_message)


# Body of POST /v1/engagements/{id}/decline.
class EngagementDecline(SQLModel):
    model_config = SQLModelConfig(extra="forbid")

    reason: DeclineReason = Field(
        description="out_of_scope (the provider is then no longer suggested for this need), no_capacity, "
        "no_funding, timing or other. Never shown publicly."
    )
    message: str | None = Field(default=None, max_length=MAX_MESSAGE, description="Plain text for the other party.")

    _clean = field_validator("message")(_message)


# An engagement as its parties and admins see it.
class EngagementPublic(SQLModel):
    id: str
    need_id: str
    provider_id: str
    state: str
    direction: Direction = Field(description="invitation (the State asked) or offer (the provider offered).")
    status: EngagementStatus
    message: str = Field(description="The first party's message.")
    answer_message: str | None = Field(description="The answer's message, if any.")
    decline_reason: DeclineReason | None
    activity_id: str | None = Field(description="The confirmed activity an acceptance created.")
    initiated_by: str = Field(description="state, provider or admin.")
    answered_by: str | None = Field(description="state, provider or admin (accept, decline); withdraw: the initiator.")
    answered_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime
