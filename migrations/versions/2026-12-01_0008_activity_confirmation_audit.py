"""Activity confirmation by the other party, and the append-only audit trail.

- `activity` gains who recorded its content, whether the other party confirmed or
  declined it, by whom and when. New rows default to `unconfirmed`; every existing
  row was recorded under the old rules (by the demo loader, an admin or a party)
  and was public, so it is backfilled as `confirmed` (since its creation), with no
  recorder.
- `audit_event` holds one row per write. Triggers refuse UPDATE and DELETE on it
  (PostgreSQL: one statement-level trigger; SQLite: one per statement kind), so
  not even a bug or an injected statement in the application can rewrite history.
  TRUNCATE (PostgreSQL) and dropping the triggers need the table owner's rights:
  run the service as a role that does not own the schema to rule those out too.

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-01 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op
from sqlalchemy.dialects import postgresql

JSON_TYPE = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVITY_COLUMNS = (
    "recorded_by_role",
    "recorded_by_key_id",
    "confirmed_by_role",
    "confirmed_by_key_id",
    "confirmed_at",
    "decline_reason",
    "confirmation",
)
SQLITE_TRIGGERS = ("trg_audit_event_no_update", "trg_audit_event_no_delete")


def upgrade() -> None:
    op.add_column(
        "activity",
        sa.Column(
            "confirmation",
            sqlmodel.sql.sqltypes.AutoString(length=16),
            nullable=False,
            server_default="unconfirmed",
        ),
    )
    op.add_column("activity", sa.Column("recorded_by_role", sqlmodel.sql.sqltypes.AutoString(length=16)))
    op.add_column("activity", sa.Column("recorded_by_key_id", sqlmodel.sql.sqltypes.AutoString(length=36)))
    op.add_column("activity", sa.Column("confirmed_by_role", sqlmodel.sql.sqltypes.AutoString(length=16)))
    op.add_column("activity", sa.Column("confirmed_by_key_id", sqlmodel.sql.sqltypes.AutoString(length=36)))
    op.add_column("activity", sa.Column("confirmed_at", sa.DateTime(timezone=True)))
    op.add_column("activity", sa.Column("decline_reason", sqlmodel.sql.sqltypes.AutoString(length=1000)))
    op.execute("UPDATE activity SET confirmation = 'confirmed', confirmed_at = created_at")
    op.create_index(op.f("ix_activity_confirmation"), "activity", ["confirmation"], unique=False)

    op.create_table(
        "audit_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_key_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
        sa.Column("actor_role", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("actor_name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.Column("resource", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("resource_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("version_before", sa.Integer(), nullable=True),
        sa.Column("version_after", sa.Integer(), nullable=True),
        sa.Column("detail", JSON_TYPE, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_event")),
    )
    op.create_index(op.f("ix_audit_event_at"), "audit_event", ["at"], unique=False)
    op.create_index(op.f("ix_audit_event_actor_key_id"), "audit_event", ["actor_key_id"], unique=False)
    op.create_index(
        op.f("ix_audit_event_resource_resource_id"), "audit_event", ["resource", "resource_id"], unique=False
    )

    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION refuse_audit_change() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'audit_event is append-only: % refused', TG_OP;
            END
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER trg_audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event "
            "FOR EACH STATEMENT EXECUTE FUNCTION refuse_audit_change()"
        )
    else:
        for name, event in zip(SQLITE_TRIGGERS, ("UPDATE", "DELETE"), strict=True):
            op.execute(
                f"CREATE TRIGGER {name} BEFORE {event} ON audit_event "
                f"BEGIN SELECT RAISE(ABORT, 'audit_event is append-only: {event} refused'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS trg_audit_event_append_only ON audit_event")
        op.execute("DROP FUNCTION IF EXISTS refuse_audit_change()")
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_index(op.f("ix_audit_event_resource_resource_id"), table_name="audit_event")
    op.drop_index(op.f("ix_audit_event_actor_key_id"), table_name="audit_event")
    op.drop_index(op.f("ix_audit_event_at"), table_name="audit_event")
    op.drop_table("audit_event")

    op.drop_index(op.f("ix_activity_confirmation"), table_name="activity")
    # Plain ALTER TABLE ... DROP COLUMN (SQLite >= 3.35): a batch rebuild of `activity` would
    # drop the table, and with foreign keys on that cascades to its recommendation links.
    for column in ACTIVITY_COLUMNS:
        op.drop_column("activity", column)
