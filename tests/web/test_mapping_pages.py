"""The mapping pages: a pasted text mapped paragraph by paragraph, reviewed link by link, exported; another
visitor cannot see a private mapping."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.web.conftest import csrf_from, sign_in
from tests.web.seed import Seed, seed

pytestmark = pytest.mark.db


@pytest.fixture
def data(session: Session) -> Seed:
    return seed(session)


ASKS = "1. Ratify the Optional Protocol to the Convention against Torture.\n\n2. Adopt a law on violence against women."


def test_a_pasted_text_is_mapped_reviewed_and_exported(web: TestClient, data: Seed) -> None:
    sign_in(web, data.keys["fra"][1])
    page = web.get("/mappings")
    assert page.status_code == 200 and "Map a text to the recommendations" in page.text
    made = web.post(
        "/mappings",
        data={"csrf_token": csrf_from(page.text), "title": "Our asks", "state": "FRA", "text": ASKS},
        follow_redirects=False,
    )
    assert made.status_code == 303, made.text
    url = made.headers["location"]
    page = web.get(url).text
    assert "Our asks" in page and data.recs["opcat"].id in page and data.recs["women"].id in page
    version = re.search(r'name="version" value="(\d+)"', page)
    assert version is not None
    decided = web.post(
        f"{url}/decide",
        data={
            "csrf_token": csrf_from(page),
            "item": "1",
            "recommendation_id": data.recs["opcat"].id,
            "decision": "accepted",
            "version": version.group(1),
        },
        follow_redirects=False,
    )
    assert decided.status_code == 303
    assert "accepted" in web.get(url).text
    exported = web.get(f"{url}/export.csv")
    assert exported.content.startswith(b"\xef\xbb\xbf") and b"accepted" in exported.content
    sign_in(web, data.keys["deu"][1])
    assert web.get(url).status_code == 404


def test_a_text_without_paragraphs_says_why(web: TestClient, data: Seed) -> None:
    sign_in(web, data.keys["fra"][1])
    page = web.get("/mappings")
    got = web.post("/mappings", data={"csrf_token": csrf_from(page.text), "title": "", "state": "", "text": "Hi"})
    assert got.status_code == 422 and "has no paragraph of 4 words or more" in got.text
