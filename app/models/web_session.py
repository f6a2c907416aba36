"""Signed-in web sessions, kept on the server so that sign-out, revocation and idleness end them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, String
from sqlmodel import Field, SQLModel

from app.models.common import UTCDateTime, utcnow


# One signed-in browser session: the cookie names its id (stored here only as a digest) and its key.
class WebSession(SQLModel, table=True):
    __tablename__ = "web_session"

    id: str = Field(primary_key=True, max_length=64, description="sha256 of the session id in the cookie.")
    key_id: str = Field(
        sa_column=Column(String(36), ForeignKey("api_key.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    last_seen_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False, index=True))


# A recommendation ticked on the search page during one signed-in session, to file one need citing
# the ticked ones. Rows go with their session (sign-out, timeout) and with their recommendation.
class WebSelection(SQLModel, table=True):
    __tablename__ = "web_selection"

    session_id: str = Field(
        sa_column=Column(String(64), ForeignKey("web_session.id", ondelete="CASCADE"), primary_key=True)
    )
    recommendation_id: str = Field(
        sa_column=Column(String(128), ForeignKey("recommendation.id", ondelete="CASCADE"), primary_key=True, index=True)
    )
    added_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
