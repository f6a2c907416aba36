"""Create providers, needs and cooperation activities, with their link and facet tables.

Every row carries an integer `version` (optimistic concurrency, the ETag); activities
reference providers and needs ON DELETE RESTRICT, link rows go with their parent.

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-26 22:13:12.564262
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op
from sqlalchemy.dialects import postgresql

JSON_TYPE = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "need",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("themes", JSON_TYPE, nullable=False),
        sa.Column("languages", JSON_TYPE, nullable=False),
        sa.Column("modalities", JSON_TYPE, nullable=False),
        sa.Column("priority", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("visibility", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("is_demo", sa.Boolean(), nullable=False),
        sa.Column("dedupe_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_need")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_need_dedupe_key")),
    )
    with op.batch_alter_table("need", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_need_created_at_id"), ["created_at", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_need_state"), ["state"], unique=False)
        batch_op.create_index(batch_op.f("ix_need_status"), ["status"], unique=False)

    op.create_table(
        "provider",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("slug", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("acronym", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("themes", JSON_TYPE, nullable=False),
        sa.Column("sdgs", JSON_TYPE, nullable=False),
        sa.Column("countries", JSON_TYPE, nullable=False),
        sa.Column("regions", JSON_TYPE, nullable=False),
        sa.Column("languages", JSON_TYPE, nullable=False),
        sa.Column("modalities", JSON_TYPE, nullable=False),
        sa.Column("website", sqlmodel.sql.sqltypes.AutoString(length=2048), nullable=True),
        sa.Column("contact_email", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=True),
        sa.Column("is_demo", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider")),
    )
    with op.batch_alter_table("provider", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_provider_created_at_id"), ["created_at", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_provider_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_provider_slug"), ["slug"], unique=True)

    op.create_table(
        "activity",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("provider_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("need_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("modality", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("funding_source", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("outcomes", sa.Text(), nullable=True),
        sa.Column("is_demo", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["need_id"], ["need.id"], name=op.f("fk_activity_need_id_need"), ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(
            ["provider_id"], ["provider.id"], name=op.f("fk_activity_provider_id_provider"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activity")),
    )
    with op.batch_alter_table("activity", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_activity_created_at_id"), ["created_at", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_activity_need_id"), ["need_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_activity_provider_id"), ["provider_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_activity_state"), ["state"], unique=False)
        batch_op.create_index(batch_op.f("ix_activity_status"), ["status"], unique=False)

    op.create_table(
        "need_recommendation",
        sa.Column("need_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("recommendation_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["need_id"], ["need.id"], name=op.f("fk_need_recommendation_need_id_need"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["recommendation_id"],
            ["recommendation.id"],
            name=op.f("fk_need_recommendation_recommendation_id_recommendation"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("need_id", "recommendation_id", name=op.f("pk_need_recommendation")),
    )
    with op.batch_alter_table("need_recommendation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_need_recommendation_recommendation_id"), ["recommendation_id"], unique=False
        )

    op.create_table(
        "need_theme",
        sa.Column("need_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("theme", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.ForeignKeyConstraint(["need_id"], ["need.id"], name=op.f("fk_need_theme_need_id_need"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("need_id", "theme", name=op.f("pk_need_theme")),
    )
    with op.batch_alter_table("need_theme", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_need_theme_theme"), ["theme"], unique=False)

    op.create_table(
        "provider_facet",
        sa.Column("provider_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("facet", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("value", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.ForeignKeyConstraint(
            ["provider_id"], ["provider.id"], name=op.f("fk_provider_facet_provider_id_provider"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("provider_id", "facet", "value", name=op.f("pk_provider_facet")),
    )
    with op.batch_alter_table("provider_facet", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_provider_facet_facet_value"), ["facet", "value"], unique=False)

    op.create_table(
        "activity_recommendation",
        sa.Column("activity_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("recommendation_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activity.id"],
            name=op.f("fk_activity_recommendation_activity_id_activity"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recommendation_id"],
            ["recommendation.id"],
            name=op.f("fk_activity_recommendation_recommendation_id_recommendation"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("activity_id", "recommendation_id", name=op.f("pk_activity_recommendation")),
    )
    with op.batch_alter_table("activity_recommendation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_activity_recommendation_recommendation_id"), ["recommendation_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("activity_recommendation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_activity_recommendation_recommendation_id"))

    op.drop_table("activity_recommendation")
    with op.batch_alter_table("provider_facet", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_provider_facet_facet_value"))

    op.drop_table("provider_facet")
    with op.batch_alter_table("need_theme", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_need_theme_theme"))

    op.drop_table("need_theme")
    with op.batch_alter_table("need_recommendation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_need_recommendation_recommendation_id"))

    op.drop_table("need_recommendation")
    with op.batch_alter_table("activity", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_activity_status"))
        batch_op.drop_index(batch_op.f("ix_activity_state"))
        batch_op.drop_index(batch_op.f("ix_activity_provider_id"))
        batch_op.drop_index(batch_op.f("ix_activity_need_id"))
        batch_op.drop_index(batch_op.f("ix_activity_created_at_id"))

    op.drop_table("activity")
    with op.batch_alter_table("provider", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_provider_slug"))
        batch_op.drop_index(batch_op.f("ix_provider_kind"))
        batch_op.drop_index(batch_op.f("ix_provider_created_at_id"))

    op.drop_table("provider")
    with op.batch_alter_table("need", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_need_status"))
        batch_op.drop_index(batch_op.f("ix_need_state"))
        batch_op.drop_index(batch_op.f("ix_need_created_at_id"))

    op.drop_table("need")
