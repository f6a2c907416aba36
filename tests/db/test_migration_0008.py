"""Migration 0008: existing activities count as confirmed; going back keeps every activity and its links."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, text

from app.cli import alembic_config
from app.core.config import get_settings
from tests.dbutil import fresh_database_url

pytestmark = pytest.mark.db

NOW = "2026-06-01 10:00:00+00:00"


def _alembic(monkeypatch: pytest.MonkeyPatch, url: str, action: str, revision: str) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        getattr(command, action)(alembic_config(), revision)
    finally:
        get_settings.cache_clear()


def _seed_before_0008(url: str) -> None:
    """A provider, a recommendation and one activity working on it, as written before 0008."""
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO recommendation (id, source, cycle, session, state_under_review, state_under_review_name,"
                " text, response, provisional, recommending_states, recommending_state_names, themes,"
                " themes_predicted, sdgs, affected_groups, content_hash, created_at, updated_at)"
                " VALUES ('r1', 'test', 2, 15, 'FRA', 'France', 'Ratify OPCAT.', 'supported', false,"
                f" '[]', '[]', '[]', false, '[]', '[]', 'h', '{NOW}', '{NOW}')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO provider (id, name, kind, description, themes, sdgs, countries, regions, languages,"
                " modalities, is_demo, version, created_at, updated_at)"
                " VALUES ('p1', 'Provider', 'ngo', 'Training of prison staff.', '[]', '[]', '[]', '[]', '[]', '[]',"
                f" false, 1, '{NOW}', '{NOW}')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO activity (id, provider_id, state, title, description, modality, status, is_demo,"
                " version, created_at, updated_at)"
                f" VALUES ('a1', 'p1', 'FRA', 'Workshop', '', 'training', 'completed', false, 1, '{NOW}', '{NOW}')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO activity_recommendation (activity_id, recommendation_id, position) VALUES ('a1', 'r1', 0)"
            )
        )
    engine.dispose()


def test_existing_activities_are_confirmed_and_downgrade_loses_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with fresh_database_url(tmp_path) as url:
        _alembic(monkeypatch, url, "upgrade", "0006")
        _seed_before_0008(url)
        _alembic(monkeypatch, url, "upgrade", "0008")
        engine = create_engine(url)
        with engine.begin() as conn:
            row = conn.execute(
                text("SELECT confirmation, confirmed_at, recorded_by_role FROM activity WHERE id = 'a1'")
            ).one()
            assert row[0] == "confirmed" and row[1] is not None and row[2] is None
            # New rows written without a value are unconfirmed: the safe default.
            conn.execute(
                text(
                    "INSERT INTO activity (id, provider_id, state, title, description, modality, status, is_demo,"
                    " version, created_at, updated_at)"
                    f" VALUES ('a2', 'p1', 'FRA', 'Claim', '', 'training', 'completed', false, 1, '{NOW}', '{NOW}')"
                )
            )
            assert conn.execute(text("SELECT confirmation FROM activity WHERE id = 'a2'")).scalar() == "unconfirmed"
        engine.dispose()

        _alembic(monkeypatch, url, "downgrade", "0006")
        engine = create_engine(url)
        assert "audit_event" not in inspect(engine).get_table_names()
        assert "confirmation" not in {c["name"] for c in inspect(engine).get_columns("activity")}
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM activity")).scalar() == 2
            assert conn.execute(text("SELECT count(*) FROM activity_recommendation")).scalar() == 1
        engine.dispose()
