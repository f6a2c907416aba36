"""Schemas of POST /v1/classify."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ClassifyRequest(BaseModel):
    """A text to tag with themes."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"text": "Ratify OPCAT and set up a national preventive mechanism", "top": 3}]},
    )

    text: str = Field(min_length=1, max_length=5000)
    scheme: Literal["upr_info_issues", "uhri", "uhri_legacy_coded", "sdgs", "affected_groups"] = "upr_info_issues"
    top: int = Field(default=5, ge=1, le=60, description="How many themes to return, best first.")


class ThemeScore(BaseModel):
    theme: str
    probability: float = Field(ge=0, le=1)
    predicted: bool = Field(description="Over the tagger's decision threshold: the tagger would assign it.")


class ClassifyResponse(BaseModel):
    """Themes of the text with calibrated probabilities."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "scheme": "upr_info_issues",
                    "model_version": "5f0c2a91d3e4",
                    "themes": [
                        {"theme": "Torture and other CID treatment", "probability": 0.93, "predicted": True},
                        {"theme": "International instruments", "probability": 0.88, "predicted": True},
                        {"theme": "Detention", "probability": 0.21, "predicted": False},
                    ],
                }
            ]
        }
    )

    scheme: str
    model_version: str
    themes: list[ThemeScore]
