"""What a completed activity teaches, and providers' requests for a key.

- `activity`: `challenges` (what was hard), `lessons` (what the parties would do again, and
  what not), `documents` (https links to reports, agendas, materials). With `outcomes` (what
  was achieved), a completed, confirmed activity is a good practice others can read.
- An activity recorded when an engagement was accepted had the State's request message as its
  description ("what was done"): those descriptions are cleared (the request stays on the
  engagement), so the parties say what was done when they report.
- `provider_registration`: an organisation asks for a provider key on the pages; an
  administrator approves or rejects it. Only a hash of the requester's private link is stored;
  the key itself is made, and shown once, when the requester opens the link after approval.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-08 01:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op
from sqlalchemy.dialects import postgresql

from app.models.common import UTCDateTime

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
String = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    with op.batch_alter_table("activity") as batch:
        batch.add_column(sa.Column("challenges", sa.Text(), nullable=True))
        batch.add_column(sa.Column("lessons", sa.Text(), nullable=True))
        batch.add_column(sa.Column("documents", JSON, nullable=False, server_default=sa.text("'[]'")))
    op.execute(
        "UPDATE activity SET description = '' WHERE description <> '' AND EXISTS ("
        "SELECT 1 FROM engagement WHERE engagement.activity_id = activity.id "
        "AND engagement.message = activity.description)"
    )
    op.create_table(
        "provider_registration",
        sa.Column("id", String(length=36), nullable=False),
        sa.Column("organisation", String(length=200), nullable=False),
        sa.Column("kind", String(length=32), nullable=False),
        sa.Column("contact_name", String(length=120), nullable=False),
        sa.Column("contact_email", String(length=254), nullable=False),
        sa.Column("website", String(length=2048), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("status", String(length=16), nullable=False),
        sa.Column("token_hash", String(length=64), nullable=False),
        sa.Column("key_id", String(length=36), nullable=True),
        sa.Column("answer_message", sa.Text(), nullable=True),
        sa.Column("answered_at", UTCDateTime(), nullable=True),
        sa.Column("key_shown_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_registration")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_provider_registration_token_hash")),
    )
    op.create_index(op.f("ix_provider_registration_status"), "provider_registration", ["status"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_provider_registration_status"), table_name="provider_registration")
    op.drop_table("provider_registration")
    with op.batch_alter_table("activity") as batch:
        batch.drop_column("documents")
        batch.drop_column("lessons")
        batch.drop_column("challenges")
