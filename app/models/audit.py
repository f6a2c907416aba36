"""The audit trail: one append-only row per write, saying who did what to which object, and when.

Rows are added by `app.services.audit.record` inside the transaction of the change
they describe, so a change and its row are committed (or rolled back) together.
Nothing in the application updates or deletes them, and migration 0008 adds
database triggers refusing UPDATE and DELETE on the table, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy import Column, Index
from sqlmodel import Field, SQLModel

from app.core.jsontypes import JsonObject
from app.models.common import JsonType, UTCDateTime, utcnow

AuditResource = Literal[
    "key",
    "provider",
    "need",
    "activity",
    "activity_proposal",
    "recommendations",
    "engagement",
    "subscription",
    "webhook",
    "inbox",
    "session",
    "registration",
    "mapping",
]
AuditAction = Literal[
    "create",
    "update",
    "delete",
    "revoke",
    "confirm",
    "decline",
    "import",
    "accept",
    "withdraw",
    "propose",
    "reject",
    "approve",
    "read",
    "test",
    "retry",
    "sign_in",
    "sign_out",
]


# One write. `actor_key_id` is null for the command line and the demo loader (role `system` / `admin`).
class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"
    __table_args__ = (Index(None, "resource", "resource_id"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False, index=True))
    actor_key_id: str | None = Field(default=None, max_length=36, index=True)
    actor_role: str = Field(max_length=16)
    actor_name: str | None = Field(default=None, max_length=120)
    resource: str = Field(max_length=32)
    resource_id: str = Field(max_length=128)
    action: str = Field(max_length=16)
    version_before: int | None = None
    version_after: int | None = None
    detail: JsonObject = Field(default_factory=dict, sa_column=Column(JsonType, nullable=False))


# A row as GET /v1/audit shows it.
class AuditEventPublic(SQLModel):
    id: int = Field(description="Increases with every row written.")
    at: datetime = Field(description="When the change was made (UTC).")
    actor_key_id: str | None = Field(description="The API key that made it; null for the command line.")
    actor_role: str = Field(description="admin, state or provider; system for the command line.")
    actor_name: str | None = Field(description="The key's name (or the command's) when the change was made.")
    resource: AuditResource
    resource_id: str = Field(description="Id of the object changed (the key, provider, need, activity or import).")
    action: AuditAction
    version_before: int | None = Field(description="The object's version before the change (null: created).")
    version_after: int | None = Field(description="Its version after the change (null: deleted).")
    detail: JsonObject = Field(
        description="What else helps to read the change: the fields an update sent, a decline's reason, "
        "an import's counts, the keys a provider deletion revoked."
    )
