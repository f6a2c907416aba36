"""Where help is missing: the funding table, each need's best match, and the analytics answers.

- `funding_resource`: USD required and available per country and SDG, from the UN country teams'
  cooperation frameworks (UN INFO), imported by `upr-match import-funding`; never committed.
- `need_best_score`: the best score the ranking gives a need, stored when the need is scored (the
  worker on every filing or change, `upr-match analytics refresh` for all open needs), with the
  moment it fell below the "strong" band, so "unserved for 30 days" is a range query.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.core.jsontypes import JsonObject
from app.models.common import UTCDateTime, utcnow


# USD required and available for one country and SDG, as the cooperation framework states them.
class FundingResource(SQLModel, table=True):
    __tablename__ = "funding_resource"
    __table_args__ = (UniqueConstraint("state", "sdg"),)

    id: int | None = Field(default=None, primary_key=True)
    state: str = Field(max_length=3, index=True)
    sdg: int
    required: float | None = Field(default=None, description="USD; null when the framework states none.")
    available: float | None = Field(default=None, description="USD; null when the framework states none.")
    country_name: str = Field(max_length=128, description="The name as the source gives it.")
    source: str = Field(max_length=64)
    imported_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))


# The best score of a need, as the ranking last gave it.
class NeedBestScore(SQLModel, table=True):
    __tablename__ = "need_best_score"
    __table_args__ = (Index(None, "below_strong_since"),)

    need_id: str = Field(
        sa_column=Column(String(36), ForeignKey("need.id", ondelete="CASCADE"), primary_key=True, nullable=False)
    )
    score: float = Field(description="0 when no provider scores at all.")
    provider_id: str | None = Field(default=None, max_length=36)
    computed_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    below_strong_since: datetime | None = Field(
        default=None,
        sa_column=Column(UTCDateTime, nullable=True),
        description="Since when the best match is below the strong band (null: it is strong).",
    )


# --- answers ------------------------------------------------------------------------------

_PIPELINE_ROW: JsonObject = {
    "key": "Torture and other CID treatment",
    "label": "Torture and other CID treatment",
    "supported": 40,
    "not_started": 31,
    "requested": 5,
    "under_way": 3,
    "done": 1,
}


class PipelineRow(SQLModel):
    """Supported recommendations of one group, each counted once at the furthest stage it reached."""

    model_config = {"json_schema_extra": {"examples": [_PIPELINE_ROW]}}

    key: str = Field(description="The group: a theme, an ISO3 code, a regional group or an SDG number.")
    label: str
    supported: int = Field(ge=0, description="Supported recommendations (each once, other sources' copies aside).")
    not_started: int = Field(ge=0, description="Neither requested nor under way nor done.")
    requested: int = Field(ge=0, description="Cited by an open, matched or in-progress need, no activity yet.")
    under_way: int = Field(ge=0, description="Cited by a confirmed planned or ongoing activity, none completed.")
    done: int = Field(ge=0, description="Cited by a confirmed completed activity.")


class PipelinePage(SQLModel):
    """One page of pipeline rows, largest first, and the totals of the whole slice (each recommendation once)."""

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "items": [_PIPELINE_ROW],
                    "total": 1,
                    "limit": 20,
                    "offset": 0,
                    "by": "theme",
                    "totals": {**_PIPELINE_ROW, "key": "all", "label": "State MEX"},
                }
            ]
        }
    }

    items: list[PipelineRow]
    total: int = Field(ge=0)
    limit: int = Field(ge=1)
    offset: int = Field(ge=0)
    by: str
    totals: PipelineRow


class UnservedRow(SQLModel):
    """Unserved open needs of one group."""

    model_config = {
        "json_schema_extra": {
            "examples": [{"key": "es", "label": "Spanish", "needs": 3, "weak_match": 2, "all_declined": 1}]
        }
    }

    key: str
    label: str
    needs: int = Field(ge=0, description="Unserved needs in the group (either reason, each need once).")
    weak_match: int = Field(ge=0, description="Best match below the strong band for 30 days or more.")
    all_declined: int = Field(ge=0, description="Every engagement about the need was declined.")


class UnservedPage(SQLModel):
    """Unserved needs per group, most first, and the counts of the slice's open needs."""

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "items": [{"key": "es", "label": "Spanish", "needs": 3, "weak_match": 2, "all_declined": 1}],
                    "total": 1,
                    "limit": 20,
                    "offset": 0,
                    "by": "language",
                    "open_needs": 12,
                    "unserved_needs": 3,
                    "not_scored": 0,
                    "strong_threshold": 0.35,
                    "days": 30,
                }
            ]
        }
    }

    items: list[UnservedRow]
    total: int = Field(ge=0)
    limit: int = Field(ge=1)
    offset: int = Field(ge=0)
    by: str
    open_needs: int = Field(ge=0, description="Open needs in the slice the caller may see.")
    unserved_needs: int = Field(ge=0, description="Of them, unserved (each once).")
    not_scored: int = Field(ge=0, description="Open needs the ranking has not scored yet (counted as neither).")
    strong_threshold: float = Field(description="The score from which a match is strong.")
    days: int = Field(description="How long a need's best match must stay below strong to count.")


class SupplyDemandRow(SQLModel):
    """Open needs on a theme against the providers covering it, with where and in which language each side is."""

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "theme": "D25",
                    "label": "Prohibition of torture & cruel, inhuman or degrading treatment",
                    "open_needs": 4,
                    "providers": 2,
                    "need_regions": {"latin_america_caribbean": 3, "africa": 1},
                    "provider_regions": {"latin_america_caribbean": 2},
                    "need_languages": {"es": 3, "fr": 1},
                    "provider_languages": {"es": 2, "en": 2},
                    "regions_without_provider": ["africa"],
                    "languages_without_provider": ["fr"],
                }
            ]
        }
    }

    theme: str = Field(
        description="The controlled theme: its UHRI code (a need's label that maps to none: the label itself)."
    )
    label: str = Field(default="", description="The theme in words (the controlled label).")
    open_needs: int = Field(ge=0)
    providers: int = Field(ge=0, description="Providers declaring the theme or predicted on it by the tagger.")
    need_regions: dict[str, int] = Field(description="Open needs per UN regional group of their State.")
    provider_regions: dict[str, int] = Field(description="Providers per regional group they work in.")
    need_languages: dict[str, int]
    provider_languages: dict[str, int]
    regions_without_provider: list[str] = Field(description="Regions with needs and no provider of the theme.")
    languages_without_provider: list[str] = Field(description="Languages needs ask for that no provider offers.")


class SupplyDemandPage(SQLModel):
    """Themes of the slice's open needs, those without any provider first."""

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "items": [
                        {
                            "theme": "indigenous peoples",
                            "open_needs": 2,
                            "providers": 0,
                            "need_regions": {"asia_pacific": 2},
                            "provider_regions": {},
                            "need_languages": {"en": 2},
                            "provider_languages": {},
                            "regions_without_provider": ["asia_pacific"],
                            "languages_without_provider": ["en"],
                        }
                    ],
                    "total": 1,
                    "limit": 20,
                    "offset": 0,
                }
            ]
        }
    }

    items: list[SupplyDemandRow]
    total: int = Field(ge=0)
    limit: int = Field(ge=1)
    offset: int = Field(ge=0)


class FundingRow(SQLModel):
    """One SDG: the money the cooperation frameworks ask for and have, next to the UPR side."""

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "sdg": 16,
                    "required": 12500000.0,
                    "available": 4100000.0,
                    "gap": 8400000.0,
                    "states_with_data": 1,
                    "states_counted": 1,
                    "supported_recommendations": 120,
                    "open_needs": 2,
                }
            ]
        }
    }

    sdg: int = Field(ge=1, le=17)
    required: float | None = Field(
        description="USD required, summed over the States stating both figures (null: no State of the slice does)."
    )
    available: float | None = Field(description="USD available, summed over the same States as `required`.")
    gap: float | None = Field(description="required - available (negative when more is available than required).")
    states_with_data: int = Field(ge=0, description="States of the slice with a framework figure for the SDG.")
    states_counted: int = Field(
        default=0, ge=0, description="States stating both figures for the SDG: the States summed in the three sums."
    )
    supported_recommendations: int = Field(ge=0, description="Supported recommendations on the SDG (each once).")
    open_needs: int = Field(ge=0, description="Open needs citing a recommendation on the SDG.")


class FundingPage(SQLModel):
    """SDGs of the slice, largest funding gap first, with where the figures come from."""

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "items": [
                        {
                            "sdg": 16,
                            "required": 46750769.83,
                            "available": 19626957.83,
                            "gap": 27123812.0,
                            "states_with_data": 1,
                            "states_counted": 1,
                            "supported_recommendations": 120,
                            "open_needs": 2,
                        }
                    ],
                    "total": 1,
                    "limit": 20,
                    "offset": 0,
                    "states_with_data": 1,
                    "source": "UN INFO: resources required and available in the UN country teams' cooperation "
                    "frameworks, per country and SDG (imported 01 December 2026).",
                    "imported_at": "2026-12-01T18:00:00Z",
                }
            ]
        }
    }

    items: list[FundingRow]
    total: int = Field(ge=0)
    limit: int = Field(ge=1)
    offset: int = Field(ge=0)
    states_with_data: int = Field(ge=0, description="States of the slice with any funding figure.")
    source: str = Field(description="Where the figures come from, and when they were imported.")
    imported_at: datetime | None
