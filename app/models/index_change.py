"""The change log the matching index follows, filled by database triggers.

Every insert, update or delete of a provider, a need or a need's recommendation
links adds a row here (triggers created by migration 0006, so even writes that
bypass the ORM are seen). Each worker process applies the rows it has not seen
before answering a match, so every worker reflects every write at once without
rebuilding its index.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, func
from sqlmodel import Field, SQLModel


# One change of one indexed object.
class IndexChange(SQLModel, table=True):
    __tablename__ = "index_change"

    seq: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16, description="provider or need")
    object_id: str = Field(max_length=36)
    created_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now(), index=True)
    )
