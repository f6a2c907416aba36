"""The outbox of events and the inbox each party reads.

`outbox_event` rows are written by `app.services.events.emit` in the transaction of the
change they describe, so an event exists if and only if its change committed. The worker
(`upr-match worker`) turns each into inbox items, webhook deliveries and e-mails, and marks
it processed in the same transaction.

A party is a State (`state:MEX`) or a provider (`provider:<id>`): every key of that State,
or of that provider, reads the same inbox.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field as PydanticField
from pydantic import model_validator
from sqlalchemy import Column, Index
from sqlmodel import Field, SQLModel

from app.core.jsontypes import JsonObject
from app.models.common import JsonType, SQLModelConfig, UTCDateTime, utcnow

InboxType = Literal[
    "engagement.proposed",
    "engagement.accepted",
    "engagement.declined",
    "engagement.withdrawn",
    "activity.recorded",
    "activity.changed",
    "activity.confirmed",
    "activity.declined",
    "activity.deleted",
    "activity.proposed",
    "activity.proposal_accepted",
    "activity.proposal_rejected",
    "activity.proposal_withdrawn",
    "need.matched",
    "webhook.disabled",
    "registration.requested",
]


# An inbox item's id: a positive integer within the INTEGER column both databases
# store it in (32-bit on PostgreSQL), so a larger id is a 422 naming the field, not
# a database error.
ItemId = Annotated[int, PydanticField(ge=1, le=2**31 - 1)]


# One thing that happened, waiting for the worker (processed_at NULL) or done.
class OutboxEvent(SQLModel, table=True):
    __tablename__ = "outbox_event"

    id: int | None = Field(default=None, primary_key=True)
    type: str = Field(max_length=48)
    resource: str = Field(max_length=32)
    resource_id: str = Field(max_length=128)
    parties: list[str] = Field(default_factory=list, sa_column=Column(JsonType, nullable=False))
    actor_party: str | None = Field(default=None, max_length=80)
    actor_role: str = Field(max_length=16)
    data: JsonObject = Field(default_factory=dict, sa_column=Column(JsonType, nullable=False))
    occurred_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    processed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True, index=True))


# One notice in a party's inbox. `dedupe_key` makes each notice exist once (an event for a party,
# a need matched for a subscription), whatever retries or concurrent workers do.
class InboxItem(SQLModel, table=True):
    __tablename__ = "inbox_item"
    __table_args__ = (Index(None, "party", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    party: str = Field(max_length=80)
    type: str = Field(max_length=48)
    resource: str = Field(max_length=32)
    resource_id: str = Field(max_length=128)
    need_id: str | None = Field(default=None, max_length=36)
    title: str = Field(max_length=500)
    data: JsonObject = Field(default_factory=dict, sa_column=Column(JsonType, nullable=False))
    dedupe_key: str = Field(max_length=200, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    read_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))


# An inbox item as GET /v1/inbox shows it.
class InboxItemPublic(SQLModel):
    id: int
    type: InboxType
    title: str = Field(description="What happened, in one sentence.")
    resource: str = Field(description="engagement, activity, need or webhook.")
    resource_id: str
    need_id: str | None
    action_required: bool = Field(
        description="True while it waits on you: an engagement to answer, an activity to confirm, a proposed "
        "change or deletion to accept or reject (checked now)."
    )
    read: bool
    read_at: datetime | None
    created_at: datetime
    data: JsonObject = Field(description="The event's object as it was then (the engagement, activity, need...).")


class InboxWaiting(SQLModel):
    engagements: int = Field(description="Engagements proposed to you, waiting for your answer.")
    activities: int = Field(
        description="Activities waiting for your answer: recorded by the other party (to confirm), or with a "
        "change or deletion it proposed (to accept or reject)."
    )


# GET /v1/inbox: a page of items, and what is unread and waiting overall.
class InboxPage(SQLModel):
    items: list[InboxItemPublic]
    total: int = Field(ge=0)
    limit: int = Field(ge=1)
    offset: int = Field(ge=0)
    unread: int = Field(ge=0, description="Unread items in the whole inbox.")
    unread_by_type: dict[str, int] = Field(description="Unread items per type.")
    waiting: InboxWaiting


# Body of POST /v1/inbox/read: some items by id, or all of them.
class InboxRead(SQLModel):
    model_config = SQLModelConfig(extra="forbid")

    ids: list[ItemId] | None = Field(default=None, min_length=1, max_length=100, description="Items to mark read.")
    all: bool = Field(default=False, description="Mark every item read.")

    @model_validator(mode="after")
    def _one_of(self) -> InboxRead:
        if (self.ids is None) == (not self.all):
            raise ValueError("send either `ids` (a list of item ids) or `all: true`")
        return self


class InboxReadResult(SQLModel):
    marked: int = Field(ge=0, description="Items marked read now.")
    unread: int = Field(ge=0, description="Unread items left.")
