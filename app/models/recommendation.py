"""UPR recommendations: the table and its public schema."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from app.models.common import JsonType, UTCDateTime, utcnow

Response = Literal["supported", "noted", "pending"]


# Shared fields of a recommendation, as imported and as shown.
class RecommendationBase(SQLModel):
    source: str = Field(max_length=64, description="Where the record came from (e.g. upr_info_via_terman).")
    cycle: int = Field(ge=1, le=20, index=True, description="UPR cycle (1 = 2008-2012, ...).")
    session: int = Field(ge=1, le=200, index=True, description="UPR Working Group session.")
    state_under_review: str = Field(
        min_length=3, max_length=3, index=True, description="ISO 3166-1 alpha-3 of the State under review."
    )
    text: str = Field(sa_column=Column(Text, nullable=False), description="Recommendation text.")
    response: str = Field(max_length=16, index=True, description="supported, noted or pending.")
    response_raw: str | None = Field(default=None, max_length=64, description="The response as the source gave it.")
    theme_scheme: str | None = Field(default=None, max_length=32, description="Which taxonomy `themes` uses.")
    action_category: int | None = Field(default=None, ge=1, le=5, index=True, description="UPR Info action 1-5.")
    source_document: str | None = Field(default=None, max_length=255)
    paragraph: str | None = Field(default=None, max_length=32)
    provisional: bool = Field(default=False, description="Taken from a draft Working Group report.")


# The stored row; list-valued fields are JSON, with index tables for filtering.
class Recommendation(RecommendationBase, table=True):
    __tablename__ = "recommendation"
    __table_args__ = (Index(None, "state_under_review", "response", "cycle"),)

    id: str = Field(primary_key=True, max_length=128, description="Stable source id.")
    state_under_review_name: str = Field(default="", max_length=128)
    recommending_states: list[str] = Field(default_factory=list, sa_column=Column(JsonType, nullable=False))
    recommending_state_names: list[str] = Field(default_factory=list, sa_column=Column(JsonType, nullable=False))
    themes: list[str] = Field(default_factory=list, sa_column=Column(JsonType, nullable=False))
    themes_predicted: bool = Field(default=False, description="True when themes come from the tagger, not a human.")
    sdgs: list[int] = Field(default_factory=list, sa_column=Column(JsonType, nullable=False))
    affected_groups: list[str] = Field(default_factory=list, sa_column=Column(JsonType, nullable=False))
    content_hash: str = Field(max_length=64, description="sha256 of the canonical record, for upserts.")
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))


# What the API shows for a recommendation.
class RecommendationPublic(RecommendationBase):
    id: str
    state_under_review_name: str
    recommending_states: list[str]
    recommending_state_names: list[str]
    themes: list[str]
    themes_predicted: bool
    sdgs: list[int]
    affected_groups: list[str]
