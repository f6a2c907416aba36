"""UPR recommendations: the table, its index tables and the API schemas.

List-valued fields (themes, recommending States, SDGs) are stored twice: as a
JSON column on `recommendation`, which is what the API shows and exports, and
as rows of small index tables (`recommendation_theme`, `recommendation_recommender`,
`recommendation_sdg`), which is what filters and facets query, so that a filter
is an indexed EXISTS on SQLite and PostgreSQL alike. The importer writes both in
the same transaction. Full-text search is not modelled here: migration 0003
creates an FTS5 table (SQLite) or a GIN expression index (PostgreSQL).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from sqlalchemy import Column, Date, ForeignKey, Index, Integer, String, Text, text
from sqlmodel import Field, SQLModel

from app.core.jsontypes import JsonObject
from app.models.common import JsonType, UTCDateTime, utcnow

Response = Literal["supported", "noted", "pending"]
RESPONSES: tuple[str, ...] = ("supported", "noted", "pending")
MAX_TEXT_LENGTH = 8_000

_EXAMPLE: JsonObject = {
    "id": "uprinfo-c1-s6-ALB-1d2b0e4f9a",
    "source": "upr_info_via_terman",
    "cycle": 1,
    "session": 6,
    "state_under_review": "ALB",
    "state_under_review_name": "Albania",
    "recommending_states": ["EGY"],
    "recommending_state_names": ["Egypt"],
    "text": "Accelerate its efforts towards the adoption of anti-discrimination and children's rights laws",
    "response": "supported",
    "response_raw": "accepted",
    "themes": ["Rights of the Child"],
    "theme_scheme": "upr_info_issues",
    "themes_predicted": False,
    "sdgs": [],
    "affected_groups": [],
    "themes_source": ["Rights of the Child"],
    "affected_groups_source": [],
    "theme_codes": ["F31"],
    "action_category": 4,
    "source_document": None,
    "paragraph": None,
    "provisional": False,
    "sdg_targets": [],
    "publication_date": None,
    "canonical_id": None,
    "link_method": None,
    "withdrawn_at": None,
    "linked_ids": [],
    "linked_sources": [],
}


# Shared fields of a recommendation, as imported and as shown.
class RecommendationBase(SQLModel):
    source: str = Field(max_length=64, description="Where the record came from (e.g. upr_info_via_terman).")
    # cycle, response and action_category have no index of their own: a few distinct values
    # each, served better by the covering list-order index (see Recommendation.__table_args__).
    cycle: int = Field(ge=1, le=20, description="UPR cycle (1 = 2008-2012, ...).")
    session: int = Field(ge=1, le=200, index=True, description="UPR Working Group session.")
    state_under_review: str = Field(
        min_length=3, max_length=3, index=True, description="ISO 3166-1 alpha-3 of the State under review."
    )
    text: str = Field(sa_column=Column(Text, nullable=False), description="Recommendation text.")
    response: str = Field(max_length=16, description="supported, noted or pending.")
    response_raw: str | None = Field(default=None, max_length=64, description="The response as the source gave it.")
    theme_scheme: str | None = Field(default=None, max_length=32, description="Which taxonomy `themes` uses.")
    action_category: int | None = Field(default=None, ge=1, le=5, description="UPR Info action 1-5.")
    source_document: str | None = Field(default=None, max_length=255)
    paragraph: str | None = Field(default=None, max_length=32)
    provisional: bool = Field(default=False, description="Taken from a draft Working Group report.")
    publication_date: date | None = Field(
        default=None, sa_column=Column(Date, nullable=True), description="Publication date of the source document."
    )
    canonical_id: str | None = Field(
        default=None,
        sa_column=Column(String(128), nullable=True),
        description="Set when this record is another source's copy of a recommendation: the id of the copy that "
        "counts (coverage, drafts). Null for the canonical record.",
    )
    link_method: str | None = Field(
        default=None,
        max_length=16,
        description="How this copy was linked to its canonical record: `exact` (same normalised text), `part` (one "
        "of the recommendations a joint entry merges) or `similar` (near-duplicate text).",
    )


# The stored row; list-valued fields are JSON, with index tables for filtering.
class Recommendation(RecommendationBase, table=True):
    __tablename__ = "recommendation"
    __table_args__ = (
        # Covers the facets' grouped count (State, response, cycle, source) of the records that count.
        Index(None, "state_under_review", "response", "cycle", "source", "canonical_id", "withdrawn_at"),
        # The list order (cycle, session, state, id) is read straight off this index, and
        # with response, action category, canonical_id and withdrawn_at in it, it covers the facet
        # counts and the common filters too, so those never touch the (wide) table rows.
        Index(
            None,
            "cycle",
            "session",
            "state_under_review",
            "id",
            "response",
            "action_category",
            "canonical_id",
            "withdrawn_at",
        ),
        Index(None, "seq", unique=True),
        # Copies only (partial): finds a record's copies, and is never mistaken by the planner
        # for a selective index of "canonical_id IS NULL", which nearly every row matches.
        Index(
            None,
            "canonical_id",
            sqlite_where=text("canonical_id IS NOT NULL"),
            postgresql_where=text("canonical_id IS NOT NULL"),
        ),
        # Withdrawn records only (partial): few, found at once by the sync and the facets.
        Index(
            None,
            "withdrawn_at",
            sqlite_where=text("withdrawn_at IS NOT NULL"),
            postgresql_where=text("withdrawn_at IS NOT NULL"),
        ),
    )

    id: str = Field(primary_key=True, max_length=128, description="Stable source id.")
    # A stable integer handle for the SQLite FTS5 index (its rowid). Not the implicit
    # rowid: VACUUM may renumber that on a table without an INTEGER PRIMARY KEY.
    seq: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    state_under_review_name: str = Field(default="", max_length=128)
    recommending_states: list[str] = Field(default_factory=list, sa_column=Column(JsonType, nullable=False))
    recommending_state_names: list[str] = Field(default_factory=list, sa_column=Column(JsonType, nullable=False))
    themes: list[str] = Field(default_factory=list, sa_column=Column(JsonType, nullable=False))
    themes_predicted: bool = Field(default=False, description="True when themes come from the tagger, not a human.")
    sdgs: list[int] = Field(default_factory=list, sa_column=Column(JsonType, nullable=False))
    sdg_targets: list[str] = Field(default_factory=list, sa_column=Column(JsonType, nullable=False))
    affected_groups: list[str] = Field(default_factory=list, sa_column=Column(JsonType, nullable=False))
    themes_source: list[str] = Field(default_factory=list, sa_column=Column(JsonType, nullable=False))
    affected_groups_source: list[str] = Field(default_factory=list, sa_column=Column(JsonType, nullable=False))
    content_hash: str = Field(max_length=64, description="sha256 of the canonical record, for upserts.")
    # Set by `upr-match sync` when the record is gone from the source's export (never deleted); cleared if it returns.
    withdrawn_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    # Indexed: each worker's related index reads max(updated_at) before a request to know the table moved.
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False, index=True))


# Index table: one row per (recommendation, controlled theme code), for `theme=` filters and facets; a label
# that maps to no code is indexed as itself (see app/reference/themes.py).
class RecommendationTheme(SQLModel, table=True):
    __tablename__ = "recommendation_theme"
    __table_args__ = (Index(None, "theme", "recommendation_id"),)

    recommendation_id: str = Field(
        sa_column=Column(
            String(128), ForeignKey("recommendation.id", ondelete="CASCADE"), primary_key=True, nullable=False
        )
    )
    theme: str = Field(sa_column=Column(String(255), primary_key=True, nullable=False))


# Index table: one row per (recommendation, recommending State), for `recommending_state=`.
class RecommendationRecommender(SQLModel, table=True):
    __tablename__ = "recommendation_recommender"
    __table_args__ = (Index(None, "state", "recommendation_id"),)

    recommendation_id: str = Field(
        sa_column=Column(
            String(128), ForeignKey("recommendation.id", ondelete="CASCADE"), primary_key=True, nullable=False
        )
    )
    state: str = Field(sa_column=Column(String(3), primary_key=True, nullable=False))


# Index table: one row per (recommendation, SDG number), for `sdg=`.
class RecommendationSdg(SQLModel, table=True):
    __tablename__ = "recommendation_sdg"
    __table_args__ = (Index(None, "sdg", "recommendation_id"),)

    recommendation_id: str = Field(
        sa_column=Column(
            String(128), ForeignKey("recommendation.id", ondelete="CASCADE"), primary_key=True, nullable=False
        )
    )
    sdg: int = Field(sa_column=Column(Integer, primary_key=True, nullable=False))


# Index table: one row per (recommendation, SDG target such as "16.2"), for `sdg_target=`.
class RecommendationSdgTarget(SQLModel, table=True):
    __tablename__ = "recommendation_sdg_target"
    __table_args__ = (Index(None, "target", "recommendation_id"),)

    recommendation_id: str = Field(
        sa_column=Column(
            String(128), ForeignKey("recommendation.id", ondelete="CASCADE"), primary_key=True, nullable=False
        )
    )
    target: str = Field(sa_column=Column(String(8), primary_key=True, nullable=False))


# Index table: one row per (recommendation, affected group of persons), for `affected_group=`.
class RecommendationAffectedGroup(SQLModel, table=True):
    __tablename__ = "recommendation_affected_group"
    __table_args__ = (Index(None, "affected_group", "recommendation_id"),)

    recommendation_id: str = Field(
        sa_column=Column(
            String(128), ForeignKey("recommendation.id", ondelete="CASCADE"), primary_key=True, nullable=False
        )
    )
    affected_group: str = Field(sa_column=Column(String(255), primary_key=True, nullable=False))


def _absent(value: object) -> bool:
    return value is None


# A field left out of the JSON unless set (the language fields, set only when a language is asked for).
_ONLY_LANG: JsonObject = {"exclude_if": _absent}


# What the API shows for a recommendation.
class RecommendationPublic(RecommendationBase):
    model_config = {"json_schema_extra": {"examples": [_EXAMPLE]}}

    id: str
    state_under_review_name: str
    recommending_states: list[str]
    recommending_state_names: list[str]
    themes: list[str] = Field(description="Theme labels, one spelling each (the ranking reads these).")
    themes_predicted: bool
    sdgs: list[int]
    sdg_targets: list[str]
    affected_groups: list[str] = Field(description="Affected persons, as groups of the controlled list.")
    themes_source: list[str] = Field(
        default_factory=list, description="The theme labels as the source spelled them (empty when predicted)."
    )
    affected_groups_source: list[str] = Field(
        default_factory=list, description="The affected persons as the source spelled them."
    )
    theme_codes: list[str] = Field(
        default_factory=list,
        description="The controlled themes (UHRI codes) of `themes`; a label that maps to none is given as itself.",
    )
    withdrawn_at: datetime | None = Field(
        default=None,
        description="When the record was found gone from its source's export (`upr-match sync`): withdrawn, kept "
        "but left out of lists, facets, drafts and new needs unless asked for (`include_withdrawn`). Null otherwise.",
    )
    linked_ids: list[str] = Field(
        default_factory=list, description="Other sources' copies of this recommendation (on the canonical record)."
    )
    linked_sources: list[str] = Field(default_factory=list, description="The sources of those copies.")
    # Present only when the request asks for a language (`lang`), so answers without it are as they were.
    language: str | None = Field(
        default=None,
        description="The language of `text` as shown: the one asked for when a source gives the text in it, else "
        "the original's. Only with `lang`.",
        schema_extra=_ONLY_LANG,
    )
    original_text: str | None = Field(
        default=None, description="The text as the source published it. Only with `lang`.", schema_extra=_ONLY_LANG
    )
    original_language: str | None = Field(
        default=None, description="The language of `original_text` (en). Only with `lang`.", schema_extra=_ONLY_LANG
    )
    languages: list[str] | None = Field(
        default=None,
        description="The languages this recommendation's text exists in (the original first, then fr, es); a "
        "language missing here is one no source gives, never machine-translated. Only with `lang`.",
        schema_extra=_ONLY_LANG,
    )


# One bucket of a facet: a value and how many recommendations have it.
class FacetCount(SQLModel):
    value: str | int
    count: int


# One bucket of the theme facet: a controlled theme's code, its label and its count.
class ThemeFacetCount(FacetCount):
    label: str = Field(description="The theme in words: the controlled label of the code (or the label itself).")


# The answer of GET /recommendations/facets.
class RecommendationFacets(SQLModel):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "total": 30456,
                    "themes": [{"value": "F12", "count": 5245, "label": "Discrimination against women"}],
                    "states": [{"value": "COD", "count": 612}],
                    "cycles": [{"value": 1, "count": 14345}],
                    "responses": [{"value": "supported", "count": 22107}],
                    "sdgs": [{"value": 16, "count": 310}],
                    "affected_groups": [{"value": "Women", "count": 140}],
                    "sources": [{"value": "upr_info_via_terman", "count": 28167}],
                }
            ]
        }
    }

    total: int = Field(description="Recommendations matching the filters.")
    themes: list[ThemeFacetCount] = Field(
        description="Per controlled theme (UHRI code, with its label), most frequent first; a label that maps to "
        "no code is its own value."
    )
    states: list[FacetCount] = Field(description="Per State under review (ISO3), most frequent first.")
    cycles: list[FacetCount] = Field(description="Per cycle, in cycle order.")
    responses: list[FacetCount] = Field(description="Per response (supported, noted, pending).")
    sdgs: list[FacetCount] = Field(default_factory=list, description="Per SDG (goal number), in goal order.")
    affected_groups: list[FacetCount] = Field(
        default_factory=list, description="Per affected group of persons, most frequent first."
    )
    sources: list[FacetCount] = Field(default_factory=list, description="Per source, most frequent first.")


# The answer of an import (and the CLI's summary line).
class ImportSummary(SQLModel):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "format": "uhri",
                    "dry_run": False,
                    "rows_read": 2292,
                    "records": 2289,
                    "inserted": 2289,
                    "updated": 0,
                    "unchanged": 0,
                    "rejected": 0,
                    "skipped": 3,
                    "skipped_reasons": {"not UPR (CAT)": 1, "not UPR (CRC)": 1, "not UPR (Special Procedures)": 1},
                    "unrecorded_recommenders": 0,
                    "linked": 2289,
                    "themes_predicted": 0,
                }
            ]
        }
    }

    format: str = Field(
        description="jsonl, csv (our export layout), csv-upr-info (the UPR Info export) or uhri (the OHCHR "
        "Universal Human Rights Index export)."
    )
    dry_run: bool
    rows_read: int = Field(description="Data rows read from the file (CSV rows, JSONL lines, JSON array records).")
    records: int = Field(description="Distinct recommendations after merging rows and duplicate ids.")
    inserted: int
    updated: int
    unchanged: int
    rejected: int = Field(description="Rows with an error; when not 0 nothing was written.")
    skipped: int = Field(default=0, description="Records left out on purpose (e.g. treaty-body records of the UHRI).")
    skipped_reasons: dict[str, int] = Field(default_factory=dict, description="How many were skipped, per reason.")
    unrecorded_recommenders: int = Field(
        default=0,
        description="Recommendations whose recommending State the source does not record (`(Unknown)` or empty): "
        "kept, with the name as given and no ISO3 code.",
    )
    linked: int = Field(
        default=0,
        description="Records of the recommendations written that are now linked as copies of the same "
        "recommendation from another source (they count once in coverage and drafts).",
    )
    themes_predicted: int = Field(
        default=0, description="Recommendations without themes that the theme tagger tagged after the import."
    )
