"""The data version: a counter that database triggers move on every write to publicly readable data.

Created by migration 0031 with its triggers (so writes from the CLI, the sync and the worker count
as well as the API's). The version is the sum of the slots (PostgreSQL spreads concurrent writers
over a few slots; SQLite uses slot 0). Public answers derive their ETag from it
(app/http/public_cache.py), so every replica on one database agrees on it.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column
from sqlmodel import Field, SQLModel

# The tables no anonymous answer reads (keys, sessions, the worker's queues and logs); a write to
# any other table moves the version (tests/api/test_public_cache.py checks each has its trigger).
UNVERSIONED_TABLES = frozenset(
    {
        "api_key",
        "audit_event",
        "data_version",
        "email_message",
        "email_unsubscribe",
        "idempotency_record",
        "inbox_item",
        "index_change",
        "outbox_event",
        "provider_registration",
        "subscription",
        "sync_lease",
        "web_selection",
        "web_session",
        "webhook",
        "webhook_attempt",
        "webhook_delivery",
        "worker_heartbeat",
    }
)


# One slot of the counter.
class DataVersion(SQLModel, table=True):
    __tablename__ = "data_version"

    slot: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    version: int = Field(sa_column=Column(BigInteger(), nullable=False))
