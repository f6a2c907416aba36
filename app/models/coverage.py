"""What the data covers: `GET /v1/coverage`, per source and for one State."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Field, SQLModel

from app.core.jsontypes import JsonObject
from app.models.sync import SYNC_EXAMPLE, SyncPublic

_SOURCE_EXAMPLE: JsonObject = {
    "source": "ohchr_uhri",
    "label": "OHCHR Universal Human Rights Index",
    "records": 2289,
    "counted": 2289,
    "states": 8,
    "sessions": [20, 21, 23, 34, 37, 47, 48, 51],
    "cycles": [2, 3, 4],
    "first_year": 2014,
    "last_year": 2026,
    "first_published": "2014-05-15",
    "last_published": "2024-10-15",
    "last_imported_at": "2026-12-01T15:10:00Z",
    "withdrawn": 0,
    "summary": "2289 records, 8 States under review, sessions 20-21, 23, 34, 37, 47-48 and 51 (2014-2026); "
    "last imported 1 December 2026.",
}
_STATE_EXAMPLE: JsonObject = {
    "state": "USA",
    "name": "United States",
    "recommendations": 0,
    "sessions": [],
    "sources": [],
    "summary": "Not in the data loaded: no recommendation to United States is recorded. The data covers 135 "
    "States under review, sessions 1-21, 23, 34, 37, 47-48 and 51 (2008-2026); last import 1 December 2026.",
}


# What one source contributes to the repository.
class SourceCoverage(SQLModel):
    model_config = {"json_schema_extra": {"examples": [_SOURCE_EXAMPLE]}}

    source: str = Field(description="The source as records name it (filter `source=`).")
    label: str = Field(description="The source in words.")
    records: int = Field(description="Records stored from this source.")
    counted: int = Field(description="Of those, records that count (not another source's copy of a recommendation).")
    states: int = Field(description="States under review.")
    sessions: list[int] = Field(description="UPR Working Group sessions with records, in order.")
    cycles: list[int] = Field(description="UPR cycles with records, in order.")
    first_year: int | None = Field(description="Year of the earliest session (Working Group calendar).")
    last_year: int | None = Field(description="Year of the latest session.")
    first_published: date | None = Field(default=None, description="Earliest publication date the source gives.")
    last_published: date | None = Field(default=None, description="Latest publication date the source gives.")
    last_imported_at: datetime | None = Field(
        default=None, description="When an import last read this source (null: loaded before imports were logged)."
    )
    withdrawn: int = Field(
        default=0, description="Of the records, those withdrawn from the source's export (stored, not counted)."
    )
    summary: str = Field(default="", description="The same in words.")


# One State's part of the data (`GET /v1/coverage?state=...`).
class StateDataCoverage(SQLModel):
    model_config = {"json_schema_extra": {"examples": [_STATE_EXAMPLE]}}

    state: str
    name: str
    recommendations: int = Field(description="Recommendations to this State that count (copies once).")
    sessions: list[int] = Field(description="Sessions of its reviews in the data.")
    sources: list[str] = Field(description="Sources holding its recommendations.")
    summary: str = Field(description="The same in words, saying why there is none when there is none.")


# The answer of GET /v1/coverage.
class Coverage(SQLModel):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "recommendations": 30288,
                    "records": 32745,
                    "states": 143,
                    "sessions": [1, 2, 3, 20, 21, 23, 34, 37, 47, 48, 51],
                    "cycles": [1, 2, 3, 4],
                    "first_year": 2008,
                    "last_year": 2026,
                    "last_imported_at": "2026-12-01T15:10:00Z",
                    "summary": "143 States under review, sessions 1-23, 34, 37, 47-48 and 51 (2008-2026), from "
                    "3 sources; last import 1 December 2026.",
                    "sources": [_SOURCE_EXAMPLE],
                    "state": _STATE_EXAMPLE,
                    "last_sync": SYNC_EXAMPLE,
                }
            ]
        }
    }

    recommendations: int = Field(description="Recommendations that count (each once, whatever its sources).")
    records: int = Field(description="Records stored, other sources' copies included.")
    states: int = Field(description="States under review with at least one recommendation.")
    sessions: list[int] = Field(description="Sessions with records, in order.")
    cycles: list[int]
    first_year: int | None
    last_year: int | None
    last_imported_at: datetime | None = Field(description="When the last import finished (any source).")
    summary: str = Field(description="The period and sources covered, in words.")
    sources: list[SourceCoverage]
    state: StateDataCoverage | None = Field(default=None, description="The State asked for with `state=`.")
    last_sync: SyncPublic | None = Field(
        default=None,
        description="The last sync from OHCHR's export (`upr-match sync` or the worker's schedule): when, from "
        "where, how it ended and what it changed. Null when none ran.",
    )
