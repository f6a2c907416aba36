"""The search page's filters (several values, a State by name), its export links, and the coverage notices."""

from __future__ import annotations

import html
import json
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.factories import auth, make_key


def uhri(n: int, country: str, session: str, **overrides: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "AnnotationId": f"bbbbbbbb-0000-4000-8000-{n:012d}",
        "Body": "- UPR",
        "AnnotationType": "- Recommendations",
        "Countries": [country],
        "UprSession": [session],
        "UprPositions": ["Supported"],
        "UprRecommendingCountry": ["Norway"],
        "Text": f"{n}.1 Recommendation {n} on the rights of women (Norway);",
        "Themes": ["Women's rights"],
        "AffectedPersons": ["Women & girls"] if n % 2 else ["Children"],
        "Sdgs": ["5 - Gender equality"],
        "Symbol": "A/HRC/55/9",
        "PublicationDate": "2024-03-12T00:00:00",
    }
    record.update(overrides)
    return record


@pytest.fixture
def loaded(web: TestClient, session: Session) -> TestClient:
    _row, key = make_key(session, role="admin")
    session.commit()
    records = [uhri(1, "Mexico", "45"), uhri(2, "Guatemala", "42"), uhri(3, "Peru", "42"), uhri(4, "Mexico", "31")]
    r = web.post(
        "/v1/recommendations/import",
        content=json.dumps(records).encode(),
        headers={**auth(key), "Content-Type": "application/json"},
    )
    assert r.status_code == 201, r.text
    return web


def results(page: str) -> int:
    found = re.search(r'id="results-heading">(\d+) recommendation', page)
    assert found, "no results heading"
    return int(found.group(1))


def test_states_are_chosen_by_name_and_several_values_combine(loaded: TestClient) -> None:
    page = loaded.get("/recommendations").text
    states = re.search(r'<fieldset class="checklist" id="f-state".*?</fieldset>', page, re.S).group(0)  # type: ignore[union-attr]
    options = re.findall(r'name="state" value="([A-Z]{3})"><label for="f-state-\d+">([^<]+)</label>', states)
    assert re.findall(r'<option value="([A-Z]{3})" label="([^"]+)">', states) == options  # the box suggests them
    assert options == [("GTM", "Guatemala"), ("MEX", "Mexico"), ("PER", "Peru")]  # by name, in name order
    assert results(loaded.get("/recommendations?state=MEX&state=PER").text) == 3
    page = loaded.get("/recommendations?state=MEX&state=PER&affected_group=Children").text
    assert results(page) == 1
    assert re.search(r'name="state" value="MEX" checked><label for="f-state-\d+">Mexico</label>', page)
    assert re.search(r'id="f-cycle-4" name="cycle" value="4"', page)


def test_filters_in_force_can_be_removed_one_by_one(loaded: TestClient) -> None:
    page = loaded.get("/recommendations?state=MEX&state=PER&sdg=5").text
    links = dict(re.findall(r'<li class="tag">([^<]+) <a href="([^"]+)"', page))
    assert html.unescape(links["State under review: Peru"]) == "/recommendations?state=MEX&sdg=5"
    assert html.unescape(links["SDG: SDG 5: Gender equality"]) == "/recommendations?state=MEX&state=PER"


def test_facet_links_add_a_value(loaded: TestClient) -> None:
    page = loaded.get("/recommendations?state=MEX").text
    assert 'href="/recommendations?state=MEX&amp;state=GTM"' not in page  # GTM is not among Mexico's results
    assert 'href="/recommendations?state=MEX&amp;affected_group=Children"' in page


def test_export_buttons_carry_the_search(loaded: TestClient) -> None:
    page = loaded.get("/recommendations?state=MEX&cycle=4&offset=0").text
    xlsx = html.unescape(re.search(r'href="([^"]+format=xlsx)"', page).group(1))  # type: ignore[union-attr]
    assert xlsx == "/v1/recommendations/export?state=MEX&cycle=4&format=xlsx"
    assert loaded.get(xlsx).status_code == 200
    csv_link = html.unescape(re.search(r'href="([^"]+format=csv)"', page).group(1))  # type: ignore[union-attr]
    exported = loaded.get(csv_link).text.splitlines()
    assert len(exported) == 1 + 1  # the header and Mexico's cycle-4 recommendation (session 45)


def test_the_search_page_says_what_the_data_covers(loaded: TestClient) -> None:
    page = loaded.get("/recommendations").text
    assert "What the data covers" in page
    assert "3 States under review, sessions 31, 42 and 45 (2018-2024), from 1 source" in page
    assert "OHCHR Universal Human Rights Index" in page


def test_a_state_without_recommendations_says_why(loaded: TestClient) -> None:
    page = loaded.get("/states/USA").text
    assert "Not in the data loaded: no recommendation to United States is recorded." in page
    assert "sessions 31, 42 and 45 (2018-2024)" in page
    assert "0</strong> recommendations received" not in page


def test_a_state_page_gives_the_period_and_sources_of_its_data(loaded: TestClient) -> None:
    page = loaded.get("/states/MEX").text
    assert "2 recommendations to Mexico in the data: sessions 31 and 45 (2018-2024)" in page
    assert "from OHCHR Universal Human Rights Index" in page


def test_a_filter_in_force_still_offers_its_other_values(loaded: TestClient) -> None:
    page = loaded.get("/recommendations?state=MEX&affected_group=Children").text
    assert results(page) == 1
    groups = re.search(r'<fieldset class="checklist" id="f-group".*?</fieldset>', page, re.S).group(0)  # type: ignore[union-attr]
    offered = dict(re.findall(r'name="affected_group" value="([^"]+)"( checked)?>', groups))
    # Mexico's other recommendation is about women and girls (two groups of the list): offered, to see both at once.
    assert offered == {"Children": " checked", "Girls": "", "Women": ""}


def test_the_page_offers_what_the_data_has_and_orders_by_review(loaded: TestClient) -> None:
    page = loaded.get("/recommendations").text
    cycles = re.findall(r'id="f-cycle-(\d+)" name="cycle"', page)
    # Each session with its year, so a reader need not know the calendar.
    sessions = re.findall(
        r'name="session" value="(\d+)"><label for="f-session-\d+">Session \d+ \((?:2018|2022|2023|2024)\)</label>', page
    )
    assert cycles == ["3", "4"] and sessions == ["31", "42", "45"]  # only what the data holds
    # Several States are ticked (no Ctrl-click), or found by typing in the box above the list.
    assert '<fieldset class="checklist" id="f-recommending"' in page and "multiple" not in page
    assert re.search(
        r'<input type="text" id="f-recommending-find" name="recommending_state" list="f-recommending-values"', page
    )
    assert 'name="action_category" value="5"' in page and "A specific action" in page
    newest_page = loaded.get("/recommendations?sort=newest").text
    assert re.findall(r"session (\d+)", loaded.get("/recommendations").text) == ["31", "42", "42", "45"]
    assert re.findall(r"session (\d+)", newest_page) == ["45", "42", "42", "31"]
    assert '<option value="newest" selected>Newest review first</option>' in newest_page
    # Links that change the search keep the order.
    assert 'href="/recommendations?state=MEX&amp;sort=newest"' in newest_page
