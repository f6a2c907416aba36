"""Plain words on the pages: unknown country codes, where a recommendation sits, sessions with their years."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.web.seed import Seed, rec, seed


@pytest.fixture
def data(session: Session) -> Seed:
    return seed(session)


UNKNOWN = ["/gaps?state=ZZZ", "/recommendations?state=ZZZ", "/states/ZZZ", "/needs?state=ZZZ", "/activities?state=ZZZ"]


@pytest.mark.parametrize("path", UNKNOWN)
def test_an_unknown_country_code_is_said_plainly_with_the_list_offered(web: TestClient, data: Seed, path: str) -> None:
    page = web.get(path).text
    assert "know a country with the code ZZZ." in page.replace("&#39;", "'")
    assert "We don't know a country with the code ZZZ." in page.replace("&#39;", "'")
    assert '<a href="/states">See the list of every State</a>' in page
    assert "ISO3" not in page and "alpha-3" not in page  # no jargon in the words a reader sees
    french = web.get(path, headers={"Accept-Language": "fr"}).text
    assert "Nous ne connaissons aucun pays ayant le code ZZZ." in french


def test_the_breadcrumb_names_the_state_and_the_session_with_its_year(web: TestClient, session: Session) -> None:
    row = rec(session, state_under_review="MEX", text="Ratify the optional protocol.")  # session 15, in 2013
    page = web.get(f"/recommendations/{row.id}").text
    crumb = re.search(r'<nav class="meta breadcrumb".*?</nav>', page, re.S)
    assert crumb, "no breadcrumb"
    assert row.id not in crumb.group(0)  # not the raw id
    assert "Mexico" in crumb.group(0) and "Session 15 (2013)" in crumb.group(0)
    # The list's session filter says the year too.
    listing = web.get("/recommendations").text
    assert re.search(r'name="session" value="15"><label for="f-session-\d+">Session 15 \(2013\)</label>', listing)
    assert '<option value="15" label="Session 15 (2013)">' in listing  # the type-to-find box suggests it so too
