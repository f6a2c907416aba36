"""Recommendation texts in French and Spanish, searchable.

`recommendation_translation`: one row per (recommendation, language) that a source
publishes in that language (UHRI's `-fr` / `-es` exports, a matrix in French or
Spanish), with the file it came from and when it was written. `recommendation.text`
stays the original. Its full-text index:

- SQLite: an external-content FTS5 table `recommendation_translation_fts(text)` over the
  rows' integer `id`, kept in sync by triggers; the `unicode61` tokenizer without a
  stemmer (porter is English) and with accents kept, as PostgreSQL's `simple`
  configuration reads them, so both databases find the same words.
- PostgreSQL: a GIN index on `to_tsvector('simple', text)`.

The FTS table, its shadow tables and the GIN index are not in the models;
`migrations/env.py` ignores them.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.models.common import UTCDateTime

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_FTS = [
    (
        "CREATE VIRTUAL TABLE recommendation_translation_fts USING fts5("
        "text, content='recommendation_translation', content_rowid='id', "
        "tokenize='unicode61 remove_diacritics 0')"
    ),
    (
        "CREATE TRIGGER recommendation_translation_fts_ai AFTER INSERT ON recommendation_translation BEGIN "
        "INSERT INTO recommendation_translation_fts(rowid, text) VALUES (new.id, new.text); "
        "END"
    ),
    (
        "CREATE TRIGGER recommendation_translation_fts_ad AFTER DELETE ON recommendation_translation BEGIN "
        "INSERT INTO recommendation_translation_fts(recommendation_translation_fts, rowid, text) "
        "VALUES ('delete', old.id, old.text); "
        "END"
    ),
    (
        "CREATE TRIGGER recommendation_translation_fts_au AFTER UPDATE OF text, id ON recommendation_translation "
        "BEGIN "
        "INSERT INTO recommendation_translation_fts(recommendation_translation_fts, rowid, text) "
        "VALUES ('delete', old.id, old.text); "
        "INSERT INTO recommendation_translation_fts(rowid, text) VALUES (new.id, new.text); "
        "END"
    ),
]
SQLITE_TRIGGERS = (
    "recommendation_translation_fts_au",
    "recommendation_translation_fts_ad",
    "recommendation_translation_fts_ai",
)


def upgrade() -> None:
    op.create_table(
        "recommendation_translation",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("recommendation_id", sa.String(length=128), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=255), nullable=False),
        sa.Column("imported_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["recommendation_id"],
            ["recommendation.id"],
            name=op.f("fk_recommendation_translation_recommendation_id_recommendation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recommendation_translation")),
        sa.UniqueConstraint(
            "recommendation_id", "language", name=op.f("uq_recommendation_translation_recommendation_id_language")
        ),
    )
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_FTS:
            op.execute(statement)
    else:
        op.execute(
            "CREATE INDEX ix_recommendation_translation_tsv ON recommendation_translation "
            "USING gin (to_tsvector('simple', text))"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS recommendation_translation_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_recommendation_translation_tsv")
    op.drop_table("recommendation_translation")
