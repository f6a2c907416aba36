"""Document mappings: a document's paragraphs, each linked to the recommendations it speaks to, reviewed by
its author (accept or reject each link), private unless its author makes it public."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict
from pydantic import Field as Described
from sqlalchemy import Column, Float, ForeignKey, Integer, String, Text
from sqlmodel import Field, SQLModel

from app.models.common import JsonType, UTCDateTime, utcnow
from app.models.recommendation import Response

#: What a reviewer decided of one link (null: not reviewed yet).
DECISIONS = ("accepted", "rejected")
LINKS_PER_ITEM = 5


class DocumentMapping(SQLModel, table=True):
    __tablename__ = "document_mapping"

    id: str = Field(primary_key=True, max_length=36)
    owner_key_id: str = Field(
        sa_column=Column(String(36), ForeignKey("api_key.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    title: str = Field(max_length=200)
    filename: str = Field(max_length=255)
    kind: str = Field(max_length=8)
    public: bool = Field(default=False)
    filters: dict[str, object] = Field(default_factory=dict, sa_column=Column(JsonType, nullable=False))
    item_count: int = Field(default=0)
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))


class DocumentItem(SQLModel, table=True):
    __tablename__ = "document_item"

    mapping_id: str = Field(
        sa_column=Column(String(36), ForeignKey("document_mapping.id", ondelete="CASCADE"), primary_key=True)
    )
    number: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    label: str | None = Field(default=None, max_length=32)
    text: str = Field(sa_column=Column(Text, nullable=False))


class DocumentLink(SQLModel, table=True):
    __tablename__ = "document_link"

    mapping_id: str = Field(
        sa_column=Column(String(36), ForeignKey("document_mapping.id", ondelete="CASCADE"), primary_key=True)
    )
    item_number: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    recommendation_id: str = Field(sa_column=Column(String(128), primary_key=True, index=True))
    rank: int = Field(sa_column=Column(Integer, nullable=False))
    score: float = Field(sa_column=Column(Float, nullable=False))
    reasons: list[str] = Field(default_factory=list, sa_column=Column(JsonType, nullable=False))
    decision: str | None = Field(default=None, max_length=16)


# --- API schemas ------------------------------------------------------------------------------------


class MappingFilters(BaseModel):
    """Which recommendations the paragraphs are linked to (as `POST /v1/recommendations/related`)."""

    model_config = ConfigDict(extra="forbid")

    state: str | None = None
    cycle: int | None = None
    session: int | None = None
    response: list[Response] = Described(default_factory=list)
    theme: str | None = None


class LinkOut(BaseModel):
    recommendation_id: str
    state_under_review: str
    text: str
    response: str
    rank: int
    score: float = Described(ge=0, le=1)
    reasons: list[str]
    decision: str | None = Described(description="accepted, rejected, or null (not reviewed).")


class ItemOut(BaseModel):
    number: int = Described(description="The paragraph's place in the document (1-based).")
    label: str | None = Described(description="Its own number or letter as written (`2.1`, `b`), if any.")
    text: str
    links: list[LinkOut]


class MappingSummary(BaseModel):
    id: str
    title: str
    filename: str
    kind: str
    public: bool
    filters: MappingFilters
    item_count: int
    version: int
    created_at: datetime
    updated_at: datetime
    mine: bool = Described(description="True when the caller is its author (may review, change, delete it).")


class MappingOut(MappingSummary):
    items: list[ItemOut]


class MappingUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"public": True}]})

    title: str | None = Described(default=None, min_length=1, max_length=200)
    public: bool | None = None


class LinkDecision(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"recommendation_id": "2-MEX-121.16", "decision": "accepted"}]}
    )

    recommendation_id: str = Described(min_length=1, max_length=128)
    decision: Literal["accepted", "rejected"] | None = Described(
        description="accepted, rejected, or null to undo a decision."
    )


__all__ = [
    "DECISIONS",
    "LINKS_PER_ITEM",
    "DocumentItem",
    "DocumentLink",
    "DocumentMapping",
    "ItemOut",
    "LinkDecision",
    "LinkOut",
    "MappingFilters",
    "MappingOut",
    "MappingSummary",
    "MappingUpdate",
]
