"""Create the recommendation table with an index for every single-column filter.

Revision ID: 0001
Revises:
Create Date: 2026-11-26 22:06:34.997812
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op
from sqlalchemy.dialects import postgresql

JSON_TYPE = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "recommendation",
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("cycle", sa.Integer(), nullable=False),
        sa.Column("session", sa.Integer(), nullable=False),
        sa.Column("state_under_review", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("response", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("response_raw", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("theme_scheme", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("action_category", sa.Integer(), nullable=True),
        sa.Column("source_document", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("paragraph", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("provisional", sa.Boolean(), nullable=False),
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("state_under_review_name", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("recommending_states", JSON_TYPE, nullable=False),
        sa.Column("recommending_state_names", JSON_TYPE, nullable=False),
        sa.Column("themes", JSON_TYPE, nullable=False),
        sa.Column("themes_predicted", sa.Boolean(), nullable=False),
        sa.Column("sdgs", JSON_TYPE, nullable=False),
        sa.Column("affected_groups", JSON_TYPE, nullable=False),
        sa.Column("content_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recommendation")),
    )
    with op.batch_alter_table("recommendation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recommendation_action_category"), ["action_category"], unique=False)
        batch_op.create_index(batch_op.f("ix_recommendation_cycle"), ["cycle"], unique=False)
        batch_op.create_index(batch_op.f("ix_recommendation_response"), ["response"], unique=False)
        batch_op.create_index(batch_op.f("ix_recommendation_session"), ["session"], unique=False)
        batch_op.create_index(batch_op.f("ix_recommendation_state_under_review"), ["state_under_review"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_recommendation_state_under_review_response_cycle"),
            ["state_under_review", "response", "cycle"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("recommendation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recommendation_state_under_review_response_cycle"))
        batch_op.drop_index(batch_op.f("ix_recommendation_state_under_review"))
        batch_op.drop_index(batch_op.f("ix_recommendation_session"))
        batch_op.drop_index(batch_op.f("ix_recommendation_response"))
        batch_op.drop_index(batch_op.f("ix_recommendation_cycle"))
        batch_op.drop_index(batch_op.f("ix_recommendation_action_category"))

    op.drop_table("recommendation")
