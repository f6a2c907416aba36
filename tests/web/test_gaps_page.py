"""The `/gaps` dashboard: the analytics' numbers as SVG charts with their text and tables, for the slice chosen."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlmodel import Session

from app.services.analytics import cache
from tests.analytics.fixture import build


def _svg(page: str, chart_id: str) -> str:
    found = re.search(rf'<svg role="img" aria-labelledby="{chart_id}-title".*?</svg>', page, re.DOTALL)
    assert found, f"no chart {chart_id}"
    return found.group(0)


def test_dashboard_shows_every_measure_with_charts_and_tables(web: TestClient, session: Session) -> None:
    cache.clear()
    build(session)
    page = web.get("/gaps").text
    # The world, by State: MEX 4 (m1 requested, m2 under way, m3 done, m4 not started).
    assert "Mexico: not started 1, requested 1, under way 1, done 1 (total 4)." in _svg(page, "pipeline")
    assert "Of 7 supported recommendations, 3 are requested" in page
    assert "Latin American and Caribbean States" in page  # the regions table
    # Unserved: Torture (NA, weak match) and Right to health (NE, all declined).
    unserved = "Right to health - general: weak match only 0, all requests declined 1 (total 1)."
    assert unserved in _svg(page, "unserved")
    assert "Indigenous peoples: open needs 1, providers 0." in _svg(page, "supply")
    # Funding: SDG 16 = 120 required, 45 available, 75 gap.
    assert "SDG 16: Peace, justice and strong institutions: available USD 45, gap USD 75" in _svg(page, "funding")
    assert _svg(page, "pipeline-narrow")  # the phone drawing
    assert "<script" not in page


def test_dashboard_for_one_state_and_bad_filters(web: TestClient, session: Session) -> None:
    cache.clear()
    build(session)
    page = web.get("/gaps", params={"state": "MEX"}).text
    assert "Showing: <strong>State MEX</strong>" in page
    # By theme for one State: Torture = m1 requested, m2 under way.
    torture = "Prohibition of torture &amp; cruel, inhuman or degrading treatment"
    assert f"{torture}: not started 0, requested 1, under way 1, done 0 (total 2)." in _svg(page, "pipeline")
    bad = web.get("/gaps", params={"sdg": "18"})
    assert bad.status_code == 422 and "not an SDG number" in bad.text


def test_the_grouping_is_offered_in_words(web: TestClient, session: Session) -> None:
    cache.clear()
    build(session)
    page = web.get("/gaps", params={"by": "region"}).text
    assert '<option value="region" selected>UN regional group</option>' in page
    assert "Implementation pipeline by UN regional group" in page


def test_counts_are_written_with_thousands_separators() -> None:
    from types import SimpleNamespace

    from app.web.templating import environment

    assert environment.filters["count"](21959) == "21,959" and environment.filters["count"](7) == "7"
    row = SimpleNamespace(
        label="Torture", supported=21959, not_started=12000, requested=4959, under_way=3000, done=2000
    )
    table = environment.from_string('{% import "_gaps.html" as g %}{{ g.pipeline_table(p, "Theme", "c") }}').render(
        p=SimpleNamespace(items=[row], totals=row)
    )
    assert 'data-label="Supported">21,959<' in table and 'data-label="Not started">12,000<' in table
    assert "21959" not in table
