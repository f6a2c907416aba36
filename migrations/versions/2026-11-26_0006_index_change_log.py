"""Create index_change and the triggers that log every change of providers, needs and need links.

The matching index of each worker follows this log (see app/models/index_change.py).
Triggers rather than application hooks, so no write path can forget to log.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 22:20:11
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, kind logged, column holding the indexed object's id)
LOGGED = [("provider", "provider", "id"), ("need", "need", "id"), ("need_recommendation", "need", "need_id")]


def upgrade() -> None:
    op.create_table(
        "index_change",
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("object_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_index_change")),
    )
    with op.batch_alter_table("index_change", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_index_change_created_at"), ["created_at"], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION log_index_change() RETURNS trigger AS $$
            DECLARE
                row_json jsonb;
            BEGIN
                IF TG_OP = 'DELETE' THEN row_json := to_jsonb(OLD); ELSE row_json := to_jsonb(NEW); END IF;
                INSERT INTO index_change (kind, object_id) VALUES (TG_ARGV[0], row_json ->> TG_ARGV[1]);
                RETURN NULL;
            END
            $$ LANGUAGE plpgsql
            """
        )
        for table, kind, column in LOGGED:
            op.execute(
                f"CREATE TRIGGER trg_{table}_index_change AFTER INSERT OR UPDATE OR DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION log_index_change('{kind}', '{column}')"
            )
    else:
        for table, kind, column in LOGGED:
            for event, ref in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")):
                op.execute(
                    f"CREATE TRIGGER trg_{table}_{event.lower()}_index_change AFTER {event} ON {table} "
                    f"BEGIN INSERT INTO index_change (kind, object_id) VALUES ('{kind}', {ref}.{column}); END"
                )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table, _, _ in LOGGED:
            op.execute(f"DROP TRIGGER IF EXISTS trg_{table}_index_change ON {table}")
        op.execute("DROP FUNCTION IF EXISTS log_index_change()")
    else:
        for table, _, _ in LOGGED:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS trg_{table}_{event}_index_change")
    with op.batch_alter_table("index_change", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_index_change_created_at"))
    op.drop_table("index_change")
