"""Migration 0009 on a database that already holds recommendations: new fields default, groups backfilled."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import migrate
from tests.dbutil import fresh_database_url

pytestmark = pytest.mark.db

INSERT = (
    "INSERT INTO recommendation (id, seq, source, cycle, session, state_under_review, state_under_review_name, "
    "recommending_states, recommending_state_names, text, response, themes, themes_predicted, sdgs, "
    "affected_groups, content_hash, provisional, created_at, updated_at) VALUES ('r1', 1, 'test', 2, 20, 'SVN', "
    "'Slovenia', '[]', '[]', 'Protect the rights of the Roma', 'supported', '[]', false, '[]', "
    "'[\"Roma\", \"Children\"]', 'x', false, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
)


def test_upgrading_a_loaded_database_backfills_affected_groups(tmp_path: Path) -> None:
    with fresh_database_url(tmp_path) as url:
        migrate(url, "0006")
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text(INSERT))
        migrate(url, "head")
        with engine.connect() as conn:
            groups = conn.execute(
                text("SELECT affected_group FROM recommendation_affected_group ORDER BY affected_group")
            ).scalars()
            assert list(groups) == ["Children", "Roma"]
            row = conn.execute(text("SELECT sdg_targets, canonical_id, publication_date FROM recommendation")).one()
            assert row[0] in ("[]", []) and row[1] is None and row[2] is None
        engine.dispose()
