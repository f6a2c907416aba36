"""Predicted themes of providers and needs, next to their declared themes.

`provider.themes_predicted` holds the themes the tagger reads in a profile, `need.themes_predicted`
those it reads in the recommendations a need cites (best first). Declared `themes` stay what a
provider or a State chose (or, for a need, the human labels of its recommendations); the pages and
the API show the predictions so people can confirm or correct them. Existing rows start with no
prediction: `upr-match predict-themes` fills them (and so does the next change of each).

Revision ID: 0014
Revises: 0015
Create Date: 2026-12-03 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0014"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
TABLES = ("provider", "need")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("themes_predicted", JSON, nullable=False, server_default=sa.text("'[]'")))


def downgrade() -> None:
    for table in TABLES:
        # SQLite's own DROP COLUMN (3.35+): no table rebuild, so the change-log triggers survive.
        op.execute(f"ALTER TABLE {table} DROP COLUMN themes_predicted")
