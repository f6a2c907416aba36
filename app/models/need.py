"""Needs: what a State asks help with, citing the UPR recommendations it supported."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Column, Index, Text, text
from sqlmodel import Field, SQLModel

from app.models.common import JsonType, SQLModelConfig, UTCDateTime, utcnow
from app.reference.vocab import (
    MAX_NEED_THEMES,
    MAX_RECOMMENDATIONS,
    Iso3,
    LanguageCode,
    Modality,
    NeedStatus,
    Priority,
    RecommendationId,
    Theme,
    Visibility,
)


# The stored need. The recommendations it cites live in need_recommendation, its themes
# (case-folded) also in need_theme, so both filters are indexed joins on every backend.
class Need(SQLModel, table=True):
    __tablename__ = "need"
    __table_args__ = (Index(None, "created_at", "id"),)

    id: str = Field(default_factory=lambda: str(uuid.uuid4()), primary_key=True, max_length=36)
    state: str = Field(max_length=3, index=True)
    title: str = Field(max_length=200)
    description: str = Field(default="", sa_column=Column(Text, nullable=False))
    themes: list[str] = Field(default_factory=list, sa_column=Column(JsonType, nullable=False))
    # The themes the tagger reads in the cited recommendations (best first); server-owned.
    themes_predicted: list[str] = Field(
        default_factory=list, sa_column=Column(JsonType, nullable=False, server_default=text("'[]'"))
    )
    languages: list[str] = Field(default_factory=list, sa_column=Column(JsonType, nullable=False))
    modalities: list[str] = Field(default_factory=list, sa_column=Column(JsonType, nullable=False))
    priority: str = Field(default="medium", max_length=16)
    status: str = Field(default="open", max_length=16, index=True)
    visibility: str = Field(default="public", max_length=16)
    is_demo: bool = Field(default=False)
    # sha256 of (State, sorted recommendation ids, normalised title) while the need is not closed,
    # NULL once closed: the unique index makes concurrent duplicate filings impossible.
    dedupe_key: str | None = Field(default=None, max_length=64, unique=True)
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))


# A recommendation cited by a need; rows go with their need, a cited recommendation can't be deleted.
class NeedRecommendation(SQLModel, table=True):
    __tablename__ = "need_recommendation"

    need_id: str = Field(foreign_key="need.id", ondelete="CASCADE", primary_key=True, max_length=36)
    recommendation_id: str = Field(
        foreign_key="recommendation.id", ondelete="RESTRICT", primary_key=True, max_length=128, index=True
    )
    position: int = Field(default=0, description="Order in which the need lists it.")


# One theme of a need, case-folded, for the `theme` filter.
class NeedTheme(SQLModel, table=True):
    __tablename__ = "need_theme"

    need_id: str = Field(foreign_key="need.id", ondelete="CASCADE", primary_key=True, max_length=36)
    theme: str = Field(primary_key=True, max_length=120, index=True)


# Body of POST /v1/needs. `state` may be omitted by a State key (the key decides it).
class NeedCreate(SQLModel):
    model_config = SQLModelConfig(extra="forbid")

    state: Iso3 | None = Field(default=None, description="ISO3; a State key may omit it (its own State).")
    title: str = Field(min_length=3, max_length=200)
    description: str = Field(default="", max_length=10_000)
    recommendation_ids: list[RecommendationId] = Field(
        min_length=1,
        max_length=MAX_RECOMMENDATIONS,
        description="Supported recommendations addressed to `state` (1-200).",
    )
    themes: list[Theme] | None = Field(
        default=None,
        max_length=MAX_NEED_THEMES,
        description="Defaults to the union of the recommendations' human labels (predicted themes are not declared: "
        "they show in `themes_predicted`).",
    )
    languages: list[LanguageCode] = Field(default_factory=list, max_length=50)
    modalities: list[Modality] = Field(default_factory=list, max_length=8)
    priority: Priority = "medium"
    status: NeedStatus = "open"
    visibility: Visibility = "public"


# Body of PATCH /v1/needs/{id}: every field optional. The State of a need never changes.
class NeedUpdate(SQLModel):
    model_config = SQLModelConfig(extra="forbid")

    title: str | None = Field(default=None, min_length=3, max_length=200)
    description: str | None = Field(default=None, max_length=10_000)
    recommendation_ids: list[RecommendationId] | None = Field(
        default=None, min_length=1, max_length=MAX_RECOMMENDATIONS
    )
    themes: list[Theme] | None = Field(default=None, max_length=MAX_NEED_THEMES)
    languages: list[LanguageCode] | None = Field(default=None, max_length=50)
    modalities: list[Modality] | None = Field(default=None, max_length=8)
    priority: Priority | None = None
    status: NeedStatus | None = None
    visibility: Visibility | None = None


# A need as the API shows it (to whoever may see it).
class NeedPublic(SQLModel):
    id: str
    state: str
    title: str
    description: str
    recommendation_ids: list[str]
    themes: list[str] = Field(
        description="Declared themes: the State's, or the human labels of the cited recommendations; they count "
        "fully in matching."
    )
    themes_predicted: list[str] = Field(
        default_factory=list,
        description="The themes read in the cited recommendations by the theme tagger, best first; empty without "
        "a tagger. While `themes` is empty, matching reads the need's themes from its recommendations.",
    )
    languages: list[str]
    modalities: list[str]
    priority: str
    status: str
    visibility: str
    is_demo: bool
    version: int
    created_at: datetime
    updated_at: datetime
