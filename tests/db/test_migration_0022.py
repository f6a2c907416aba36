"""Migration 0022 on a loaded database: the sources' labels kept, labels in one spelling, the index on codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, text

from app.commands.server import alembic_config
from app.core.config import get_settings
from tests.conftest import migrate
from tests.dbutil import fresh_database_url

pytestmark = pytest.mark.db

INSERT = (
    "INSERT INTO recommendation (id, seq, source, cycle, session, state_under_review, state_under_review_name, "
    "recommending_states, recommending_state_names, text, response, themes, themes_predicted, sdgs, "
    "affected_groups, content_hash, provisional, sdg_targets, created_at, updated_at) VALUES (:id, :seq, 'test', 2, "
    "20, 'SVN', 'Slovenia', '[]', '[]', 'Some text', 'supported', :themes, :predicted, '[]', :groups, 'x', false, "
    "'[]', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
)
ROWS = [
    (
        "r1",
        ["Budget &resources (for human rights implementation)", "Constitutional and legislative framework"],
        False,
        ["women", "Women & girls"],
    ),
    ("r2", ["International instruments", "NHRI"], False, []),
    ("r3", ["Torture and other CID treatment"], True, ["Children"]),
]


def _column(value: object) -> list[str]:
    return json.loads(value) if isinstance(value, str) else list(value)  # type: ignore[call-overload]


def _downgrade(url: str, revision: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        command.downgrade(alembic_config(), revision)
    finally:
        get_settings.cache_clear()


def test_upgrade_normalises_labels_keeps_the_sources_and_the_downgrade_restores_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with fresh_database_url(tmp_path) as url:
        migrate(url, "0018")
        engine = create_engine(url)
        with engine.begin() as conn:
            for seq, (rid, themes, predicted, groups) in enumerate(ROWS, start=1):
                conn.execute(
                    text(INSERT),
                    {
                        "id": rid,
                        "seq": seq,
                        "themes": json.dumps(themes),
                        "predicted": predicted,
                        "groups": json.dumps(groups),
                    },
                )
                for theme in themes:
                    conn.execute(text("INSERT INTO recommendation_theme VALUES (:r, :t)"), {"r": rid, "t": theme})
                for group in groups:
                    conn.execute(
                        text("INSERT INTO recommendation_affected_group VALUES (:r, :g)"), {"r": rid, "g": group}
                    )
        migrate(url, "0022")
        with engine.connect() as conn:
            rows = {
                r[0]: [_column(v) for v in r[1:]]
                for r in conn.execute(
                    text(
                        "SELECT id, themes, themes_source, affected_groups, affected_groups_source FROM recommendation"
                    )
                )
            }
            index = sorted(conn.execute(text("SELECT recommendation_id, theme FROM recommendation_theme")).all())
            groups = sorted(
                conn.execute(text("SELECT recommendation_id, affected_group FROM recommendation_affected_group")).all()
            )
        assert rows["r1"] == [
            ["Budget & resources (for human rights implementation)", "Constitutional & legislative framework"],
            ROWS[0][1],
            ["Women", "Girls"],
            ["women", "Women & girls"],
        ]
        assert rows["r2"][0] == ["International instruments", "NHRI"]  # the tagger's classes keep their spelling
        assert rows["r3"][:2] == [["Torture and other CID treatment"], []]  # predicted: no source themes
        assert [(r, t) for r, t in index if r == "r1"] == [("r1", "A41"), ("r1", "A63")]
        assert [(r, t) for r, t in index if r == "r2"] == [("r2", "A12"), ("r2", "A45")]
        assert ("r3", "D25") in index
        assert groups == [("r1", "Girls"), ("r1", "Women"), ("r3", "Children")]

        _downgrade(url, "0018", monkeypatch)
        with engine.connect() as conn:
            themes = {r[0]: _column(r[1]) for r in conn.execute(text("SELECT id, themes FROM recommendation"))}
            index = sorted(conn.execute(text("SELECT recommendation_id, theme FROM recommendation_theme")).all())
        assert themes == {rid: t for rid, t, _, _ in ROWS}
        assert ("r1", "Budget &resources (for human rights implementation)") in index and ("r2", "NHRI") in index
        engine.dispose()
