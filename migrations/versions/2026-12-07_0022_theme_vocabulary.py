"""One vocabulary of themes and affected persons: the sources' own labels kept, the index on controlled codes.

- `recommendation.themes_source` and `affected_groups_source`: the labels as the source spelled them.
  Existing rows get their current labels there (a predicted row has no source themes: `[]`).
- `recommendation.themes` keeps one spelling per label (`app.reference.themes.theme_label`: "Budget
  &resources" -> "Budget & resources"; UPR Info issues, the tagger's classes, unchanged);
  `affected_groups` holds the controlled groups ("women" -> "Women", "Women & girls" -> Women, Girls).
- `recommendation_theme` holds the controlled codes of each record's labels (a label mapping to no code,
  itself), so `theme=` filters and facets read the controlled list; `recommendation_affected_group` the
  controlled groups. The downgrade puts the source's labels back in both.

Revision ID: 0022
Revises: 0020
Create Date: 2026-12-07 22:00:00
"""

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from app.reference.themes import affected_groups, theme_index_values, theme_labels

revision: str = "0022"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
COLUMNS = ("themes_source", "affected_groups_source")
BATCH = 2_000

recommendation = sa.table(
    "recommendation",
    sa.column("id", sa.String),
    sa.column("themes", JSON),
    sa.column("themes_predicted", sa.Boolean),
    sa.column("affected_groups", JSON),
    sa.column("themes_source", JSON),
    sa.column("affected_groups_source", JSON),
)
theme_index = sa.table("recommendation_theme", sa.column("recommendation_id", sa.String), sa.column("theme", sa.String))
group_index = sa.table(
    "recommendation_affected_group", sa.column("recommendation_id", sa.String), sa.column("affected_group", sa.String)
)
Row = tuple[str, list[str], bool, list[str], list[str], list[str]]


def upgrade() -> None:
    for name in COLUMNS:
        op.add_column("recommendation", sa.Column(name, JSON, nullable=False, server_default=sa.text("'[]'")))

    def normalised(row: Row) -> dict[str, Any]:
        rid, themes, predicted, groups, _, _ = row
        return {
            "rid": rid,
            "themes": theme_labels(themes),
            "groups": affected_groups(groups),
            "themes_source": [] if predicted else list(themes),
            "groups_source": list(groups),
        }

    _rewrite(normalised, index=theme_index_values)


def downgrade() -> None:
    def restored(row: Row) -> dict[str, Any]:
        rid, themes, predicted, groups, themes_source, groups_source = row
        return {
            "rid": rid,
            "themes": themes if predicted else themes_source,
            "groups": groups_source,
            "themes_source": themes_source,
            "groups_source": groups_source,
        }

    _rewrite(restored, index=lambda labels: list(dict.fromkeys(labels)))
    for name in COLUMNS:
        # SQLite's own DROP COLUMN (3.35+): no table rebuild, so the triggers on the table survive.
        op.execute(f"ALTER TABLE recommendation DROP COLUMN {name}")


def _rewrite(change: Callable[[Row], dict[str, Any]], *, index: Callable[[list[str]], list[str]]) -> None:
    """Rewrite every recommendation's labels with `change` and rebuild the theme and group index tables."""
    bind = op.get_bind()
    r = recommendation.c
    rows = bind.execute(
        sa.select(r.id, r.themes, r.themes_predicted, r.affected_groups, r.themes_source, r.affected_groups_source)
    ).all()
    update = (
        recommendation.update()
        .where(r.id == sa.bindparam("rid"))
        .values(
            themes=sa.bindparam("themes"),
            affected_groups=sa.bindparam("groups"),
            themes_source=sa.bindparam("themes_source"),
            affected_groups_source=sa.bindparam("groups_source"),
        )
    )
    bind.execute(theme_index.delete())
    bind.execute(group_index.delete())
    for start in range(0, len(rows), BATCH):
        changed = [
            change((rid, t or [], bool(p), g or [], ts or [], gs or []))
            for rid, t, p, g, ts, gs in rows[start : start + BATCH]
        ]
        bind.execute(update, changed)
        themes = [{"recommendation_id": c["rid"], "theme": v} for c in changed for v in index(c["themes"])]
        groups = [
            {"recommendation_id": c["rid"], "affected_group": g} for c in changed for g in dict.fromkeys(c["groups"])
        ]
        if themes:
            bind.execute(theme_index.insert(), themes)
        if groups:
            bind.execute(group_index.insert(), groups)
