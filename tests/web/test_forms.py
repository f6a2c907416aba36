"""The forms of signed-in visitors: a State files a need, a provider edits its profile; same rules as the API."""

from __future__ import annotations

import html
import re

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.models.need import Need, NeedRecommendation
from app.models.provider import Provider
from app.reference.themes import theme_codes
from tests.factories import make_key
from tests.web.conftest import csrf_from, fresh, sign_in
from tests.web.seed import Seed, seed


@pytest.fixture
def data(session: Session) -> Seed:
    return seed(session)


def _file(web: TestClient, **fields: object) -> object:
    token = csrf_from(web.get("/needs/new").text)
    return web.post("/needs/new", data={"csrf_token": token, **fields})  # type: ignore[arg-type]


# --- filing a need ---------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(web: TestClient, data: Seed) -> None:
    response = web.get("/needs/new?theme=x")
    assert response.status_code == 303
    assert response.headers["location"] == "/signin?next=/needs/new%3Ftheme%3Dx"


def test_a_state_files_a_need_from_its_supported_recommendations(web: TestClient, data: Seed, session: Session) -> None:
    sign_in(web, data.keys["fra"][1])
    form = web.get("/needs/new", params={"theme": "Torture and other CID treatment"})
    assert form.status_code == 200 and "<h1>File a need for France</h1>" in form.text
    assert data.recs["prisons"].id in form.text and data.recs["opcat"].id in form.text
    assert data.recs["noted"].id not in form.text and data.recs["germany"].id not in form.text
    response = web.post(
        "/needs/new",
        data={
            "csrf_token": csrf_from(form.text),
            "state": "FRA",
            "theme": "Torture and other CID treatment",
            "recommendation_ids": [data.recs["prisons"].id, data.recs["opcat"].id],
            "title": "Independent prison inspections",
            "description": "Help setting up a national preventive mechanism.",
            "priority": "high",
            "visibility": "public",
        },
    )
    assert response.status_code == 303, response.text
    need_id = response.headers["location"].rsplit("/", 1)[1]
    need = fresh(session).get(Need, need_id)
    assert need is not None and need.state == "FRA" and need.priority == "high"
    cited = session.exec(
        select(NeedRecommendation.recommendation_id).where(NeedRecommendation.need_id == need_id)
    ).all()
    assert set(cited) == {data.recs["prisons"].id, data.recs["opcat"].id}
    page = web.get(response.headers["location"])
    assert "<h1>Independent prison inspections</h1>" in page.text


def test_the_form_starts_from_the_drafted_need(web: TestClient, data: Seed) -> None:
    sign_in(web, data.keys["fra"][1])
    page = web.get("/needs/new").text  # no theme: the largest draft's theme is shown
    assert "Start again from a drafted need" in page and "Women&#39;s rights</a> (1)" in page
    # Nothing ticked: the State ticks what it means, or "Select all of the drafted need".
    assert not re.findall(r'name="recommendation_ids" value="([^"]+)" checked', page)
    assert 'name="draft"' in page and "Select all of the drafted need" in page


def test_a_need_without_recommendations_shows_the_form_again(web: TestClient, data: Seed) -> None:
    sign_in(web, data.keys["fra"][1])
    response = _file(web, state="FRA", title="Something", priority="medium", visibility="public")
    assert response.status_code == 422  # type: ignore[attr-defined]
    html = response.text  # type: ignore[attr-defined]
    assert 'role="alert"' in html and "The need was not filed" in html
    assert 'value="Something"' in html
    # A plain sentence, linked from the summary to its field, which names it with aria-describedby.
    assert '<a href="#f-recommendation_ids">Tick at least one recommendation the need is about.</a>' in html
    assert 'id="f-recommendation_ids" tabindex="-1" aria-describedby="f-recommendation_ids-error"' in html
    assert "List should have" not in html


def test_a_duplicate_need_is_explained(web: TestClient, data: Seed) -> None:
    sign_in(web, data.keys["fra"][1])
    fields = {"state": "FRA", "title": "Women law", "recommendation_ids": data.recs["women"].id}
    assert _file(web, **fields).status_code == 303  # type: ignore[attr-defined]
    again = _file(web, **fields)
    assert again.status_code == 422 and "already asks this" in again.text  # type: ignore[attr-defined]


def test_a_state_cannot_open_the_form_for_another_state(web: TestClient, data: Seed) -> None:
    sign_in(web, data.keys["deu"][1])
    response = web.get("/needs/new", params={"state": "FRA"})
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert "may not file needs for France" in response.text


def test_a_state_cannot_file_for_another_state(web: TestClient, data: Seed, session: Session) -> None:
    sign_in(web, data.keys["deu"][1])
    before = len(session.exec(select(Need)).all())
    response = _file(web, state="FRA", title="Sneaky need", recommendation_ids=data.recs["opcat"].id)
    assert response.status_code == 403  # type: ignore[attr-defined]
    assert "may not file needs for France" in response.text  # type: ignore[attr-defined]
    fresh(session)
    assert len(session.exec(select(Need)).all()) == before


def test_a_state_cannot_cite_another_states_recommendation(web: TestClient, data: Seed) -> None:
    sign_in(web, data.keys["deu"][1])
    response = _file(web, state="DEU", title="Borrowed", recommendation_ids=data.recs["opcat"].id)
    assert response.status_code == 422 and "addressed to FRA, not DEU" in response.text  # type: ignore[attr-defined]


def test_a_provider_may_not_file_needs(web: TestClient, data: Seed) -> None:
    sign_in(web, data.keys["ngo"][1])
    response = web.get("/needs/new")
    assert response.status_code == 403 and "Only State keys" in response.text


# --- editing a provider profile --------------------------------------------------------


def _profile_form(web: TestClient, provider_id: str) -> dict[str, object]:
    html = web.get(f"/providers/{provider_id}/edit").text
    return {
        "csrf_token": csrf_from(html),
        "version": html.split('name="version" value="', 1)[1].split('"', 1)[0],
        "name": "Prison Reform Helpers International",
        "kind": "ngo",
        "description": "Training of prison staff and monitoring bodies on torture prevention.",
        # Ticked codes of the controlled list, and a name typed in its search box.
        "themes": ["D25", "D26", "Justice"],
        "regions": ["western_europe_others", "africa"],
        "languages": ["en", "fr"],
        "other_languages": "Spanish",
        "modalities": ["training", "peer_exchange"],
        "website": "https://helpers.example",
        "contact_email": "desk@helpers.example",
    }


def test_a_provider_edits_its_profile(web: TestClient, data: Seed, session: Session) -> None:
    provider_id = data.providers["ngo"].id
    sign_in(web, data.keys["ngo"][1])
    assert "Edit this profile" in web.get(f"/providers/{provider_id}").text
    response = web.post(f"/providers/{provider_id}/edit", data=_profile_form(web, provider_id))  # type: ignore[arg-type]
    assert response.status_code == 303 and response.headers["location"] == f"/providers/{provider_id}"
    fresh(session)
    row = session.get(Provider, provider_id)
    assert row is not None and row.name == "Prison Reform Helpers International"
    assert (
        row.languages == ["en", "fr", "es"]
        and "Administration of justice & fair trial" in row.themes  # typed "Justice": its controlled theme
        and row.regions == ["western_europe_others", "africa"]
    )
    # The directory finds it by the code, the controlled label or UPR Info's name of the theme.
    for theme in ("D51", "Administration of justice & fair trial", "justice"):
        assert "Prison Reform Helpers International" in web.get("/providers", params={"theme": theme}).text


def test_a_bad_field_shows_the_profile_form_again(web: TestClient, data: Seed) -> None:
    provider_id = data.providers["ngo"].id
    sign_in(web, data.keys["ngo"][1])
    fields = {**_profile_form(web, provider_id), "website": "http://insecure.example", "description": "short"}
    response = web.post(f"/providers/{provider_id}/edit", data=fields)  # type: ignore[arg-type]
    assert response.status_code == 422
    assert "The profile was not saved" in response.text and "https" in response.text
    assert 'value="http://insecure.example"' in response.text


def test_a_stale_profile_form_is_refused_without_losing_the_newer_version(web: TestClient, data: Seed) -> None:
    provider_id = data.providers["ngo"].id
    sign_in(web, data.keys["ngo"][1])
    stale = _profile_form(web, provider_id)
    assert web.post(f"/providers/{provider_id}/edit", data=stale).status_code == 303  # type: ignore[arg-type]
    stale["csrf_token"] = csrf_from(web.get("/").text)
    again = web.post(f"/providers/{provider_id}/edit", data={**stale, "name": "Older edit"})  # type: ignore[arg-type]
    assert again.status_code == 409 and "changed this profile while you were editing" in again.text


@pytest.mark.parametrize("who", ["other_provider", "state"])
def test_others_may_not_edit_a_profile(web: TestClient, data: Seed, session: Session, who: str) -> None:
    provider_id = data.providers["ngo"].id
    key = (
        make_key(session, role="provider", provider_id=data.providers["un"].id)[1]
        if who == "other_provider"
        else data.keys["fra"][1]
    )
    sign_in(web, key)
    assert "Edit this profile" not in web.get(f"/providers/{provider_id}").text
    form = web.get(f"/providers/{provider_id}/edit")
    assert form.status_code == 403 and "only its own key may edit" in form.text
    token = csrf_from(web.get("/").text)
    response = web.post(f"/providers/{provider_id}/edit", data={"csrf_token": token, "name": "Hijacked"})
    assert response.status_code == 403
    fresh(session)
    assert session.get(Provider, provider_id).name == "Prison Reform Helpers"  # type: ignore[union-attr]


def test_the_profile_form_takes_themes_from_the_list_and_refuses_free_text(
    web: TestClient, data: Seed, session: Session
) -> None:
    provider_id = data.providers["ngo"].id
    before = session.get(Provider, provider_id)
    assert before is not None
    sign_in(web, data.keys["ngo"][1])
    page = web.get(f"/providers/{provider_id}/edit").text
    # The profile's labels are shown as their controlled themes, ticked (a label outside the list as itself).
    ticked = set(re.findall(r'name="themes" value="([^"]+)" checked', page))
    codes = {c for label in before.themes for c in theme_codes(label)}
    assert codes and ticked == codes | {label for label in before.themes if not theme_codes(label)}
    fields = {**_profile_form(web, provider_id), "themes": ["D25", "foo bar theme"]}
    response = web.post(f"/providers/{provider_id}/edit", data=fields)  # type: ignore[arg-type]
    assert response.status_code == 422
    assert "Themes: “foo bar theme” is not a theme of the list" in html.unescape(response.text)
    assert 'href="#f-themes"' in response.text  # the summary names the field and leads to it
    fresh(session)
    after = session.get(Provider, provider_id)
    assert after is not None and after.themes == before.themes  # nothing saved
    # Saved unchanged, the profile keeps exactly its labels (what the ranking reads).
    same = {**_profile_form(web, provider_id), "themes": sorted(ticked)}
    assert web.post(f"/providers/{provider_id}/edit", data=same).status_code == 303  # type: ignore[arg-type]
    fresh(session)
    kept = session.get(Provider, provider_id)
    assert kept is not None and kept.themes == before.themes
