"""The front page, the States and needs lists, agency registration and the provider directory."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.core.config import get_settings
from app.models.api_key import ApiKey
from app.models.provider import Provider
from tests.factories import make_activity, make_key, make_need, make_provider
from tests.web.browserlike import form_fields, with_changes
from tests.web.conftest import sign_in
from tests.web.seed import Seed, rec, seed


@pytest.fixture
def data(session: Session) -> Seed:
    return seed(session)


def post(web: TestClient, action: str, fields: list[tuple[str, str]]):  # type: ignore[no-untyped-def]
    grouped: dict[str, list[str]] = {}
    for k, v in fields:
        grouped.setdefault(k, []).append(v)
    return web.post(action, data=grouped)


# --- front page ------------------------------------------------------------------------


def test_front_page_says_what_a_need_is_how_to_get_a_key_and_what_the_data_covers(web: TestClient, data: Seed) -> None:
    page = web.get("/").text
    assert "What is a need?" in page and "How do I get a key?" in page
    assert "Keys are issued by the administrator of this repository" in page
    assert "5 recommendations to 2 States" in page
    assert re.search(r"<th scope=\"row\">Cycle 2</th><td class=\"num\">\d+</td><td class=\"num\">2 of 193</td>", page)
    assert "Where to start" not in page


def test_front_page_names_the_contact_for_keys(web: TestClient, data: Seed, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTACT_EMAIL", "keys@upr.example")
    get_settings.cache_clear()
    try:
        page = web.get("/").text
    finally:
        get_settings.cache_clear()
    assert '<a href="mailto:keys@upr.example">keys@upr.example</a>' in page


def test_front_page_leads_each_visitor_to_their_work(web: TestClient, data: Seed, session: Session) -> None:
    sign_in(web, data.keys["fra"][1])
    page = web.get("/").text
    assert 'href="/states/FRA">France: recommendations and coverage' in page and 'href="/needs?state=FRA"' in page
    sign_in(web, data.keys["ngo"][1])
    page = web.get("/").text
    assert f'href="/providers/{data.providers["ngo"].id}">Your profile and the needs you could serve' in page
    session.rollback()  # a fresh snapshot: signing in wrote its session row since this session last read
    _, unbound = make_key(session, role="provider", name="Rights Lab")
    sign_in(web, unbound)
    page = web.get("/").text
    assert 'href="/providers/new">Create your profile' in page


# --- States and needs ------------------------------------------------------------------


def test_states_list_by_name_with_counts(web: TestClient, data: Seed, session: Session) -> None:
    make_need(session, recommendations=[data.recs["women"]], title="Hidden", visibility="state_only")
    page = web.get("/states").text
    assert page.index(">France</a>") < page.index(">Germany</a>")  # by name
    row = re.search(r'<a href="/states/FRA">France</a></th>(.*?)</tr>', page, re.DOTALL)
    assert row
    cells = [re.sub(r"<[^>]+>", "", c) for c in re.findall(r'<td class="num"[^>]*>(.*?)</td>', row.group(1))]
    assert cells == ["4", "3", "1", "1"]  # recommendations, supported, needs visible (not the hidden one), activities
    sign_in(web, data.keys["fra"][1])  # France sees its own hidden need
    row = re.search(r'<a href="/states/FRA">France</a></th>(.*?)</tr>', web.get("/states").text, re.DOTALL)
    assert row
    cells = [re.sub(r"<[^>]+>", "", c) for c in re.findall(r'<td class="num"[^>]*>(.*?)</td>', row.group(1))]
    assert cells[2] == "2"
    found = web.get("/states", params={"q": "germ"}).text
    assert ">Germany</a>" in found and ">France</a>" not in found and "1 State<" in found


def test_needs_list_filters_by_state_theme_and_status_and_shows_only_what_the_caller_may_see(
    web: TestClient, data: Seed, session: Session
) -> None:
    make_need(session, recommendations=[data.recs["women"]], title="Quiet need", visibility="state_only")
    make_need(
        session,
        recommendations=[data.recs["germany"]],
        title="German need",
        state="DEU",
        status="closed",
        themes=["NHRI"],
    )
    page = web.get("/needs").text
    assert "Train prison staff" in page and "German need" in page and "Quiet need" not in page
    assert '<option value="closed">Closed (1)</option>' in page
    assert "German need" not in web.get("/needs", params={"state": "FRA"}).text
    assert "Train prison staff" not in web.get("/needs", params={"status": "closed"}).text
    themed = web.get("/needs", params={"theme": "torture and other cid treatment"}).text
    assert "Train prison staff" in themed and "German need" not in themed
    assert '<option value="DEU">Germany</option>' in page  # States by name
    sign_in(web, data.keys["fra"][1])
    assert "Quiet need" in web.get("/needs").text


# --- registration ----------------------------------------------------------------------


def test_an_agency_registers_its_profile(web: TestClient, data: Seed, session: Session) -> None:
    key_row, key = make_key(session, role="provider", name="Rights Lab")
    sign_in(web, key)
    form = web.get("/providers/new")
    assert form.status_code == 200 and "Create your organisation’s profile" in form.text
    assert 'value="Rights Lab"' in form.text  # the key's name as a start
    assert "International organisation outside the UN" in form.text
    fields = with_changes(
        form_fields(form.text, "/providers/new"),
        set_={
            "kind": "academic",
            "description": "University team that trains judges and police investigators on investigating torture.",
            "themes": "D25",
            "countries": "Mexico, Guatemala",
            "other_languages": "Portuguese",
            "website": "https://rights-lab.example.org",
        },
    )
    fields += [("regions", "latin_america_caribbean"), ("languages", "es"), ("modalities", "training")]
    response = post(web, "/providers/new", fields)
    assert response.status_code == 303, response.text
    provider_id = response.headers["location"].rsplit("/", 1)[1]
    session.rollback()
    row = session.get(Provider, provider_id)
    assert row is not None and row.name == "Rights Lab" and row.kind == "academic"
    assert row.countries == ["MEX", "GTM"] and row.languages == ["es", "pt"] and row.modalities == ["training"]
    bound = session.get(ApiKey, key_row.id)
    assert bound is not None
    session.refresh(bound)
    assert bound.provider_id == provider_id
    page = web.get(f"/providers/{provider_id}").text
    assert "Edit this profile" in page and "Mexico, Guatemala" in page and "Spanish, Portuguese" in page
    assert web.get("/providers/new").status_code == 403  # one profile per key


def test_registration_mistakes_are_plain_sentences_on_their_fields(
    web: TestClient, data: Seed, session: Session
) -> None:
    _, key = make_key(session, role="provider", name="Rights Lab")
    sign_in(web, key)
    fields = with_changes(
        form_fields(web.get("/providers/new").text, "/providers/new"),
        set_={"description": "Too short", "website": "http://insecure.example", "countries": "Atlantis"},
    )
    response = post(web, "/providers/new", fields)
    assert response.status_code == 422
    html = response.text
    assert '<a href="#f-kind">Choose the kind of organisation from the list.</a>' in html
    assert '<a href="#f-countries">We do not know the country “Atlantis”: write its name.</a>' in html
    fields = with_changes(fields, set_={"kind": "ngo", "countries": ""})
    html = post(web, "/providers/new", fields).text
    assert "Describe your expertise in at least 20 characters" in html
    assert 'href="#f-description"' in html and 'aria-invalid="true"' in html
    assert 'value="http://insecure.example"' in html  # what was typed is kept
    session.rollback()
    assert session.exec(select(Provider).where(Provider.name == "Rights Lab")).first() is None


@pytest.mark.parametrize("who", ["fra", "ngo"])
def test_only_unbound_provider_keys_register(web: TestClient, data: Seed, who: str) -> None:
    sign_in(web, data.keys[who][1])
    assert web.get("/providers/new").status_code == 403


# --- provider directory ----------------------------------------------------------------


def test_directory_searches_expertise_offers_themes_and_shows_the_first_sentence(
    web: TestClient, data: Seed, session: Session
) -> None:
    make_provider(
        session,
        name="Quiet Helpers",
        description="We monitor places of detention and train inspectors. We also publish reports every year.",
        themes=["Detention conditions"],
        languages=["en"],
    )
    page = web.get("/providers", params={"q": "inspectors"}).text
    assert "Quiet Helpers" in page and "Prison Reform Helpers" not in page
    assert "We monitor places of detention and train inspectors." in page
    assert "We also publish reports" not in page
    assert '<option value="Detention conditions">Detention conditions (2)</option>' in page
    assert "Prison Reform Helpers" in web.get("/providers", params={"language": "fr"}).text
    assert "Quiet Helpers" not in web.get("/providers", params={"language": "fr"}).text


def test_activities_show_names_and_the_demo_label(web: TestClient, data: Seed, session: Session) -> None:
    other = rec(session, state_under_review="DEU", state_under_review_name="Germany", text="Germany rec.", themes=["X"])
    make_activity(
        session,
        data.providers["un"],
        recommendations=[other],
        title="Demo help",
        status="ongoing",
        is_demo=True,
        state="DEU",
    )
    page = web.get("/activities").text
    assert ">Germany</a>" in page and ">DEU</a>" not in page and '<span class="badge">Demo data</span>' in page
    assert '<option value="DEU">Germany</option>' in page
