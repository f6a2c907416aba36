"""UHRI import, cross-source links and coverage: new recommendation fields, two index tables, import_run.

- `recommendation.publication_date` (the source document's date), `sdg_targets`
  (JSON list such as ["16.2"]), `canonical_id` and `link_method` (a record that is
  another source's copy of a recommendation points at the copy that counts).
- Index tables `recommendation_sdg_target` and `recommendation_affected_group`,
  like the existing theme/recommender/SDG ones, for the new filters and facets;
  existing rows' affected groups are backfilled.
- `import_run`: one row per completed import (when, format, counts per source),
  read by `GET /v1/coverage`.

Existing rows are not linked here: `upr-match link-recommendations` links them
(imports link the groups they touch).

Revision ID: 0009
Revises: 0006
Create Date: 2026-12-01 15:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op
from sqlalchemy.dialects import postgresql

import app.models.common

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
NEW_COLUMNS = ("publication_date", "canonical_id", "link_method", "sdg_targets")
LIST_ORDER = ("cycle", "session", "state_under_review", "id", "response", "action_category")
FACETS = ("state_under_review", "response", "cycle")
COVERING = (
    (FACETS, (*FACETS, "source", "canonical_id")),
    (LIST_ORDER, (*LIST_ORDER, "canonical_id")),
)


def _name(columns: Sequence[str]) -> str:
    return "ix_recommendation_" + "_".join(columns)


def _index_table(name: str, column: sa.Column) -> None:  # type: ignore[type-arg]
    op.create_table(
        name,
        sa.Column("recommendation_id", sa.String(length=128), nullable=False),
        column,
        sa.ForeignKeyConstraint(
            ["recommendation_id"],
            ["recommendation.id"],
            name=op.f(f"fk_{name}_recommendation_id_recommendation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("recommendation_id", column.name, name=op.f(f"pk_{name}")),
    )
    op.create_index(op.f(f"ix_{name}_{column.name}_recommendation_id"), name, [column.name, "recommendation_id"])


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table(
        "import_run",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("format", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("finished_at", app.models.common.UTCDateTime(timezone=True), nullable=False),
        sa.Column("rows_read", sa.Integer(), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("inserted", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("sources", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_run")),
    )
    op.create_index(op.f("ix_import_run_finished_at"), "import_run", ["finished_at"])
    _index_table("recommendation_affected_group", sa.Column("affected_group", sa.String(length=255), nullable=False))
    _index_table("recommendation_sdg_target", sa.Column("target", sa.String(length=8), nullable=False))

    # Plain ADD COLUMN on both engines (no table rebuild, so SQLite's FTS triggers stay in place).
    op.add_column("recommendation", sa.Column("publication_date", sa.Date(), nullable=True))
    op.add_column("recommendation", sa.Column("canonical_id", sa.String(length=128), nullable=True))
    op.add_column(
        "recommendation", sa.Column("link_method", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True)
    )
    op.add_column("recommendation", sa.Column("sdg_targets", JSON, nullable=False, server_default=sa.text("'[]'")))
    op.create_index(
        op.f("ix_recommendation_canonical_id"),
        "recommendation",
        ["canonical_id"],
        sqlite_where=sa.text("canonical_id IS NOT NULL"),
        postgresql_where=sa.text("canonical_id IS NOT NULL"),
    )
    # The covering indexes of the list and the facets gain canonical_id (and source), so
    # "each recommendation once" is answered off the index as before.
    for old, new in COVERING:
        op.drop_index(op.f(_name(old)), table_name="recommendation")
        op.create_index(op.f(_name(new)), "recommendation", list(new))

    if dialect == "sqlite":
        op.execute(
            "INSERT OR IGNORE INTO recommendation_affected_group (recommendation_id, affected_group) "
            "SELECT r.id, j.value FROM recommendation r, json_each(r.affected_groups) j"
        )
    else:
        op.execute(
            "INSERT INTO recommendation_affected_group (recommendation_id, affected_group) "
            "SELECT DISTINCT r.id, j FROM recommendation r, jsonb_array_elements_text(r.affected_groups) j"
        )


def downgrade() -> None:
    for old, new in COVERING:
        op.drop_index(op.f(_name(new)), table_name="recommendation")
        op.create_index(op.f(_name(old)), "recommendation", list(old))
    op.drop_index(op.f("ix_recommendation_canonical_id"), table_name="recommendation")
    for name in reversed(NEW_COLUMNS):
        # SQLite's own DROP COLUMN (3.35+): no table rebuild, so its FTS triggers survive.
        op.execute(f"ALTER TABLE recommendation DROP COLUMN {name}")
    for name, column in (("recommendation_sdg_target", "target"), ("recommendation_affected_group", "affected_group")):
        op.drop_index(op.f(f"ix_{name}_{column}_recommendation_id"), table_name=name)
        op.drop_table(name)
    op.drop_index(op.f("ix_import_run_finished_at"), table_name="import_run")
    op.drop_table("import_run")
