"""E-mail notices: the queue the worker sends from (with `SMTP_URL`) and the addresses that unsubscribed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from app.models.common import UTCDateTime, utcnow


# One e-mail to send (pending), sent, or given up (failed).
class EmailMessage(SQLModel, table=True):
    __tablename__ = "email_message"
    __table_args__ = (Index(None, "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    party: str = Field(max_length=80)
    to_address: str = Field(max_length=254)
    subject: str = Field(max_length=300)
    body: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default="pending", max_length=16)
    attempts: int = Field(default=0)
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))


# An address that asked for no more e-mail (the link in every message).
class EmailUnsubscribe(SQLModel, table=True):
    __tablename__ = "email_unsubscribe"

    address: str = Field(primary_key=True, max_length=254, description="Lower-cased.")
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
