"""Webhook signing secrets encrypted at rest, no secret in saved idempotent answers, worker heartbeats.

- `webhook.secret` holds a Fernet token (`app.core.secret_box`, keys from WEBHOOK_SECRET_KEYS, or
  derived from SECRET_KEY outside production): the column widens to 255 and every stored secret is
  encrypted; the downgrade decrypts them back.
- Saved answers of `POST /v1/webhooks` sent with an `Idempotency-Key` held the new secret in clear
  for 24 hours: its value is removed from them (a replay says the endpoint was created, without it).
- `worker_heartbeat`: when each worker was last seen, for the readiness probe.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 19:45:00
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

from app.core.config import get_settings
from app.core.secret_box import secret_box
from app.models.common import UTCDateTime

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CLEAR_PREFIX = "whsec_"


def upgrade() -> None:
    _resize_secret(80, 255)
    _transform_secrets(encrypt=True)
    _scrub_saved_answers()
    op.create_table(
        "worker_heartbeat",
        sa.Column("worker_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("seen_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("worker_id", name=op.f("pk_worker_heartbeat")),
    )
    op.create_index(op.f("ix_worker_heartbeat_seen_at"), "worker_heartbeat", ["seen_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_worker_heartbeat_seen_at"), table_name="worker_heartbeat")
    op.drop_table("worker_heartbeat")
    _transform_secrets(encrypt=False)
    _resize_secret(255, 80)


def _resize_secret(before: int, after: int) -> None:
    with op.batch_alter_table("webhook") as batch:
        batch.alter_column(
            "secret",
            existing_type=sqlmodel.sql.sqltypes.AutoString(length=before),
            type_=sqlmodel.sql.sqltypes.AutoString(length=after),
            existing_nullable=False,
        )


def _transform_secrets(*, encrypt: bool) -> None:
    conn = op.get_bind()
    webhook = sa.table("webhook", sa.column("id", sa.String), sa.column("secret", sa.String))
    rows = conn.execute(sa.select(webhook.c.id, webhook.c.secret)).all()
    if not rows:
        return
    box = secret_box(get_settings())
    for row in rows:
        clear = row.secret.startswith(CLEAR_PREFIX)
        if encrypt == clear:
            value = box.encrypt(row.secret) if encrypt else box.decrypt(row.secret)
            conn.execute(sa.update(webhook).where(webhook.c.id == row.id).values(secret=value))


def _scrub_saved_answers() -> None:
    conn = op.get_bind()
    record = sa.table(
        "idempotency_record",
        sa.column("client", sa.String),
        sa.column("key", sa.String),
        sa.column("response_body", sa.LargeBinary),
    )
    rows = conn.execute(sa.select(record.c.client, record.c.key, record.c.response_body)).all()
    for row in rows:
        body = bytes(row.response_body or b"")
        if CLEAR_PREFIX.encode() not in body:
            continue
        try:
            answer = json.loads(body)
        except ValueError:
            continue
        if isinstance(answer, dict) and str(answer.get("secret", "")).startswith(CLEAR_PREFIX):
            answer["secret"] = None
            scrubbed = json.dumps(answer, separators=(",", ":")).encode()
            conn.execute(
                sa.update(record)
                .where(record.c.client == row.client, record.c.key == row.key)
                .values(response_body=scrubbed)
            )
