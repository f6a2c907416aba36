"""Syncs from OHCHR's export: the run log with its HTTP validators, the one-at-a-time lease, withdrawn records.

- `sync_run`: one row per `upr-match sync` attempt (URL, language, start, end, outcome, what it
  changed, bytes), holding the `ETag` / `Last-Modified` the next run sends back.
- `sync_lease`: the row a replica holds while it syncs, so only one sync runs at a time.
- `recommendation.withdrawn_at`: set when a record is gone from its source's export (never
  deleted). The two covering indexes of the list and the facets gain it, so "leave withdrawn
  records out" is answered off the index as before; a partial index finds the withdrawn ones.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

from app.models.common import UTCDateTime

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIST_ORDER = ("cycle", "session", "state_under_review", "id", "response", "action_category", "canonical_id")
FACETS = ("state_under_review", "response", "cycle", "source", "canonical_id")
COVERING = ((FACETS, (*FACETS, "withdrawn_at")), (LIST_ORDER, (*LIST_ORDER, "withdrawn_at")))


def _name(columns: Sequence[str]) -> str:
    return "ix_recommendation_" + "_".join(columns)


def upgrade() -> None:
    op.create_table(
        "sync_run",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source_url", sqlmodel.sql.sqltypes.AutoString(length=2048), nullable=False),
        sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("inserted", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("withdrawn", sa.Integer(), nullable=False),
        sa.Column("bytes", sa.Integer(), nullable=False),
        sa.Column("etag", sqlmodel.sql.sqltypes.AutoString(length=512), nullable=True),
        sa.Column("last_modified", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_run")),
    )
    op.create_index(op.f("ix_sync_run_started_at"), "sync_run", ["started_at"], unique=False)
    op.create_table(
        "sync_lease",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("holder", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_sync_lease")),
    )
    # Plain ADD COLUMN on both engines (no table rebuild, so SQLite's FTS triggers stay in place).
    op.add_column("recommendation", sa.Column("withdrawn_at", UTCDateTime(), nullable=True))
    op.create_index(
        op.f("ix_recommendation_withdrawn_at"),
        "recommendation",
        ["withdrawn_at"],
        sqlite_where=sa.text("withdrawn_at IS NOT NULL"),
        postgresql_where=sa.text("withdrawn_at IS NOT NULL"),
    )
    for old, new in COVERING:
        op.drop_index(op.f(_name(old)), table_name="recommendation")
        op.create_index(op.f(_name(new)), "recommendation", list(new))


def downgrade() -> None:
    for old, new in COVERING:
        op.drop_index(op.f(_name(new)), table_name="recommendation")
        op.create_index(op.f(_name(old)), "recommendation", list(old))
    op.drop_index(op.f("ix_recommendation_withdrawn_at"), table_name="recommendation")
    # SQLite's own DROP COLUMN (3.35+): no table rebuild, so its FTS triggers survive.
    op.execute("ALTER TABLE recommendation DROP COLUMN withdrawn_at")
    op.drop_table("sync_lease")
    op.drop_index(op.f("ix_sync_run_started_at"), table_name="sync_run")
    op.drop_table("sync_run")
