"""Funding figures of the UN cooperation frameworks, and each need's best match score.

- `funding_resource`: USD required and available per country and SDG (`upr-match import-funding`).
- `need_best_score`: the ranking's best score per need and since when it is below the strong band,
  so the unserved-needs measure reads one indexed table instead of ranking every open need.

Revision ID: 0016
Revises: 0014
Create Date: 2026-12-04 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

from app.models.common import UTCDateTime

revision: str = "0016"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "funding_resource",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("sdg", sa.Integer(), nullable=False),
        sa.Column("required", sa.Float(), nullable=True),
        sa.Column("available", sa.Float(), nullable=True),
        sa.Column("country_name", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("imported_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_funding_resource")),
        sa.UniqueConstraint("state", "sdg", name=op.f("uq_funding_resource_state_sdg")),
    )
    op.create_index(op.f("ix_funding_resource_state"), "funding_resource", ["state"], unique=False)
    op.create_table(
        "need_best_score",
        sa.Column("need_id", sa.String(length=36), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("provider_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
        sa.Column("computed_at", UTCDateTime(), nullable=False),
        sa.Column("below_strong_since", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["need_id"], ["need.id"], name=op.f("fk_need_best_score_need_id_need"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("need_id", name=op.f("pk_need_best_score")),
    )
    op.create_index(
        op.f("ix_need_best_score_below_strong_since"), "need_best_score", ["below_strong_since"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_need_best_score_below_strong_since"), table_name="need_best_score")
    op.drop_table("need_best_score")
    op.drop_index(op.f("ix_funding_resource_state"), table_name="funding_resource")
    op.drop_table("funding_resource")
