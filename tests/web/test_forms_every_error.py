"""Every form shows all its mistakes after one submit, as the API's 422 lists them all (a test per form)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.factories import make_key
from tests.web.browserlike import form_fields, with_changes
from tests.web.conftest import csrf_from, sign_in
from tests.web.seed import Seed, rec, seed
from tests.web.test_need_form import JUSTICE, post


@pytest.fixture
def data(session: Session) -> Seed:
    s = seed(session)
    s.recs["j0"] = rec(session, text="Justice recommendation number 0.", themes=[JUSTICE])
    return s


def summary(html: str) -> list[str]:
    """The sentences of the error summary at the top of the form, each a link to its field."""
    found = re.search(r'id="error-summary".*?</ul>', html, re.DOTALL)
    assert found, "no error summary"
    return re.findall(r'<a href="#f-[a-z_]+">([^<]+)</a>', found.group(0))


def test_the_need_form_shows_every_mistake_at_once(web: TestClient, data: Seed) -> None:
    sign_in(web, data.keys["fra"][1])
    page = web.get("/needs/new").text
    # An unknown language, nothing ticked and a description of 10,001 characters: three mistakes, one submit.
    fields = with_changes(
        form_fields(page, "/needs/new"),
        set_={"other_languages": "Klingon", "description": "x" * 10_001},
        press=("action", "save"),
    )
    fields = [(k, v) for k, v in fields if k != "recommendation_ids"]
    response = post(web, "/needs/new", fields)
    assert response.status_code == 422
    errors = summary(response.text)
    assert "We do not know the language “Klingon”: write its English name, for example Swahili." in errors
    assert "Tick at least one recommendation the need is about." in errors
    assert "Shorten the description to 10,000 characters or fewer." in errors
    assert len(errors) == 3, errors  # and no mistake the person did not make (the title follows the ticks)


def test_the_need_form_names_a_refused_recommendation_with_the_other_mistakes(web: TestClient, data: Seed) -> None:
    sign_in(web, data.keys["fra"][1])
    page = web.get("/needs/new", params={"cite": data.recs["j0"].id}).text
    fields = with_changes(
        form_fields(page, "/needs/new"),
        set_={"title": "ab", "other_languages": "Klingon"},
        tick=[data.recs["noted"].id],
        press=("action", "save"),
    )
    errors = summary(post(web, "/needs/new", fields).text)
    assert "Give the need a title of at least 3 characters." in errors
    assert any(e.startswith("We do not know the language") for e in errors)
    assert any(re.match(r"Recommendation \S+ was noted by FRA; needs may cite", e) for e in errors), errors


def test_the_need_edit_form_shows_every_mistake_at_once(web: TestClient, data: Seed) -> None:
    sign_in(web, data.keys["fra"][1])
    page = web.get("/needs/new", params={"cite": data.recs["j0"].id}).text
    created = post(web, "/needs/new", with_changes(form_fields(page, "/needs/new"), press=("action", "save")))
    assert created.status_code == 303, created.text
    action = created.headers["location"] + "/edit"
    page = web.get(action).text
    fields = with_changes(
        form_fields(page, action),
        set_={"title": "ab", "other_languages": "Klingon", "description": "x" * 10_001},
        press=("action", "save"),
    )
    errors = summary(post(web, action, fields).text)
    assert len(errors) == 3 and "Shorten the description to 10,000 characters or fewer." in errors, errors


def _provider_form(web: TestClient, path: str) -> dict[str, object]:
    html = web.get(path).text
    version = re.search(r'name="version" value="(\d*)"', html)
    return {
        "csrf_token": csrf_from(html),
        "version": version.group(1) if version else "",
        "name": "Prison Reform Helpers International",
        "kind": "ngo",
        "description": "Training of prison staff and monitoring bodies on torture prevention.",
        "themes": ["D25"],
        "languages": ["en"],
        "website": "https://helpers.example",
    }


def test_the_provider_edit_form_shows_every_mistake_at_once(web: TestClient, data: Seed) -> None:
    provider_id = data.providers["ngo"].id
    sign_in(web, data.keys["ngo"][1])
    path = f"/providers/{provider_id}/edit"
    fields = {
        **_provider_form(web, path),
        "other_languages": "Klingon",  # read from the form
        "countries": "Atlantis",  # read from the form
        "website": "http://insecure.example",  # the model's rule
        "description": "short",  # the model's rule
    }
    response = web.post(path, data=fields)  # type: ignore[arg-type]
    assert response.status_code == 422
    errors = summary(response.text)
    assert any("Klingon" in e for e in errors) and any("Atlantis" in e for e in errors), errors
    assert any("https" in e for e in errors), errors
    assert "Describe your expertise in at least 20 characters: the matching reads it." in errors
    assert len(errors) == 4, errors


def test_the_provider_registration_form_shows_every_mistake_at_once(
    web: TestClient, data: Seed, session: Session
) -> None:
    _, raw = make_key(session, role="provider", name="New agency key")
    sign_in(web, raw)
    fields = {**_provider_form(web, "/providers/new"), "kind": "", "name": "", "other_languages": "Klingon"}
    response = web.post("/providers/new", data=fields)  # type: ignore[arg-type]
    assert response.status_code == 422, response.text
    errors = summary(response.text)
    assert "Choose the kind of organisation from the list." in errors
    assert any("Klingon" in e for e in errors) and any("name" in e.lower() for e in errors), errors
    assert len(errors) == 3, errors  # the kind once, not once read and once from the model


def test_the_activity_form_shows_every_mistake_at_once(web: TestClient, data: Seed) -> None:
    sign_in(web, data.keys["fra"][1])
    page = web.get("/activities/new?state=FRA").text
    fields = {
        "csrf_token": csrf_from(page),
        "state": "FRA",
        "status": "ongoing",
        "title": "ab",
        "start_date": "10/05/2025",
    }
    response = web.post("/activities/new", data=fields)
    assert response.status_code == 422
    errors = summary(response.text)
    assert "Choose the organisation that carries out the activity." in errors
    assert "Give the activity a title of at least 3 characters." in errors
    assert "Write the start date as year-month-day, for example 2025-03-31." in errors


def test_the_organisation_registration_request_shows_every_mistake_at_once(web: TestClient) -> None:
    page = web.get("/register")
    assert page.status_code == 200
    fields = {
        "csrf_token": csrf_from(page.text),
        "organisation": " ",
        "kind": "spaceship",
        "contact_name": "",
        "contact_email": "not an address",
        "website": "ftp://example.org",
        "message": "We train judges.",
    }
    response = web.post("/register", data=fields)
    assert response.status_code == 422, response.text
    errors = summary(response.text)
    assert set(errors) == {
        "Give your organisation's name.",
        "Choose the kind of organisation from the list.",
        "Give your name.",
        "Give an e-mail address, for example name@example.org.",
        "Give the website as an https:// address, or leave it empty.",
    }, errors


def test_the_key_form_of_an_administrator_shows_every_mistake_at_once(web: TestClient, session: Session) -> None:
    _, admin = make_key(session, role="admin", name="Administrator")
    sign_in(web, admin)
    page = web.get("/admin/keys")
    response = web.post("/admin/keys", data={"csrf_token": csrf_from(page.text), "role": "state", "name": ""})
    assert response.status_code == 422, response.text
    errors = summary(response.text)
    assert len(errors) == 2, errors  # no name, and a State key without its State
