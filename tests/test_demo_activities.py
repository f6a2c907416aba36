"""The demo's cooperation activities: real, public examples, each naming its source, loaded once."""

from __future__ import annotations

import json
from pathlib import Path

import pycountry
import pytest
from sqlmodel import Session, select

from app.demo.loader import ACTIVITIES_FILE, PROVIDERS_FILE, DemoSummary, load_activities, load_providers
from app.models.activity import Activity, ActivityRecommendation
from app.reference.vocab import ACTIVITY_STATUSES, MODALITIES

ENTRIES = json.loads(ACTIVITIES_FILE.read_text(encoding="utf-8"))
SLUGS = {p["slug"] for p in json.loads(PROVIDERS_FILE.read_text(encoding="utf-8"))}


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["title"][:40] for e in ENTRIES])
def test_each_example_is_complete_and_names_its_source(entry: dict) -> None:  # type: ignore[type-arg]
    assert entry["provider_slug"] in SLUGS
    assert pycountry.countries.get(alpha_3=entry["state"]) is not None
    assert entry["modality"] in MODALITIES and entry["status"] in ACTIVITY_STATUSES
    assert entry["status"] != "planned"  # public examples are under way or done
    source = entry["source"]
    assert source["publisher"].strip() and source["title"].strip()
    assert source["url"] is None or source["url"].startswith("https://")
    # No source names the recommendations it answers, so none is linked.
    assert entry["recommendation_ids"] == []
    assert 80 <= len(entry["description"]) <= 1000


def test_loading_twice_records_each_example_once(session: Session, tmp_path: Path) -> None:
    summary = DemoSummary()
    load_providers(session, summary)
    load_activities(session, summary)
    assert summary.activities_created == len(ENTRIES) and not summary.notes
    again = DemoSummary()
    load_activities(session, again)
    assert again.activities_created == 0 and again.activities_existing == len(ENTRIES)
    rows = session.exec(select(Activity)).all()
    assert len(rows) == len(ENTRIES)
    for row in rows:
        assert row.is_demo
        assert "\n\nSource: " in row.description
    assert session.exec(select(ActivityRecommendation)).first() is None
