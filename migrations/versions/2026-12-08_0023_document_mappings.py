"""Create document_mapping, document_item and document_link: a document's paragraphs linked to recommendations;
index recommendation.updated_at (read before every related request).

A mapping belongs to the key that made it (gone with the key); its items and links go with it. A link names
its recommendation without a foreign key: a recommendation withdrawn or re-imported later leaves the
reviewed mapping as its author kept it.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-08 01:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

import app.models.common

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_TYPE = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "document_mapping",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("owner_key_id", sa.String(length=36), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("filename", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("filters", JSON_TYPE, nullable=False),
        sa.Column("item_count", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", app.models.common.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.models.common.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_key_id"], ["api_key.id"], name=op.f("fk_document_mapping_owner_key_id_api_key"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_mapping")),
    )
    op.create_index(op.f("ix_document_mapping_owner_key_id"), "document_mapping", ["owner_key_id"])
    op.create_table(
        "document_item",
        sa.Column("mapping_id", sa.String(length=36), nullable=False),
        sa.Column("number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("label", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["mapping_id"],
            ["document_mapping.id"],
            name=op.f("fk_document_item_mapping_id_document_mapping"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("mapping_id", "number", name=op.f("pk_document_item")),
    )
    op.create_table(
        "document_link",
        sa.Column("mapping_id", sa.String(length=36), nullable=False),
        sa.Column("item_number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("recommendation_id", sa.String(length=128), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("reasons", JSON_TYPE, nullable=False),
        sa.Column("decision", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["mapping_id"],
            ["document_mapping.id"],
            name=op.f("fk_document_link_mapping_id_document_mapping"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("mapping_id", "item_number", "recommendation_id", name=op.f("pk_document_link")),
    )
    op.create_index(op.f("ix_document_link_recommendation_id"), "document_link", ["recommendation_id"])
    # Each worker reads max(updated_at) before a related request (has the table moved?): an index, not a scan.
    op.create_index(op.f("ix_recommendation_updated_at"), "recommendation", ["updated_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_recommendation_updated_at"), table_name="recommendation")
    op.drop_index(op.f("ix_document_link_recommendation_id"), table_name="document_link")
    op.drop_table("document_link")
    op.drop_table("document_item")
    op.drop_index(op.f("ix_document_mapping_owner_key_id"), table_name="document_mapping")
    op.drop_table("document_mapping")
