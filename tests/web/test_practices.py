"""Share what worked: the good-practices pages, the Atom feeds and the public bulk download."""

from __future__ import annotations

import csv
import io
import json
from xml.etree import ElementTree as ET

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.factories import make_activity
from tests.web.seed import Seed, seed

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def data(session: Session) -> Seed:
    return seed(session)


def _listed(web: TestClient, query: str) -> bool:
    return "Workshop for prison directors" in web.get(f"/practices?{query}").text


def test_good_practices_are_listed_filtered_and_have_a_permanent_page(
    web: TestClient, data: Seed, session: Session
) -> None:
    practice = data.activities["workshop"]
    planned = make_activity(session, data.providers["ngo"], title="Planned visit", status="planned")
    ongoing = make_activity(session, data.providers["ngo"], title="Ongoing training", status="ongoing")
    page = web.get("/practices")
    assert page.status_code == 200 and "1 good practice" in page.text
    assert "Planned visit" not in page.text and "Ongoing training" not in page.text
    found = ("theme=D25", "state=FRA", "region=western_europe_others", "kind=ngo", "q=checklist+inspection")
    for query in (*found, "theme=D25&kind=ngo"):
        assert _listed(web, query), query
    for query in ("theme=A11", "state=DEU", "region=africa", "kind=un_entity", "q=zzzz", "sdg=14"):
        assert not _listed(web, query), query
    detail = web.get(f"/practices/{practice.id}")
    assert detail.status_code == 200
    assert "40 prison directors trained" in detail.text and f"/practices/{practice.id}" in detail.text
    assert "Recommendations it helped implement (1)" in detail.text
    assert web.get(f"/practices/{planned.id}").status_code == 404
    assert web.get(f"/practices/{ongoing.id}").status_code == 404


def test_the_atom_feeds_are_valid_and_public(web: TestClient, data: Seed, session: Session) -> None:
    hidden = make_activity(session, data.providers["ngo"], title="Claim not confirmed", confirmation="unconfirmed")
    response = web.get("/feeds/practices.atom")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/atom+xml")
    feed = ET.fromstring(response.content)
    assert feed.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated", "author"):
        assert feed.find(f"{ATOM}{required}") is not None, required
    entries = {e.findtext(f"{ATOM}title"): e for e in feed.findall(f"{ATOM}entry")}
    workshop = entries["Workshop for prison directors (France)"]
    assert workshop.find(f"{ATOM}category").get("term") == "good-practice"  # type: ignore[union-attr]
    assert workshop.find(f"{ATOM}link").get("href").endswith(f"/practices/{data.activities['workshop'].id}")  # type: ignore[union-attr]
    for entry in entries.values():
        assert entry.findtext(f"{ATOM}id", "").startswith("urn:uuid:") and entry.findtext(f"{ATOM}updated")
    assert not any(hidden.title in title for title in entries)
    needs = ET.fromstring(web.get("/feeds/needs.atom").content)
    titles = [e.findtext(f"{ATOM}title") for e in needs.findall(f"{ATOM}entry")]
    assert "Train prison staff on torture prevention (France)" in titles


def test_the_bulk_download_is_linked_from_every_page_and_carries_its_licence(web: TestClient, data: Seed) -> None:
    for path in ("/", "/practices", "/recommendations", "/register"):
        page = web.get(path).text
        assert 'href="/data"' in page and 'href="/feeds/practices.atom"' in page, path
    assert "CC BY 4.0" in web.get("/data").text
    activities = web.get("/data/activities.csv")
    assert activities.status_code == 200 and activities.content.startswith(b"\xef\xbb\xbf")
    assert 'filename="upr-activities-' in activities.headers["content-disposition"]
    assert 'rel="license"' in activities.headers["link"]
    rows = list(csv.DictReader(io.StringIO(activities.content.decode("utf-8-sig"))))
    assert [r["title"] for r in rows] == ["Workshop for prison directors"]
    document = web.get("/data/providers.json").json()
    assert document["licence"] == "CC BY 4.0" and document["generated_at"][:4].isdigit()
    assert {p["name"] for p in document["items"]} >= {"Prison Reform Helpers"}
    assert "contact_email" not in json.dumps(document)
    needs = web.get("/data/needs.json").json()
    assert [n["title"] for n in needs["items"]] == ["Train prison staff on torture prevention"]
    recommendations = web.get("/data/recommendations.csv").content.decode("utf-8-sig")
    assert "Ratify the Optional Protocol" in recommendations
    assert web.get("/data/secrets.csv").status_code == 404
