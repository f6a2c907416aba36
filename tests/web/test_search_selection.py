"""A State ticks search results across pages and searches, then files one need citing exactly those."""

from __future__ import annotations

import html
import re

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.models.need import NeedRecommendation
from app.models.web_session import WebSelection
from tests.factories import make_key
from tests.web.conftest import csrf_from, fresh, sign_in
from tests.web.seed import Seed, rec, seed


@pytest.fixture
def data(session: Session) -> Seed:
    s = seed(session)
    for i in range(5):
        s.recs[f"w{i}"] = rec(session, text=f"Women's rights recommendation {i}.", themes=["Women's rights"])
    s.recs["j0"] = rec(session, text="Justice recommendation.", themes=["Justice"])
    return s


def pickable(page: str) -> list[str]:
    return re.findall(
        r'<input type="checkbox" form="pick" id="pick-\d+" name="recommendation_ids" value="([^"]+)"', page
    )


def ticked(page: str) -> set[str]:
    return set(re.findall(r'name="recommendation_ids" value="([^"]+)" checked', page))


def send(web: TestClient, page: str, ticks: list[str], **button: str) -> object:
    """Press a button of the results (with `ticks` ticked among the boxes shown), as a browser sends the form."""
    fields: dict[str, object] = {
        "csrf_token": csrf_from(page),
        "back": html.unescape(re.search(r'name="back" value="([^"]*)"', page).group(1)),  # type: ignore[union-attr]
        "shown": pickable(page),
        "recommendation_ids": ticks,
        **button,
    }
    return web.post("/recommendations/selection", data=fields)  # type: ignore[arg-type]


def test_a_state_files_one_need_from_ticks_on_two_pages_and_two_searches(
    web: TestClient, data: Seed, session: Session
) -> None:
    sign_in(web, data.keys["fra"][1])
    women = "/recommendations?state=FRA&theme=Women%27s+rights&limit=2"
    page = web.get(women).text
    assert "tick “Choose for a need” on each" in page and "Chosen for a need" not in page
    first = pickable(page)
    assert len(first) == 2
    # "Next page" keeps the ticks of the page shown, then opens the next page.
    response = send(web, page, [first[0]], goto=women + "&offset=2")
    assert response.status_code == 303  # type: ignore[attr-defined]
    assert response.headers["location"] == women + "&offset=2"  # type: ignore[attr-defined]
    page = web.get(women + "&offset=2").text
    assert "Chosen for a need: 1 recommendation to France" in page
    second = pickable(page)[1]
    send(web, page, [second], action="keep")
    # Another search: the ticks from the first stay chosen and show as ticked when seen again.
    page = web.get("/recommendations?q=justice&state=FRA").text
    assert "Chosen for a need: 2 recommendations to France" in page
    third = data.recs["j0"].id
    assert pickable(page) == [third]
    response = send(web, page, [third], action="file")
    assert response.headers["location"] == "/needs/new?selection=1"  # type: ignore[attr-defined]
    assert ticked(web.get(women).text) == {first[0]}
    form = web.get("/needs/new?selection=1").text
    assert ticked(form) == {first[0], second, third}
    assert "Women&#39;s rights and Justice: support to implement 3 supported recommendations" in form
    filed = web.post(
        "/needs/new",
        data={
            "csrf_token": csrf_from(form),
            "state": "FRA",
            "recommendation_ids": [first[0], second, third],
            "auto_title": html.unescape(re.search(r'name="auto_title" value="([^"]*)"', form).group(1)),  # type: ignore[union-attr]
            "title": "",
            "priority": "medium",
            "visibility": "public",
        },
    )
    assert filed.status_code == 303, filed.text
    need_id = filed.headers["location"].rsplit("/", 1)[1]
    cited = (
        fresh(session)
        .exec(select(NeedRecommendation.recommendation_id).where(NeedRecommendation.need_id == need_id))
        .all()
    )
    assert set(cited) == {first[0], second, third}
    # Filed: the ticks are used up.
    assert "Chosen for a need" not in web.get(women).text
    assert not session.exec(select(WebSelection)).all()


def test_unticking_on_the_page_removes_only_what_the_page_showed(web: TestClient, data: Seed) -> None:
    sign_in(web, data.keys["fra"][1])
    women = "/recommendations?state=FRA&theme=Women%27s+rights&limit=2"
    page = web.get(women).text
    send(web, page, pickable(page), action="keep")
    page = web.get(women + "&offset=2").text
    send(web, page, pickable(page), action="keep")
    page = web.get(women).text
    assert "Chosen for a need: 4 recommendations" in page
    send(web, page, [], action="keep")  # both on page 1 unticked
    assert "Chosen for a need: 2 recommendations" in web.get(women).text
    page = web.get(women).text
    send(web, page, [], action="clear")
    assert "Chosen for a need" not in web.get(women).text


def test_only_the_states_own_supported_results_can_be_ticked(web: TestClient, data: Seed, session: Session) -> None:
    everyone = "/recommendations?limit=100"
    assert pickable(web.get(everyone).text) == []  # not signed in
    sign_in(web, data.keys["ngo"][1])
    assert pickable(web.get(everyone).text) == []  # a provider does not file needs
    sign_in(web, data.keys["fra"][1])
    offered = set(pickable(web.get(everyone).text))
    assert data.recs["women"].id in offered
    assert data.recs["noted"].id not in offered and data.recs["germany"].id not in offered
    # A crafted form cannot choose what the page does not offer.
    page = web.get("/recommendations?state=DEU").text
    forged = {
        "csrf_token": csrf_from(page),
        "back": "/recommendations",
        "shown": [data.recs["germany"].id, data.recs["noted"].id],
        "recommendation_ids": [data.recs["germany"].id, data.recs["noted"].id],
    }
    refused = web.post("/recommendations/selection", data=forged)
    assert refused.status_code == 422
    assert "You may not file needs for Germany" in refused.text
    assert "was not supported by France" in refused.text
    assert "Chosen for a need" not in web.get(everyone).text


def test_an_administrator_chooses_for_one_state_at_a_time(web: TestClient, data: Seed, session: Session) -> None:
    sign_in(web, make_key(session, role="admin")[1])
    page = web.get("/recommendations?limit=100").text
    assert data.recs["germany"].id in pickable(page) and data.recs["women"].id in pickable(page)
    send(web, page, [data.recs["germany"].id], action="keep")
    page = web.get("/recommendations?limit=100").text
    assert pickable(page) == [data.recs["germany"].id]  # only Germany's now
    both = [data.recs["germany"].id, data.recs["women"].id]
    fields = {"csrf_token": csrf_from(page), "back": "/recommendations", "shown": both, "recommendation_ids": both}
    refused = web.post("/recommendations/selection", data=fields)  # a form from before Germany was chosen
    assert refused.status_code == 422
    assert "you have chosen recommendations to Germany, so those to France were not added" in refused.text


def test_the_buttons_only_return_to_a_search_page(web: TestClient, data: Seed) -> None:
    sign_in(web, data.keys["fra"][1])
    page = web.get("/recommendations?state=FRA").text
    for elsewhere in ("https://evil.example/", "//evil.example", "/signout", "/recommendationsx"):
        response = web.post(
            "/recommendations/selection",
            data={"csrf_token": csrf_from(page), "back": elsewhere, "goto": elsewhere, "action": "keep"},
        )
        assert response.headers["location"] == "/recommendations"


def test_signing_out_forgets_the_ticks(web: TestClient, data: Seed, session: Session) -> None:
    sign_in(web, data.keys["fra"][1])
    page = web.get("/recommendations?state=FRA").text
    send(web, page, pickable(page)[:1], action="keep")
    assert len(fresh(session).exec(select(WebSelection)).all()) == 1
    web.post("/signout", data={"csrf_token": csrf_from(web.get("/").text)})
    assert not fresh(session).exec(select(WebSelection)).all()
    sign_in(web, data.keys["fra"][1])
    assert "Chosen for a need" not in web.get("/recommendations?state=FRA").text
