"""Every list of themes and affected persons people see is the controlled vocabulary, one spelling per entry.

The data holds the variants the sources really use ("Women" and "women", "Budget &resources" and "Budget &
resources", "Constitutional and legislative framework" next to "Constitutional & legislative framework",
UPR Info issues beside UHRI themes); the theme filter and facets of the search page and the API, the
affected persons, the provider form, the provider directory and /gaps must each list one entry per
theme or group: no two labels differ only by case, "&"/"and", punctuation or spacing.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.factories import auth, make_key, make_provider
from tests.test_themes_vocab import assert_no_near_duplicates
from tests.web.conftest import sign_in

pytestmark = pytest.mark.db

VARIANT_THEMES = [
    ["Budget &resources (for human rights implementation)", "Constitutional & legislative framework"],
    ["Budget & resources (for human rights implementation)", "Constitutional and legislative framework"],
    ["Children: family environment & alternative care", "Equality & non-discrimination"],
    ["Children: family environment and alternative care", "equality & non-discrimination"],
]
VARIANT_GROUPS = [["Women", "children"], ["women", "Children"], ["Women & girls"], ["Judges, lawyers and prosecutors"]]


def _uhri(n: int) -> dict[str, Any]:
    return {
        "AnnotationId": f"bbbbbbbb-0000-4000-8000-{n:012d}",
        "AnnotationType": "- Recommendations",
        "Body": "- UPR",
        "Countries": ["Mexico"],
        "UprSession": ["45"],
        "UprPositions": ["Supported"],
        "UprRecommendingCountry": ["Norway"],
        "Text": f"{n}.1 Recommendation number {n} (Norway);",
        "Themes": VARIANT_THEMES[n % len(VARIANT_THEMES)],
        "Sdgs": [],
        "AffectedPersons": VARIANT_GROUPS[n % len(VARIANT_GROUPS)],
        "Symbol": "A/HRC/55/9",
    }


def _upr_info(n: int, themes: list[str]) -> str:
    record = {
        "id": f"uprinfo-c1-s6-MEX-{n:010d}",
        "source": "upr_info_via_terman",
        "cycle": 1,
        "session": 6,
        "state_under_review": "Mexico",
        "state_under_review_iso3": "MEX",
        "recommending_states": ["Norway"],
        "recommending_states_iso3": ["NOR"],
        "text": f"UPR Info recommendation {n}",
        "response": "supported",
        "themes": themes,
        "theme_scheme": "upr_info_issues",
    }
    return json.dumps(record)


@pytest.fixture
def loaded(web: TestClient, session: Session) -> TestClient:
    _row, key = make_key(session, role="admin")
    session.commit()
    headers = {**auth(key), "Content-Type": "application/json"}
    uhri = json.dumps([_uhri(n) for n in range(8)]).encode()
    assert web.post("/v1/recommendations/import", content=uhri, headers=headers).status_code == 201
    lines = [
        _upr_info(1, ["Constitutional and legislative framework", "NHRI"]),
        _upr_info(2, ["Torture and other CID treatment", "International instruments"]),
    ]
    jsonl = ("\n".join(lines) + "\n").encode()
    response = web.post(
        "/v1/recommendations/import", content=jsonl, headers={**auth(key), "Content-Type": "application/x-ndjson"}
    )
    assert response.status_code == 201, response.text
    make_provider(
        session,
        themes=["Torture and other CID treatment", "Prohibition of torture & cruel, inhuman or degrading treatment"],
    )
    make_provider(session, themes=["NHRI", "National Human Rights Institution (NHRI)", "nhri"])
    session.commit()
    return web


def _labels(page: str, fieldset: str) -> list[str]:
    found = re.search(rf'<fieldset class="checklist" id="{fieldset}".*?</fieldset>', page, re.S)
    assert found, f"no {fieldset} list"
    labels = re.findall(r'<label for="' + fieldset + r'-\d+">([^<]*)</label>', found.group(0))
    return [re.sub(r" \([\d,]+\)$", "", html.unescape(label)) for label in labels]


def _options(page: str, select: str) -> list[str]:
    found = re.search(rf'<select id="{select}".*?</select>', page, re.S)
    assert found, f"no {select} list"
    options = re.findall(r'<option value="[^"]+"[^>]*>([^<]*)</option>', found.group(0))
    return [re.sub(r" \([\d,]+\)$", "", html.unescape(option)) for option in options]


def test_facets_of_the_api_list_each_controlled_entry_once(loaded: TestClient) -> None:
    facets = loaded.get("/v1/recommendations/facets").json()
    themes = [f["label"] for f in facets["themes"]]
    assert_no_near_duplicates(themes, "theme facet")
    # Four spellings of two UHRI themes and the UPR Info issue "Constitutional and legislative framework": A41, A63.
    counts = {f["value"]: f["count"] for f in facets["themes"]}
    assert counts["A41"] == 5 and counts["A63"] == 4
    groups = [f["value"] for f in facets["affected_groups"]]
    assert_no_near_duplicates(groups, "affected persons facet")
    assert set(groups) == {"Women", "Children", "Girls", "Judges, lawyers & prosecutors"}


def test_the_search_page_offers_each_controlled_entry_once(loaded: TestClient) -> None:
    page = loaded.get("/recommendations").text
    themes = _labels(page, "f-theme")
    assert_no_near_duplicates(themes, "theme filter")
    assert "Constitutional & legislative framework" in themes and "National Human Rights Institution (NHRI)" in themes
    groups = _labels(page, "f-group")
    assert_no_near_duplicates(groups, "affected persons filter")
    assert sorted(groups) == ["Children", "Girls", "Judges, lawyers & prosecutors", "Women"]
    # An old label in the query ticks its controlled theme, and finds the records of every spelling.
    found = loaded.get("/recommendations", params={"theme": "Constitutional and legislative framework"}).text
    assert re.search(r'name="theme" value="A41" checked', found) and "5 recommendations<" in found


def test_the_provider_form_directory_and_gaps_offer_each_controlled_theme_once(
    loaded: TestClient, session: Session
) -> None:
    _row, key = make_key(session, role="provider", name="Rights Lab")
    session.commit()
    sign_in(loaded, key)
    form = loaded.get("/providers/new").text
    offered = _labels(form, "f-themes")
    assert_no_near_duplicates(offered, "provider form")
    assert len(offered) == 98
    suggested = [html.unescape(v) for v in re.findall(r'<datalist id="f-themes-labels">(.*?)</datalist>', form, re.S)]
    assert_no_near_duplicates(re.findall(r'<option value="([^"]*)">', suggested[0]), "provider form search box")
    directory = _options(loaded.get("/providers").text, "p-theme")
    assert_no_near_duplicates(directory, "provider directory")
    assert "Prohibition of torture & cruel, inhuman or degrading treatment" in directory
    assert "National Human Rights Institution (NHRI)" in directory
    gaps = _options(loaded.get("/gaps").text, "g-theme")
    assert_no_near_duplicates(gaps, "/gaps theme filter")
    assert len(gaps) == 98
