"""Create data_version: a counter every write to publicly readable data moves, kept in the database.

Public answers carry an ETag derived from it (app/http/public_cache.py), so every replica and
every worker process on one database agrees on it, and writes by the CLI, the sync or the worker
move it as well as the API's. Triggers rather than application hooks, so no write path can forget.

- SQLite serialises writers, so a row trigger simply adds one to the single row (slot 0).
- PostgreSQL: a deferred constraint trigger adds one at commit, once per transaction (a
  transaction-local setting remembers it did), to a slot picked by the backend's process id, so
  concurrent writers rarely wait on the same row and never hold it before their last statement
  (no lock cycle with the rows they write). The version is the sum of the slots.

Revision ID: 0031
Revises: 0024
Create Date: 2026-12-08 01:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0031"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The tables whose rows some public answer shows (or counts); app/models/data_version.py keeps the list.
VERSIONED = (
    "recommendation",
    "recommendation_theme",
    "recommendation_recommender",
    "recommendation_sdg",
    "recommendation_sdg_target",
    "recommendation_affected_group",
    "recommendation_translation",
    "provider",
    "provider_facet",
    "need",
    "need_recommendation",
    "need_theme",
    "activity",
    "activity_recommendation",
    "activity_proposal",
    "activity_version",
    "engagement",
    "funding_resource",
    "need_best_score",
    "theme_vector",
    "import_run",
    "sync_run",
    "document_mapping",
    "document_item",
    "document_link",
)
SLOTS = 8


def upgrade() -> None:
    op.create_table(
        "data_version",
        sa.Column("slot", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("slot", name=op.f("pk_data_version")),
    )
    op.execute("INSERT INTO data_version (slot, version) VALUES (0, 1)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION bump_data_version() RETURNS trigger AS $$
            BEGIN
                IF current_setting('upr.data_version_bumped', true) IS DISTINCT FROM 'yes' THEN
                    PERFORM set_config('upr.data_version_bumped', 'yes', true);
                    INSERT INTO data_version (slot, version) VALUES (pg_backend_pid() % {SLOTS}, 1)
                    ON CONFLICT (slot) DO UPDATE SET version = data_version.version + 1;
                END IF;
                RETURN NULL;
            END
            $$ LANGUAGE plpgsql
            """
        )
        for table in VERSIONED:
            op.execute(
                f"CREATE CONSTRAINT TRIGGER trg_{table}_data_version AFTER INSERT OR UPDATE OR DELETE ON {table} "
                "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_data_version()"
            )
    else:
        for table in VERSIONED:
            for event in ("INSERT", "UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER trg_{table}_{event.lower()}_data_version AFTER {event} ON {table} BEGIN "
                    # Not `INSERT OR IGNORE`: a trigger's conflict clause gives way to the statement's own
                    # (an upsert's, an `INSERT OR REPLACE`'s), which would then fail on the existing row.
                    "INSERT INTO data_version (slot, version) SELECT 0, 0 "
                    "WHERE NOT EXISTS (SELECT 1 FROM data_version WHERE slot = 0); "
                    "UPDATE data_version SET version = version + 1 WHERE slot = 0; END"
                )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in VERSIONED:
            op.execute(f"DROP TRIGGER IF EXISTS trg_{table}_data_version ON {table}")
        op.execute("DROP FUNCTION IF EXISTS bump_data_version()")
    else:
        for table in VERSIONED:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS trg_{table}_{event}_data_version")
    op.drop_table("data_version")
