"""Alerts and webhooks: what a provider wants to hear about, and the endpoints other systems receive events on.

Deliveries follow the Standard Webhooks specification (headers `webhook-id`,
`webhook-timestamp`, `webhook-signature`; body `{"type", "timestamp", "data"}`).
A delivery keeps its `msg_id` across retries, so receivers deduplicate on it.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal, get_args

from pydantic import field_validator
from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from app.core.jsontypes import JsonObject
from app.models.common import JsonType, SQLModelConfig, UTCDateTime, utcnow
from app.models.events import InboxType
from app.reference.vocab import MAX_THEMES, Iso3, Region, Theme

# What an endpoint may subscribe to: an event type (those of the inbox but the endpoint's own
# `webhook.disabled`, which could not reach it), or a family with `.*`.
WEBHOOK_EVENTS: tuple[str, ...] = tuple(t for t in get_args(InboxType) if t != "webhook.disabled")
WEBHOOK_FAMILIES: tuple[str, ...] = ("need.*", "engagement.*", "activity.*")
DeliveryStatus = Literal["pending", "succeeded", "failed"]
WebhookStatus = Literal["active", "disabled"]


def _check_events(values: list[str]) -> list[str]:
    allowed = set(WEBHOOK_EVENTS) | set(WEBHOOK_FAMILIES)
    bad = [v for v in values if v not in allowed]
    if bad:
        raise ValueError(
            f"unknown event(s) {', '.join(map(repr, bad))}; use one of {', '.join(WEBHOOK_EVENTS + WEBHOOK_FAMILIES)}"
        )
    return list(dict.fromkeys(values))


# --- alerts ------------------------------------------------------------------------------------


# A provider's saved alert: needs it may see, filed or changed, that score at least min_score for it.
class Subscription(SQLModel, table=True):
    __tablename__ = "subscription"

    id: str = Field(default_factory=lambda: str(uuid.uuid4()), primary_key=True, max_length=36)
    provider_id: str = Field(foreign_key="provider.id", ondelete="CASCADE", max_length=36, index=True)
    themes: list[str] = Field(default_factory=list, sa_column=Column(JsonType, nullable=False))
    states: list[str] = Field(default_factory=list, sa_column=Column(JsonType, nullable=False))
    regions: list[str] = Field(default_factory=list, sa_column=Column(JsonType, nullable=False))
    min_score: float = Field(default=0.25)
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))


# Body of POST /v1/subscriptions. Empty lists mean "any".
class SubscriptionCreate(SQLModel):
    model_config = SQLModelConfig(extra="forbid")

    provider_id: str | None = Field(
        default=None, min_length=1, max_length=36, description="Admins name the provider; a provider key leaves it out."
    )
    themes: list[Theme] = Field(
        default_factory=list, max_length=MAX_THEMES, description="The need shares at least one (any when empty)."
    )
    states: list[Iso3] = Field(default_factory=list, max_length=250, description="The need is of one of these States.")
    regions: list[Region] = Field(
        default_factory=list, max_length=6, description="The need's State is in one of these UN regional groups."
    )
    min_score: float = Field(default=0.25, ge=0, le=1, description="The need's match score for the provider, 0-1.")


# Body of PATCH /v1/subscriptions/{id}.
class SubscriptionUpdate(SQLModel):
    model_config = SQLModelConfig(extra="forbid")

    themes: list[Theme] | None = Field(default=None, max_length=MAX_THEMES)
    states: list[Iso3] | None = Field(default=None, max_length=250)
    regions: list[Region] | None = Field(default=None, max_length=6)
    min_score: float | None = Field(default=None, ge=0, le=1)


class SubscriptionPublic(SQLModel):
    id: str
    provider_id: str
    themes: list[str]
    states: list[str]
    regions: list[str]
    min_score: float
    version: int
    created_at: datetime
    updated_at: datetime


# --- webhooks ----------------------------------------------------------------------------------


# An endpoint of a party (a State or a provider). The signing secret is kept to sign, encrypted
# (`app.core.secret_box`: a Fernet token under WEBHOOK_SECRET_KEYS); shown once, at creation.
class Webhook(SQLModel, table=True):
    __tablename__ = "webhook"
    __table_args__ = (Index(None, "created_at", "id"),)

    id: str = Field(default_factory=lambda: str(uuid.uuid4()), primary_key=True, max_length=36)
    party: str = Field(max_length=80, index=True)
    url: str = Field(max_length=2048)
    events: list[str] = Field(default_factory=list, sa_column=Column(JsonType, nullable=False))
    description: str | None = Field(default=None, max_length=200)
    secret: str = Field(max_length=255)
    status: str = Field(default="active", max_length=16)
    disabled_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    disabled_reason: str | None = Field(default=None, max_length=500)
    # When the current run of failed attempts began (NULL after a success): 3 days of it disables the endpoint.
    failing_since: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))


# Body of POST /v1/webhooks.
class WebhookCreate(SQLModel):
    model_config = SQLModelConfig(extra="forbid")

    url: str = Field(min_length=1, max_length=2048, description="https:// only; never a private address.")
    events: list[str] = Field(
        min_length=1,
        max_length=20,
        description="Event types (need.matched, engagement.accepted, ...) or families (engagement.*, activity.*).",
    )
    description: str | None = Field(default=None, max_length=200)
    state: Iso3 | None = Field(default=None, description="Admins: the State the endpoint belongs to.")
    provider_id: str | None = Field(
        default=None, min_length=1, max_length=36, description="Admins: the provider the endpoint belongs to."
    )

    _events = field_validator("events")(_check_events)


# Body of PATCH /v1/webhooks/{id}.
class WebhookUpdate(SQLModel):
    model_config = SQLModelConfig(extra="forbid")

    url: str | None = Field(default=None, min_length=1, max_length=2048)
    events: list[str] | None = Field(default=None, min_length=1, max_length=20)
    description: str | None = Field(default=None, max_length=200)
    enabled: bool | None = Field(default=None, description="false disables the endpoint; true enables it again.")

    @field_validator("events")
    @classmethod
    def _known(cls, values: list[str] | None) -> list[str] | None:
        return None if values is None else _check_events(values)


class WebhookPublic(SQLModel):
    id: str
    state: str | None = Field(description="The State it belongs to (or null).")
    provider_id: str | None = Field(description="The provider it belongs to (or null).")
    url: str
    events: list[str]
    description: str | None
    status: WebhookStatus
    disabled_at: datetime | None
    disabled_reason: str | None
    failing_since: datetime | None = Field(description="Start of the current run of failed deliveries.")
    version: int
    created_at: datetime
    updated_at: datetime


# The answer to a create: the only time the signing secret is shown.
class WebhookCreated(WebhookPublic):
    secret: str | None = Field(
        description="The signing secret (whsec_...). Shown once; store it now. Null in the replay of a create "
        "sent again with the same `Idempotency-Key`: the secret is never saved in clear."
    )


# One message to one endpoint, with its retries.
class WebhookDelivery(SQLModel, table=True):
    __tablename__ = "webhook_delivery"
    __table_args__ = (Index(None, "status", "next_attempt_at"), Index(None, "webhook_id", "created_at"))

    id: str = Field(default_factory=lambda: str(uuid.uuid4()), primary_key=True, max_length=36)
    webhook_id: str = Field(foreign_key="webhook.id", ondelete="CASCADE", max_length=36)
    msg_id: str = Field(max_length=64)
    event_type: str = Field(max_length=48)
    payload: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default="pending", max_length=16)
    attempts: int = Field(default=0)
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    delivered_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))


# One attempt of a delivery: what the endpoint answered (the first 1 KiB), or why it failed.
class WebhookAttempt(SQLModel, table=True):
    __tablename__ = "webhook_attempt"

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: str = Field(foreign_key="webhook_delivery.id", ondelete="CASCADE", max_length=36, index=True)
    attempted_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    duration_ms: int = Field(default=0)
    address: str | None = Field(default=None, max_length=64, description="The IP address connected to.")
    status_code: int | None = None
    error: str | None = Field(default=None, max_length=500)
    response_body: str | None = Field(default=None, max_length=1024)


class AttemptPublic(SQLModel):
    attempted_at: datetime
    duration_ms: int
    address: str | None
    status_code: int | None = Field(description="The endpoint's HTTP status (null when it did not answer).")
    error: str | None
    response_body: str | None = Field(description="The first 1,024 bytes the endpoint answered.")


class DeliveryPublic(SQLModel):
    id: str
    webhook_id: str
    msg_id: str = Field(description="The `webhook-id` header: the same on every retry.")
    event_type: str
    status: DeliveryStatus
    attempt_count: int
    next_attempt_at: datetime | None = Field(description="When the next attempt is due (pending only).")
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    payload: JsonObject = Field(description='The body sent: {"type", "timestamp", "data"}.')
    attempts: list[AttemptPublic] = Field(description="The most recent attempts (at most 20), newest first.")
