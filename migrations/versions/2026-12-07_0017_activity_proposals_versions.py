"""A confirmed activity's shared history: proposals and versions.

- `activity_proposal`: a party's proposed change (or deletion) of a confirmed activity, which
  the other party accepts or rejects. `open_key` is the activity's id while pending and NULL
  after, so the unique constraint allows one pending proposal per activity.
- `activity_version`: every content an activity has had, numbered per activity, with who
  recorded it and who accepted it. Each existing activity gets its current content as
  version 1 (origin `recorded`, accepted by whoever confirmed it).

Both go with their activity (ON DELETE CASCADE).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 19:00:00
"""

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op
from sqlalchemy.dialects import postgresql

from app.models.common import UTCDateTime

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
CONTENT = (
    "need_id",
    "title",
    "description",
    "modality",
    "status",
    "start_date",
    "end_date",
    "funding_source",
    "outcomes",
)


def upgrade() -> None:
    op.create_table(
        "activity_proposal",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("activity_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("changes", JSON, nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("base_version", sa.Integer(), nullable=False),
        sa.Column("proposed_by_role", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("proposed_by_key_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
        sa.Column("answered_by_role", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("answered_by_key_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
        sa.Column("answered_at", UTCDateTime(), nullable=True),
        sa.Column("answer_message", sa.Text(), nullable=True),
        sa.Column("open_key", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"], ["activity.id"], name=op.f("fk_activity_proposal_activity_id_activity"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activity_proposal")),
        sa.UniqueConstraint("open_key", name=op.f("uq_activity_proposal_open_key")),
    )
    op.create_index(
        op.f("ix_activity_proposal_activity_id_created_at"),
        "activity_proposal",
        ["activity_id", "created_at"],
        unique=False,
    )
    op.create_index(op.f("ix_activity_proposal_status"), "activity_proposal", ["status"], unique=False)
    op.create_table(
        "activity_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("origin", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("content", JSON, nullable=False),
        sa.Column("changed", JSON, nullable=False),
        sa.Column("recorded_by_role", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("recorded_by_key_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.Column("accepted_by_role", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("accepted_by_key_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
        sa.Column("accepted_at", UTCDateTime(), nullable=True),
        sa.Column("proposal_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
        sa.ForeignKeyConstraint(
            ["activity_id"], ["activity.id"], name=op.f("fk_activity_version_activity_id_activity"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activity_version")),
        sa.UniqueConstraint("activity_id", "number", name=op.f("uq_activity_version_activity_id_number")),
    )
    _first_versions()


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _first_versions() -> None:
    """Each existing activity's current content becomes its version 1."""
    bind = op.get_bind()
    activity = sa.table(
        "activity",
        *(sa.column(name) for name in ("id", *CONTENT)),
        sa.column("confirmation"),
        sa.column("recorded_by_role"),
        sa.column("recorded_by_key_id"),
        sa.column("confirmed_by_role"),
        sa.column("confirmed_by_key_id"),
        sa.column("confirmed_at", UTCDateTime()),
        sa.column("created_at", UTCDateTime()),
        sa.column("updated_at", UTCDateTime()),
    )
    links = sa.table(
        "activity_recommendation", sa.column("activity_id"), sa.column("recommendation_id"), sa.column("position")
    )
    version = sa.table(
        "activity_version",
        sa.column("activity_id"),
        sa.column("number"),
        sa.column("origin"),
        sa.column("content", JSON),
        sa.column("changed", JSON),
        sa.column("recorded_by_role"),
        sa.column("recorded_by_key_id"),
        sa.column("recorded_at", UTCDateTime()),
        sa.column("accepted_by_role"),
        sa.column("accepted_by_key_id"),
        sa.column("accepted_at", UTCDateTime()),
    )
    cited: dict[str, list[str]] = {}
    for activity_id, recommendation_id in bind.execute(
        sa.select(links.c.activity_id, links.c.recommendation_id).order_by(links.c.activity_id, links.c.position)
    ):
        cited.setdefault(activity_id, []).append(recommendation_id)
    rows = []
    for row in bind.execute(sa.select(activity)).mappings():
        content = {name: _json_value(row[name]) for name in CONTENT}
        content["recommendation_ids"] = cited.get(row["id"], [])
        confirmed = row["confirmation"] == "confirmed"
        rows.append(
            {
                "activity_id": row["id"],
                "number": 1,
                "origin": "recorded",
                "content": content,
                "changed": [],
                "recorded_by_role": row["recorded_by_role"],
                "recorded_by_key_id": row["recorded_by_key_id"],
                "recorded_at": row["updated_at"] or row["created_at"] or datetime.now(UTC),
                "accepted_by_role": row["confirmed_by_role"] if confirmed else None,
                "accepted_by_key_id": row["confirmed_by_key_id"] if confirmed else None,
                "accepted_at": row["confirmed_at"] if confirmed else None,
            }
        )
    if rows:
        op.bulk_insert(version, rows)


def downgrade() -> None:
    op.drop_table("activity_version")
    op.drop_index(op.f("ix_activity_proposal_status"), table_name="activity_proposal")
    op.drop_index(op.f("ix_activity_proposal_activity_id_created_at"), table_name="activity_proposal")
    op.drop_table("activity_proposal")
