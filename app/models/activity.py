"""Cooperation activities: who helps which State with what, for which recommendations."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import field_validator
from sqlalchemy import Column, Index, Text, text
from sqlmodel import Field, SQLModel

from app.models.common import JsonType, SQLModelConfig, UTCDateTime, utcnow
from app.reference.vocab import (
    MAX_RECOMMENDATIONS,
    ActivityStatus,
    Confirmation,
    HttpsUrl,
    Iso3,
    Modality,
    RecommendationId,
)

MAX_DOCUMENTS = 20  # document links per activity


# The stored activity. Its provider and need can't be deleted while it exists (ON DELETE RESTRICT).
class Activity(SQLModel, table=True):
    __tablename__ = "activity"
    __table_args__ = (Index(None, "created_at", "id"),)

    id: str = Field(default_factory=lambda: str(uuid.uuid4()), primary_key=True, max_length=36)
    provider_id: str = Field(foreign_key="provider.id", ondelete="RESTRICT", max_length=36, index=True)
    state: str = Field(max_length=3, index=True)
    need_id: str | None = Field(default=None, foreign_key="need.id", ondelete="RESTRICT", max_length=36, index=True)
    title: str = Field(max_length=200)
    description: str = Field(default="", sa_column=Column(Text, nullable=False))
    modality: str = Field(max_length=32)
    status: str = Field(default="planned", max_length=16, index=True)
    start_date: date | None = None
    end_date: date | None = None
    funding_source: str | None = Field(default=None, max_length=500)
    outcomes: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # What was hard, and what the parties learned (would do again, or not): with the outcomes, a good practice.
    challenges: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    lessons: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    documents: list[str] = Field(
        default_factory=list, sa_column=Column(JsonType, nullable=False, server_default=text("'[]'"))
    )
    is_demo: bool = Field(default=False)
    # Who recorded the current content (a party or an admin) and whether the other side agrees.
    # Rows recorded before confirmations existed have no recorder and count as confirmed.
    confirmation: str = Field(
        default="unconfirmed", max_length=16, index=True, sa_column_kwargs={"server_default": "unconfirmed"}
    )
    recorded_by_role: str | None = Field(default=None, max_length=16)
    recorded_by_key_id: str | None = Field(default=None, max_length=36)
    confirmed_by_role: str | None = Field(default=None, max_length=16)
    confirmed_by_key_id: str | None = Field(default=None, max_length=36)
    confirmed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    decline_reason: str | None = Field(default=None, max_length=1000)
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))


# A recommendation an activity works on; rows go with their activity.
class ActivityRecommendation(SQLModel, table=True):
    __tablename__ = "activity_recommendation"

    activity_id: str = Field(foreign_key="activity.id", ondelete="CASCADE", primary_key=True, max_length=36)
    recommendation_id: str = Field(
        foreign_key="recommendation.id", ondelete="RESTRICT", primary_key=True, max_length=128, index=True
    )
    position: int = Field(default=0)


# Body of POST /v1/activities. A provider key may omit provider_id, a State key `state`.
class ActivityCreate(SQLModel):
    model_config = SQLModelConfig(extra="forbid")

    provider_id: str | None = Field(default=None, min_length=1, max_length=36)
    state: Iso3 | None = None
    need_id: str | None = Field(default=None, min_length=1, max_length=36)
    recommendation_ids: list[RecommendationId] = Field(
        default_factory=list,
        max_length=MAX_RECOMMENDATIONS,
        description="Recommendations addressed to `state`, whatever the State's response (supported, noted, pending).",
    )
    title: str = Field(min_length=3, max_length=200)
    description: str = Field(default="", max_length=10_000)
    modality: Modality
    status: ActivityStatus = "planned"
    start_date: date | None = None
    end_date: date | None = Field(default=None, description="On or after start_date.")
    funding_source: str | None = Field(
        default=None, max_length=500, description='e.g. "UPR Voluntary Fund for Financial and Technical Assistance".'
    )
    outcomes: str | None = Field(default=None, max_length=10_000, description="What was achieved.")
    challenges: str | None = Field(default=None, max_length=10_000, description="What was hard.")
    lessons: str | None = Field(
        default=None, max_length=10_000, description="Lessons learned: what the parties would do again, and what not."
    )
    documents: list[HttpsUrl] = Field(
        default_factory=list, max_length=MAX_DOCUMENTS, description="https links to reports, agendas, materials."
    )


# Body of PATCH /v1/activities/{id}. The parties (provider_id, state) never change.
class ActivityUpdate(SQLModel):
    model_config = SQLModelConfig(extra="forbid")

    need_id: str | None = Field(default=None, min_length=1, max_length=36)
    recommendation_ids: list[RecommendationId] | None = Field(default=None, max_length=MAX_RECOMMENDATIONS)
    title: str | None = Field(default=None, min_length=3, max_length=200)
    description: str | None = Field(default=None, max_length=10_000)
    modality: Modality | None = None
    status: ActivityStatus | None = None
    start_date: date | None = None
    end_date: date | None = None
    funding_source: str | None = Field(default=None, max_length=500)
    outcomes: str | None = Field(default=None, max_length=10_000)
    challenges: str | None = Field(default=None, max_length=10_000)
    lessons: str | None = Field(default=None, max_length=10_000)
    documents: list[HttpsUrl] | None = Field(default=None, max_length=MAX_DOCUMENTS)


# Body of POST /v1/activities/{id}/decline.
class ActivityDecline(SQLModel):
    model_config = SQLModelConfig(extra="forbid")

    reason: str = Field(
        min_length=3,
        max_length=1000,
        description="Why the activity did not take place as recorded; shown to the parties and admins only.",
    )

    @field_validator("reason")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        text = " ".join(value.split())
        if len(text) < 3:
            raise ValueError("give a reason of at least 3 characters")
        return text


# An activity as the API shows it.
class ActivityPublic(SQLModel):
    id: str
    provider_id: str
    state: str
    need_id: str | None
    recommendation_ids: list[str]
    title: str
    description: str
    modality: str
    status: str
    start_date: date | None
    end_date: date | None
    funding_source: str | None
    outcomes: str | None = Field(description="What was achieved.")
    challenges: str | None = Field(description="What was hard.")
    lessons: str | None = Field(description="Lessons learned: what the parties would do again, and what not.")
    documents: list[str] = Field(description="https links to reports, agendas, materials.")
    is_demo: bool
    confirmation: Confirmation = Field(
        description="unconfirmed (recorded by one party: only the parties and admins see it), confirmed "
        "(public once not planned, and counted in the ranking) or declined (by the other party)."
    )
    recorded_by: str | None = Field(
        description="Who recorded the current content: state, provider or admin (null: before confirmations)."
    )
    confirmed_by: str | None = Field(description="Who confirmed it: state, provider or admin.")
    confirmed_at: datetime | None
    decline_reason: str | None = Field(description="Why the other party declined it (declined only).")
    version: int
    created_at: datetime
    updated_at: datetime
