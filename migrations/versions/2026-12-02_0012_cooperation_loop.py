"""The cooperation loop: engagements, the outbox and the inbox, alerts, webhooks and e-mail.

- `engagement`: a State's request to a provider (or a provider's offer) on a need and its
  answer. One open (proposed or accepted) engagement per need and provider: `open_key` is
  unique while open and NULL after. It goes with its need or provider (CASCADE); the activity
  an acceptance created stays (SET NULL).
- `outbox_event`: every event, written in the transaction of its change; the worker marks it
  processed once it has fanned it out.
- `inbox_item`: one notice per party (`state:MEX`, `provider:<id>`), unique by `dedupe_key`.
- `subscription`: a provider's alerts; `webhook`, `webhook_delivery`, `webhook_attempt`:
  endpoints, messages with their retries, and each attempt's answer.
- `email_message`, `email_unsubscribe`: the e-mail queue and the addresses that opted out.
- `api_key.contact_email`: where a State key's e-mail notices go.

Revision ID: 0012
Revises: 0009
Create Date: 2026-12-02 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op
from sqlalchemy.dialects import postgresql

import app.models.common

revision: str = "0012"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "email_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("party", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("to_address", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", app.models.common.UTCDateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("claimed_until", app.models.common.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("created_at", app.models.common.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", app.models.common.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_message")),
    )
    with op.batch_alter_table("email_message", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_email_message_status_next_attempt_at"), ["status", "next_attempt_at"], unique=False
        )

    op.create_table(
        "email_unsubscribe",
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column("created_at", app.models.common.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("address", name=op.f("pk_email_unsubscribe")),
    )
    op.create_table(
        "inbox_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("party", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("type", sqlmodel.sql.sqltypes.AutoString(length=48), nullable=False),
        sa.Column("resource", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("resource_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("need_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column(
            "data", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("dedupe_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("created_at", app.models.common.UTCDateTime(timezone=True), nullable=False),
        sa.Column("read_at", app.models.common.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox_item")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_inbox_item_dedupe_key")),
    )
    with op.batch_alter_table("inbox_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_inbox_item_party_id"), ["party", "id"], unique=False)

    op.create_table(
        "outbox_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("type", sqlmodel.sql.sqltypes.AutoString(length=48), nullable=False),
        sa.Column("resource", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("resource_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column(
            "parties", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("actor_party", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
        sa.Column("actor_role", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column(
            "data", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("occurred_at", app.models.common.UTCDateTime(timezone=True), nullable=False),
        sa.Column("processed_at", app.models.common.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_event")),
    )
    with op.batch_alter_table("outbox_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_event_processed_at"), ["processed_at"], unique=False)

    op.create_table(
        "webhook",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("party", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("url", sqlmodel.sql.sqltypes.AutoString(length=2048), nullable=False),
        sa.Column(
            "events", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("secret", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("disabled_at", app.models.common.UTCDateTime(timezone=True), nullable=True),
        sa.Column("disabled_reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("failing_since", app.models.common.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", app.models.common.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.models.common.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook")),
    )
    with op.batch_alter_table("webhook", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_webhook_created_at_id"), ["created_at", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_webhook_party"), ["party"], unique=False)

    op.create_table(
        "subscription",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("provider_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column(
            "themes", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column(
            "states", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column(
            "regions", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("min_score", sa.Float(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", app.models.common.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.models.common.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["provider_id"], ["provider.id"], name=op.f("fk_subscription_provider_id_provider"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscription")),
    )
    with op.batch_alter_table("subscription", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_subscription_provider_id"), ["provider_id"], unique=False)

    op.create_table(
        "webhook_delivery",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("webhook_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("msg_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("event_type", sqlmodel.sql.sqltypes.AutoString(length=48), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", app.models.common.UTCDateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("claimed_until", app.models.common.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("created_at", app.models.common.UTCDateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", app.models.common.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["webhook_id"], ["webhook.id"], name=op.f("fk_webhook_delivery_webhook_id_webhook"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_delivery")),
    )
    with op.batch_alter_table("webhook_delivery", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_webhook_delivery_status_next_attempt_at"), ["status", "next_attempt_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_webhook_delivery_webhook_id_created_at"), ["webhook_id", "created_at"], unique=False
        )

    op.create_table(
        "engagement",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("need_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("provider_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("direction", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("answer_message", sa.Text(), nullable=True),
        sa.Column("decline_reason", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("activity_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
        sa.Column("initiated_by_role", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("initiated_by_key_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
        sa.Column("answered_by_role", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("answered_by_key_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
        sa.Column("answered_at", app.models.common.UTCDateTime(timezone=True), nullable=True),
        sa.Column("open_key", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", app.models.common.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.models.common.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"], ["activity.id"], name=op.f("fk_engagement_activity_id_activity"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(["need_id"], ["need.id"], name=op.f("fk_engagement_need_id_need"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["provider_id"], ["provider.id"], name=op.f("fk_engagement_provider_id_provider"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_engagement")),
        sa.UniqueConstraint("open_key", name=op.f("uq_engagement_open_key")),
    )
    with op.batch_alter_table("engagement", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_engagement_created_at_id"), ["created_at", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_engagement_need_id"), ["need_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_engagement_provider_id"), ["provider_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_engagement_state"), ["state"], unique=False)
        batch_op.create_index(batch_op.f("ix_engagement_status"), ["status"], unique=False)

    op.create_table(
        "webhook_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("attempted_at", app.models.common.UTCDateTime(timezone=True), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("response_body", sqlmodel.sql.sqltypes.AutoString(length=1024), nullable=True),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["webhook_delivery.id"],
            name=op.f("fk_webhook_attempt_delivery_id_webhook_delivery"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_attempt")),
    )
    with op.batch_alter_table("webhook_attempt", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_webhook_attempt_delivery_id"), ["delivery_id"], unique=False)

    op.add_column("api_key", sa.Column("contact_email", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=True))


def downgrade() -> None:
    # Plain ALTER TABLE ... DROP COLUMN (SQLite >= 3.35): a batch rebuild of api_key would
    # cascade-delete the web sessions that reference it.
    op.drop_column("api_key", "contact_email")

    with op.batch_alter_table("webhook_attempt", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_attempt_delivery_id"))

    op.drop_table("webhook_attempt")
    with op.batch_alter_table("engagement", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_engagement_status"))
        batch_op.drop_index(batch_op.f("ix_engagement_state"))
        batch_op.drop_index(batch_op.f("ix_engagement_provider_id"))
        batch_op.drop_index(batch_op.f("ix_engagement_need_id"))
        batch_op.drop_index(batch_op.f("ix_engagement_created_at_id"))

    op.drop_table("engagement")
    with op.batch_alter_table("webhook_delivery", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_delivery_webhook_id_created_at"))
        batch_op.drop_index(batch_op.f("ix_webhook_delivery_status_next_attempt_at"))

    op.drop_table("webhook_delivery")
    with op.batch_alter_table("subscription", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subscription_provider_id"))

    op.drop_table("subscription")
    with op.batch_alter_table("webhook", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_party"))
        batch_op.drop_index(batch_op.f("ix_webhook_created_at_id"))

    op.drop_table("webhook")
    with op.batch_alter_table("outbox_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_event_processed_at"))

    op.drop_table("outbox_event")
    with op.batch_alter_table("inbox_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inbox_item_party_id"))

    op.drop_table("inbox_item")
    op.drop_table("email_unsubscribe")
    with op.batch_alter_table("email_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_email_message_status_next_attempt_at"))

    op.drop_table("email_message")
