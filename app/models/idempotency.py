"""Saved answers of POST requests sent with an `Idempotency-Key`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, LargeBinary
from sqlmodel import Field, SQLModel

from app.models.common import JsonType, UTCDateTime, utcnow


# One key of one client: claimed while the request runs, then holding its answer.
class IdempotencyRecord(SQLModel, table=True):
    __tablename__ = "idempotency_record"

    client: str = Field(primary_key=True, max_length=64, description="Digest of the caller's credentials.")
    key: str = Field(primary_key=True, max_length=255)
    request_hash: str = Field(max_length=64, description="sha256 of method, path, query and body.")
    state: str = Field(max_length=16, description="in_progress or done.")
    response_status: int | None = Field(default=None)
    response_headers: list[list[str]] = Field(default_factory=list, sa_column=Column(JsonType, nullable=False))
    response_body: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False, index=True))
    locked_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
