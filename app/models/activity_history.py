"""A confirmed activity's shared history: the proposals of one party and the versions both agreed to.

A confirmed activity is the shared record of its two parties. A party changes or deletes
it by *proposing*: an `activity_proposal` row the other party accepts or rejects (the
proposer may withdraw it), while the confirmed version stays public and unchanged. Every
content the activity has had is an `activity_version` row: who recorded it, when, which
fields changed, and who accepted it. Both go with their activity (ON DELETE CASCADE).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import field_validator
from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.common import JsonType, SQLModelConfig, UTCDateTime, utcnow

ProposalKind = Literal["change", "deletion"]
ProposalStatus = Literal["pending", "accepted", "rejected", "withdrawn"]
VersionOrigin = Literal["recorded", "edited", "proposal"]
MAX_PROPOSAL_MESSAGE = 1000
# The fields of an activity a version keeps (the parties never change).
CONTENT_FIELDS = (
    "need_id",
    "recommendation_ids",
    "title",
    "description",
    "modality",
    "status",
    "start_date",
    "end_date",
    "funding_source",
    "outcomes",
    "challenges",
    "lessons",
    "documents",
)


# What one party proposes to do to a confirmed activity. `open_key` is the activity's id while
# pending, NULL after: the unique index allows one pending proposal per activity.
class ActivityProposal(SQLModel, table=True):
    __tablename__ = "activity_proposal"
    __table_args__ = (Index(None, "activity_id", "created_at"),)

    id: str = Field(default_factory=lambda: str(uuid.uuid4()), primary_key=True, max_length=36)
    activity_id: str = Field(foreign_key="activity.id", ondelete="CASCADE", max_length=36)
    kind: str = Field(max_length=16)
    # The fields a change sets, as PATCH took them ({} for a deletion).
    changes: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JsonType, nullable=False))
    status: str = Field(default="pending", max_length=16, index=True)
    base_version: int
    proposed_by_role: str = Field(max_length=16)
    proposed_by_key_id: str | None = Field(default=None, max_length=36)
    answered_by_role: str | None = Field(default=None, max_length=16)
    answered_by_key_id: str | None = Field(default=None, max_length=36)
    answered_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    answer_message: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    open_key: str | None = Field(default=None, max_length=36, unique=True)
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))


# One content of an activity: numbered from 1, with who recorded it and who accepted it.
class ActivityVersion(SQLModel, table=True):
    __tablename__ = "activity_version"
    __table_args__ = (UniqueConstraint("activity_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    activity_id: str = Field(foreign_key="activity.id", ondelete="CASCADE", max_length=36)
    number: int
    origin: str = Field(max_length=16)
    content: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JsonType, nullable=False))
    changed: list[str] = Field(default_factory=list, sa_column=Column(JsonType, nullable=False))
    recorded_by_role: str | None = Field(default=None, max_length=16)
    recorded_by_key_id: str | None = Field(default=None, max_length=36)
    recorded_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    accepted_by_role: str | None = Field(default=None, max_length=16)
    accepted_by_key_id: str | None = Field(default=None, max_length=36)
    accepted_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    proposal_id: str | None = Field(default=None, max_length=36)


def _message(value: str | None) -> str | None:
    """Plain text, trimmed; blank is none."""
    if value is None:
        return None
    return value.strip() or None


# Body of POST /v1/activities/{id}/proposals/{pid}/accept, /reject and /withdraw.
class ProposalAnswer(SQLModel):
    model_config = SQLModelConfig(extra="forbid")

    message: str | None = Field(
        default=None, max_length=MAX_PROPOSAL_MESSAGE, description="Plain text for the other party (optional)."
    )

    _clean = field_validator("message")(_message)


# A proposal as the parties and admins see it.
class ActivityProposalPublic(SQLModel):
    id: str
    activity_id: str
    kind: ProposalKind = Field(
        description="change (the fields in `changes`, as a PATCH sent them) or deletion (of the whole activity)."
    )
    changes: dict[str, Any] = Field(description="The fields a change sets; empty for a deletion.")
    status: ProposalStatus = Field(
        description="pending until the other party accepts or rejects it, or the proposer withdraws it."
    )
    base_version: int = Field(description="The activity's version (ETag) the proposal was made on.")
    proposed_by: str = Field(description="state or provider.")
    answered_by: str | None = Field(description="Who accepted, rejected or withdrew it: state, provider or admin.")
    answered_at: datetime | None
    answer_message: str | None
    version: int
    created_at: datetime
    updated_at: datetime


# A version as the parties and admins see it.
class ActivityVersionPublic(SQLModel):
    number: int = Field(description="1 for the content first recorded, then one more for each change.")
    origin: VersionOrigin = Field(
        description="recorded (first content), edited (by a party before confirmation, or an admin) or "
        "proposal (a change the other party accepted)."
    )
    content: dict[str, Any] = Field(description="The activity's fields in this version.")
    changed: list[str] = Field(description="The fields this version changed from the one before.")
    recorded_by: str | None = Field(description="Who wrote this content: state, provider or admin.")
    recorded_at: datetime
    accepted_by: str | None = Field(description="Who accepted it (confirmed, or accepted the proposal); null: not yet.")
    accepted_at: datetime | None
    proposal_id: str | None = Field(description="The accepted proposal this version came from.")
