"""Create web_selection: the recommendations a signed-in visitor ticked on the search page for a need.

A State ticks search results across pages and searches, then files one need citing
exactly those. The ticks live on the server, one row per (session, recommendation),
and go with the session (sign-out, timeout, purge) or the recommendation.

Revision ID: 0013
Revises: 0009
Create Date: 2026-12-02 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.common

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "web_selection",
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("recommendation_id", sa.String(length=128), nullable=False),
        sa.Column("added_at", app.models.common.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"], ["web_session.id"], name=op.f("fk_web_selection_session_id_web_session"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["recommendation_id"],
            ["recommendation.id"],
            name=op.f("fk_web_selection_recommendation_id_recommendation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("session_id", "recommendation_id", name=op.f("pk_web_selection")),
    )
    # Deleting a recommendation finds its selection rows through this index, not a table scan.
    op.create_index(op.f("ix_web_selection_recommendation_id"), "web_selection", ["recommendation_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_web_selection_recommendation_id"), table_name="web_selection")
    op.drop_table("web_selection")
