"""Syncs from OHCHR's published export: each run, and the lease that lets one sync run at a time.

`sync_run` is the log `upr-match sync` and the worker write (one row per attempt: when, which
URL, how it ended, what it changed, the bytes received) and the place the HTTP validators
(`ETag`, `Last-Modified`) are kept between runs: the next run sends those of the latest run
that received the file. `sync_lease` holds at most one row per lease name: the replica that
syncs now, until when.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy import Column, Integer, Text
from sqlmodel import Field, SQLModel

from app.core.jsontypes import JsonObject
from app.models.common import UTCDateTime, utcnow

SyncOutcome = Literal["running", "imported", "not_modified", "failed"]


class SyncRun(SQLModel, table=True):
    __tablename__ = "sync_run"

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True, autoincrement=True))
    source_url: str = Field(max_length=2048)
    language: str = Field(default="en", max_length=8)
    started_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False, index=True))
    finished_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    outcome: str = Field(default="running", max_length=16)
    detail: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    withdrawn: int = 0
    bytes: int = 0
    etag: str | None = Field(default=None, max_length=512)
    last_modified: str | None = Field(default=None, max_length=64)


class SyncLease(SQLModel, table=True):
    __tablename__ = "sync_lease"

    name: str = Field(primary_key=True, max_length=32)
    holder: str = Field(max_length=128)
    expires_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


SYNC_EXAMPLE: JsonObject = {
    "source_url": "https://dataex.ohchr.org/uhri/export-results/export-full-en.json",
    "language": "en",
    "started_at": "2026-12-07T03:00:00Z",
    "finished_at": "2026-12-07T03:03:41Z",
    "outcome": "imported",
    "detail": None,
    "inserted": 212,
    "updated": 35,
    "unchanged": 126843,
    "withdrawn": 2,
    "bytes": 361234567,
    "summary": "Last synced from OHCHR on 7 December 2026 at 03:03 UTC: 212 new, 35 updated, 126843 unchanged, "
    "2 withdrawn.",
}


# The last sync as `GET /v1/coverage` shows it.
class SyncPublic(SQLModel):
    model_config = {"json_schema_extra": {"examples": [SYNC_EXAMPLE]}}

    source_url: str = Field(description="The export read (a URL or a file path).")
    language: str = Field(description="The export's language (en, fr, es).")
    started_at: datetime
    finished_at: datetime | None
    outcome: str = Field(
        description="imported (the file was read and imported), not_modified (the source answered that it has not "
        "changed since the last sync), failed (nothing was changed; `detail` says why) or running."
    )
    detail: str | None = Field(default=None, description="Why it failed, when it did.")
    inserted: int
    updated: int
    unchanged: int
    withdrawn: int = Field(description="Records that were in the export before and are gone from it: marked withdrawn.")
    bytes: int = Field(description="Bytes received.")
    summary: str = Field(description="The same in words.")
