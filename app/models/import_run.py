"""One row per completed recommendations import: when, in which format, what it did, per source.

`GET /v1/coverage` reads it to say when each source was last imported. The row is
written in the import's own transaction, so a failed import leaves none.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Integer
from sqlmodel import Field, SQLModel

from app.models.common import JsonType, UTCDateTime, utcnow


class ImportRun(SQLModel, table=True):
    __tablename__ = "import_run"

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True, autoincrement=True))
    format: str = Field(max_length=16)
    finished_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False, index=True))
    rows_read: int = 0
    records: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    # {source: records of that source in the file}
    sources: dict[str, int] = Field(default_factory=dict, sa_column=Column(JsonType, nullable=False))
