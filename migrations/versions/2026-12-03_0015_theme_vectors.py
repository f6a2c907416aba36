"""Stored theme vectors, and a recommendation's new text logged for the needs that cite it.

- `theme_vector`: each provider's and need's theme vector, stored by the matching index when it
  first computes it, so a starting worker reads 60,000 vectors instead of tagging 60,000 texts.
- The matching index reads a need's text (with its recommendations' texts) from the index, not
  from the database on every match: when a recommendation's text changes (a re-import), each need
  citing it is logged in `index_change`, as a change of the need.

Revision ID: 0015
Revises: 0013
Create Date: 2026-12-03 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0015"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "theme_vector",
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("object_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "object_id", name=op.f("pk_theme_vector")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION log_cited_text_change() RETURNS trigger AS $$
            BEGIN
                INSERT INTO index_change (kind, object_id)
                SELECT 'need', need_id FROM need_recommendation WHERE recommendation_id = NEW.id;
                RETURN NULL;
            END
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER trg_recommendation_text_index_change AFTER UPDATE OF text ON recommendation "
            "FOR EACH ROW WHEN (OLD.text IS DISTINCT FROM NEW.text) EXECUTE FUNCTION log_cited_text_change()"
        )
    else:
        op.execute(
            "CREATE TRIGGER trg_recommendation_text_index_change AFTER UPDATE OF text ON recommendation "
            "WHEN OLD.text IS NOT NEW.text BEGIN INSERT INTO index_change (kind, object_id) "
            "SELECT 'need', need_id FROM need_recommendation WHERE recommendation_id = NEW.id; END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS trg_recommendation_text_index_change ON recommendation")
        op.execute("DROP FUNCTION IF EXISTS log_cited_text_change()")
    else:
        op.execute("DROP TRIGGER IF EXISTS trg_recommendation_text_index_change")
    op.drop_table("theme_vector")
