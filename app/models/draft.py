"""Schemas of drafted needs (proposals computed on request; nothing is stored)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from app.models.match import ProviderMatch


class DraftRequest(BaseModel):
    """Options for drafting needs."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"max_drafts": 5, "suggestions": 3}]})

    max_drafts: int = Field(default=10, ge=1, le=50, description="How many drafts at most (largest first).")
    suggestions: int = Field(default=3, ge=0, le=10, description="Suggested providers per draft.")
    cycle: int | None = Field(default=None, ge=1, le=20, description="Only recommendations of this cycle.")


class DraftAsk(BaseModel):
    ids: list[str] = Field(description="The recommendation and its near-duplicates (newest first).")
    text: str = Field(description="The newest wording.")


class DraftNeed(BaseModel):
    """A proposed need: file it with POST /v1/needs using `title` and `recommendation_ids`."""

    theme: str
    title: str
    recommendation_ids: list[str]
    asks: list[DraftAsk] = Field(description="Distinct asks, near-duplicates across cycles merged.")
    suggested_providers: list[ProviderMatch]


class DraftNeeds(BaseModel):
    """Drafted needs for a State from its supported recommendations that no need covers yet."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "state": "KEN",
                    "uncovered_recommendations": 212,
                    "total_drafts": 31,
                    "items": [
                        {
                            "theme": "Torture and other CID treatment",
                            "title": (
                                "Torture and other CID treatment: support to implement 6 supported recommendations"
                            ),
                            "recommendation_ids": ["uprinfo-c2-s21-KEN-..."],
                            "asks": [{"ids": ["uprinfo-c2-s21-KEN-..."], "text": "Ratify the OPCAT"}],
                            "suggested_providers": [],
                        }
                    ],
                }
            ]
        }
    )

    state: str
    uncovered_recommendations: int = Field(ge=0)
    total_drafts: int = Field(ge=0)
    items: list[DraftNeed]
