"""Migration 0017: every activity written before it keeps its current content as version 1."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, insert, inspect
from sqlmodel import Session, SQLModel

from app.models.activity import Activity, ActivityRecommendation
from app.models.common import table_of
from app.models.provider import Provider
from app.models.recommendation import Recommendation
from tests.db.test_migration_0008 import _alembic
from tests.dbutil import fresh_database_url
from tests.factories import make_provider

pytestmark = pytest.mark.db


def _insert_present(session: Session, row: SQLModel) -> None:
    """Insert `row` with only the columns its table has at this revision (later ones left out)."""
    table = table_of(type(row))
    present = {c["name"] for c in inspect(session.get_bind()).get_columns(table.name)}
    session.execute(insert(table).values({c.name: getattr(row, c.name) for c in table.columns if c.name in present}))


def _legacy_recommendation(session: Session) -> Recommendation:
    """A recommendation stored as the database had it at this revision."""
    values = Recommendation(
        id=f"legacy-{uuid.uuid4().hex[:12]}",
        source="test",
        cycle=2,
        session=15,
        state_under_review="FRA",
        text="Ratify the Optional Protocol to the Convention against Torture.",
        response="supported",
        content_hash="0" * 64,
    )
    _insert_present(session, values)
    session.commit()
    return values


def _legacy_activity(
    session: Session, provider: Provider, recommendations: list[Recommendation] | None = None, **overrides: Any
) -> Activity:
    """An activity (with its recommendations) stored as the database had it at this revision."""
    values: dict[str, Any] = {
        "provider_id": provider.id,
        "state": "FRA",
        "title": "Workshop",
        "description": "Two-day workshop.",
        "modality": "training",
        "status": "ongoing",
        "confirmation": "confirmed",
    }
    row = Activity(**(values | overrides))
    _insert_present(session, row)
    for position, rec in enumerate(recommendations or []):
        link = ActivityRecommendation(activity_id=row.id, recommendation_id=rec.id, position=position)
        _insert_present(session, link)
    session.commit()
    return row


def test_existing_activities_get_their_content_as_version_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with fresh_database_url(tmp_path) as url:
        _alembic(monkeypatch, url, "upgrade", "0016")
        engine = create_engine(url)
        with Session(engine) as session:
            provider = make_provider(session)
            recs = [_legacy_recommendation(session), _legacy_recommendation(session)]
            legacy = _legacy_activity(session, provider, recs[::-1], title="Legacy workshop", confirmation="confirmed")
            claim = _legacy_activity(
                session,
                provider,
                title="Claimed visit",
                confirmation="unconfirmed",
                recorded_by_role="state",
                recorded_by_key_id="k1",
                start_date=None,
            )
            ids = (legacy.id, claim.id, [r.id for r in recs[::-1]])
        engine.dispose()

        _alembic(monkeypatch, url, "upgrade", "0017")
        engine = create_engine(url)
        with engine.connect() as conn:
            rows = {
                r.activity_id: r
                for r in conn.exec_driver_sql(
                    "SELECT activity_id, number, origin, content, changed, recorded_by_role, recorded_by_key_id,"
                    " accepted_by_role FROM activity_version"
                )
            }
        assert set(rows) == {ids[0], ids[1]}
        legacy_row, claim_row = rows[ids[0]], rows[ids[1]]
        assert (legacy_row.number, legacy_row.origin) == (1, "recorded")
        content = legacy_row.content if isinstance(legacy_row.content, dict) else json.loads(legacy_row.content)
        assert content["title"] == "Legacy workshop" and content["recommendation_ids"] == ids[2]
        assert content["modality"] == "training" and content["need_id"] is None
        assert (claim_row.recorded_by_role, claim_row.recorded_by_key_id, claim_row.accepted_by_role) == (
            "state",
            "k1",
            None,
        )
        engine.dispose()

        _alembic(monkeypatch, url, "downgrade", "0016")
        engine = create_engine(url)
        assert not {"activity_version", "activity_proposal"} & set(inspect(engine).get_table_names())
        engine.dispose()
