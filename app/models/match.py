"""Schemas of the match answers (not tables)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from app.models.need import NeedPublic
from app.models.provider import ProviderPrivate, ProviderPublic
from app.reference.vocab import Iso3, LanguageCode, Modality, ProviderKind, Region, Theme

#: Most matches one request may ask for (query parameter `limit`, body field `limit`).
MAX_MATCHES = 50


class TermOut(BaseModel):
    term: str = Field(description="A word or two-word phrase (stemmed) shared by both texts.")
    weight: float = Field(description="Its contribution to the text similarity.")


class SignalOut(BaseModel):
    value: float = Field(ge=0, le=1, description="How well this component fits, 0 to 1.")
    weight: float = Field(ge=0, description="Its weight in the score (settings MATCH_WEIGHT_*).")
    detail: str = Field(description="What it found, in words.")


class Explanation(BaseModel):
    terms: list[TermOut] = Field(description="Shared terms that drove the text similarity, strongest first.")
    themes: list[str] = Field(description="Themes both sides share.")
    signals: dict[str, SignalOut] = Field(
        description=(
            "Every component that applied: text, theme, and where relevant language, presence, modality, history."
        )
    )
    summary: str = Field(description="The explanation in one line a person can read.")


class EngineInfo(BaseModel):
    version: str = Field(description="Log position and engine index version that answered.")
    documents: int = Field(
        ge=0, description="Documents searched: every provider, or the open needs this caller may see."
    )
    log_position: int = Field(ge=0, description="Last change of the index log this worker applied.")


class ProviderMatch(BaseModel):
    provider: ProviderPrivate | ProviderPublic
    score: float = Field(ge=0, le=1)
    explanation: Explanation


class NeedMatch(BaseModel):
    need: NeedPublic
    score: float = Field(ge=0, le=1)
    explanation: Explanation


class ProviderMatches(BaseModel):
    """Providers ranked for a need or a text, best first."""

    items: list[ProviderMatch]
    engine: EngineInfo
    language: str | None = Field(
        default=None,
        description=(
            "The language the need or text was written in when it is not English (`fr`, `es`), as detected: "
            "it was read in English before ranking. Absent for English."
        ),
        examples=["es"],
        exclude_if=lambda value: value is None,  # English answers stay exactly what they were
    )


class NeedMatches(BaseModel):
    """Needs ranked for a provider, best first (only needs the caller may see)."""

    items: list[NeedMatch]
    engine: EngineInfo


class MatchQuery(BaseModel):
    """Free text to match against providers, for a State exploring before it files a need."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"text": "Ratify OPCAT and set up a national preventive mechanism", "state": "KEN", "limit": 5}
            ]
        },
    )

    text: str = Field(min_length=1, max_length=2000, description="What help is needed, in words.")
    state: Iso3 | None = Field(default=None, description="The State asking (for the presence signal).")
    themes: list[Theme] = Field(default_factory=list, max_length=30, description="Themes of the request, if known.")
    limit: int = Field(default=10, ge=1, le=MAX_MATCHES)
    min_score: float = Field(default=0.0, ge=0, le=1)
    kinds: list[ProviderKind] = Field(default_factory=list, max_length=8, description="Only these provider kinds.")
    languages: list[LanguageCode] = Field(
        default_factory=list, max_length=20, description="Only providers working in one of these."
    )
    countries: list[Iso3] = Field(
        default_factory=list,
        max_length=50,
        description="Only providers present in one of these (or their region, or worldwide).",
    )
    regions: list[Region] = Field(
        default_factory=list, max_length=6, description="Only providers present in one of these regions (or worldwide)."
    )
    modalities: list[Modality] = Field(
        default_factory=list, max_length=8, description="Only providers offering one of these."
    )
