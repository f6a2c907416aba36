"""Recommendation search: index tables for list-valued filters, a stable FTS handle, full-text indexes.

Adds `recommendation.seq` (a stable integer used as the SQLite FTS5 rowid), the
index tables `recommendation_theme`, `recommendation_recommender` and
`recommendation_sdg`, an index matching the list order (covering the common filters),
replaces the single-column indexes on cycle, response and action_category (a few
distinct values each) by that covering index, and full-text search:

- SQLite: an external-content FTS5 table `recommendation_fts(text)` with the
  porter tokenizer, kept in sync by triggers on `recommendation` (insert, update
  of text/seq, delete). A row inserted without `seq` gets one from a trigger.
- PostgreSQL: a GIN index on `to_tsvector('english', text)`.

Existing rows are backfilled (seq, index tables, FTS). The FTS table, its shadow
tables and the GIN index are not in the models; `migrations/env.py` ignores them.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 22:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LOW_CARDINALITY = ("cycle", "response", "action_category")

SQLITE_FTS = [
    (
        "CREATE VIRTUAL TABLE recommendation_fts USING fts5("
        "text, content='recommendation', content_rowid='seq', "
        "tokenize='porter unicode61 remove_diacritics 2')"
    ),
    # Rows inserted without a seq (e.g. by hand) get the next one; the update trigger then indexes them.
    (
        "CREATE TRIGGER recommendation_fts_seq AFTER INSERT ON recommendation WHEN new.seq IS NULL BEGIN "
        "UPDATE recommendation SET seq = (SELECT COALESCE(MAX(seq), 0) + 1 FROM recommendation) WHERE id = new.id; "
        "END"
    ),
    (
        "CREATE TRIGGER recommendation_fts_ai AFTER INSERT ON recommendation WHEN new.seq IS NOT NULL BEGIN "
        "INSERT INTO recommendation_fts(rowid, text) VALUES (new.seq, new.text); "
        "END"
    ),
    (
        "CREATE TRIGGER recommendation_fts_ad AFTER DELETE ON recommendation WHEN old.seq IS NOT NULL BEGIN "
        "INSERT INTO recommendation_fts(recommendation_fts, rowid, text) VALUES ('delete', old.seq, old.text); "
        "END"
    ),
    # One trigger does delete-then-insert, so the order of the two is fixed.
    (
        "CREATE TRIGGER recommendation_fts_au AFTER UPDATE OF text, seq ON recommendation "
        "WHEN old.seq IS NOT NULL BEGIN "
        "INSERT INTO recommendation_fts(recommendation_fts, rowid, text) VALUES ('delete', old.seq, old.text); "
        "INSERT INTO recommendation_fts(rowid, text) SELECT new.seq, new.text WHERE new.seq IS NOT NULL; "
        "END"
    ),
    (
        "CREATE TRIGGER recommendation_fts_au_first AFTER UPDATE OF seq ON recommendation "
        "WHEN old.seq IS NULL AND new.seq IS NOT NULL BEGIN "
        "INSERT INTO recommendation_fts(rowid, text) VALUES (new.seq, new.text); "
        "END"
    ),
]


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
    with op.batch_alter_table("recommendation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seq", sa.Integer(), nullable=True))
    op.create_index(op.f("ix_recommendation_seq"), "recommendation", ["seq"], unique=True)
    # Low-cardinality single-column indexes mislead the SQLite planner into thousands of
    # table lookups; the covering list-order index below serves these filters instead.
    for name in LOW_CARDINALITY:
        op.drop_index(op.f(f"ix_recommendation_{name}"), table_name="recommendation")
    op.create_index(
        op.f("ix_recommendation_cycle_session_state_under_review_id_response_action_category"),
        "recommendation",
        ["cycle", "session", "state_under_review", "id", "response", "action_category"],
    )
    _index_table("recommendation_theme", sa.Column("theme", sa.String(length=255), nullable=False))
    _index_table("recommendation_recommender", sa.Column("state", sa.String(length=3), nullable=False))
    _index_table("recommendation_sdg", sa.Column("sdg", sa.Integer(), nullable=False))

    # Backfill rows imported before this revision.
    if dialect == "sqlite":
        op.execute("UPDATE recommendation SET seq = rowid")
        each = "json_each"
        op.execute(
            "INSERT OR IGNORE INTO recommendation_theme (recommendation_id, theme) "
            f"SELECT r.id, j.value FROM recommendation r, {each}(r.themes) j"
        )
        op.execute(
            "INSERT OR IGNORE INTO recommendation_recommender (recommendation_id, state) "
            f"SELECT r.id, j.value FROM recommendation r, {each}(r.recommending_states) j"
        )
        op.execute(
            "INSERT OR IGNORE INTO recommendation_sdg (recommendation_id, sdg) "
            f"SELECT r.id, j.value FROM recommendation r, {each}(r.sdgs) j"
        )
        for statement in SQLITE_FTS:
            op.execute(statement)
        op.execute("INSERT INTO recommendation_fts(recommendation_fts) VALUES ('rebuild')")
    else:
        op.execute(
            "UPDATE recommendation r SET seq = n.rn FROM "
            "(SELECT id, row_number() OVER (ORDER BY id) AS rn FROM recommendation) n WHERE r.id = n.id"
        )
        op.execute(
            "INSERT INTO recommendation_theme (recommendation_id, theme) "
            "SELECT DISTINCT r.id, j FROM recommendation r, jsonb_array_elements_text(r.themes) j"
        )
        op.execute(
            "INSERT INTO recommendation_recommender (recommendation_id, state) "
            "SELECT DISTINCT r.id, j FROM recommendation r, jsonb_array_elements_text(r.recommending_states) j"
        )
        op.execute(
            "INSERT INTO recommendation_sdg (recommendation_id, sdg) "
            "SELECT DISTINCT r.id, j::int FROM recommendation r, jsonb_array_elements_text(r.sdgs) j"
        )
        op.execute("CREATE INDEX ix_recommendation_tsv ON recommendation USING gin (to_tsvector('english', text))")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for trigger in (
            "recommendation_fts_au_first",
            "recommendation_fts_au",
            "recommendation_fts_ad",
            "recommendation_fts_ai",
            "recommendation_fts_seq",
        ):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS recommendation_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_recommendation_tsv")
    for name, column in (
        ("recommendation_sdg", "sdg"),
        ("recommendation_recommender", "state"),
        ("recommendation_theme", "theme"),
    ):
        op.drop_index(op.f(f"ix_{name}_{column}_recommendation_id"), table_name=name)
        op.drop_table(name)
    op.drop_index(
        op.f("ix_recommendation_cycle_session_state_under_review_id_response_action_category"),
        table_name="recommendation",
    )
    op.drop_index(op.f("ix_recommendation_seq"), table_name="recommendation")
    for name in LOW_CARDINALITY:
        op.create_index(op.f(f"ix_recommendation_{name}"), "recommendation", [name])
    with op.batch_alter_table("recommendation", schema=None) as batch_op:
        batch_op.drop_column("seq")
