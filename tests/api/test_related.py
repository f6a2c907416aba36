"""`/v1/recommendations/related`: a text answers the recommendations it speaks to, best first, with reasons,
filtered and paginated; the index sees recommendations imported since it first read them."""

from __future__ import annotations

import threading

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from app.core.config import Settings
from tests.apputil import app_for
from tests.factories import make_recommendation

pytestmark = pytest.mark.db

TORTURE = "Establish an independent mechanism to investigate complaints of torture by police officers."
CHILDREN = "Raise the minimum age of marriage to 18 years for girls and boys."
WATER = "Guarantee access to safe drinking water in rural areas."


def _store(db: Session) -> dict[str, str]:
    ids = {
        "torture": make_recommendation(db, state_under_review="MEX", text=TORTURE).id,
        "children": make_recommendation(
            db, state_under_review="MEX", text=CHILDREN, themes=["Rights of the Child"], response="noted"
        ).id,
        "water": make_recommendation(db, state_under_review="KEN", text=WATER, themes=["Right to water"]).id,
    }
    later = make_recommendation(db, state_under_review="KEN", cycle=3, text=TORTURE)
    later.session = 35  # the factory's first argument is the database session
    db.add(later)
    db.commit()
    ids["torture_ken"] = later.id
    db.close()
    return ids


def test_a_text_finds_what_it_speaks_to_best_first_with_reasons(client: TestClient, session: Session) -> None:
    ids = _store(session)
    body = {"text": "Train prosecutors to investigate torture complaints against the police", "limit": 3}
    got = client.post("/v1/recommendations/related", json=body)
    assert got.status_code == 200, got.text
    page = got.json()
    assert {"items", "total", "limit", "offset", "scale", "language", "engine"} <= set(page)
    assert page["limit"] == 3 and page["offset"] == 0 and page["language"] == "en"
    top = page["items"][0]
    assert top["recommendation"]["id"] in {ids["torture"], ids["torture_ken"]}
    assert 0 < top["score"] <= 1
    assert any(r.startswith("Shared terms:") and "torture" in r for r in top["reasons"]), top["reasons"]
    assert "Same affected persons: " in " ".join(top["reasons"])  # police, named on both sides
    scores = [i["score"] for i in page["items"]]
    assert scores == sorted(scores, reverse=True)
    assert ids["water"] not in [i["recommendation"]["id"] for i in page["items"][:2]]


def test_filters_and_pages(client: TestClient, session: Session) -> None:
    ids = _store(session)
    text = "torture complaints investigated by an independent mechanism"
    mex = client.post("/v1/recommendations/related", json={"text": text, "state": "MEX"}).json()
    assert [i["recommendation"]["state_under_review"] for i in mex["items"]] == ["MEX"] * len(mex["items"])
    assert mex["items"][0]["recommendation"]["id"] == ids["torture"]
    cycle = client.get("/v1/recommendations/related", params={"text": text, "cycle": 3, "session": 35}).json()
    assert [i["recommendation"]["id"] for i in cycle["items"]] == [ids["torture_ken"]]
    noted = client.get("/v1/recommendations/related", params={"text": "marriage of girls", "response": "noted"}).json()
    assert [i["recommendation"]["id"] for i in noted["items"]] == [ids["children"]]
    first = client.get("/v1/recommendations/related", params={"text": text, "limit": 1}).json()
    second = client.get("/v1/recommendations/related", params={"text": text, "limit": 1, "offset": 1}).json()
    assert first["total"] == second["total"] >= 2
    assert first["items"][0]["recommendation"]["id"] != second["items"][0]["recommendation"]["id"]
    themed = client.get("/v1/recommendations/related", params={"text": text, "theme": "Right to water"}).json()
    assert [i["recommendation"]["id"] for i in themed["items"]] in ([], [ids["water"]])


def test_recommendations_imported_later_are_found(client: TestClient, session: Session) -> None:
    _store(session)
    assert client.get("/v1/recommendations/related", params={"text": "death penalty abolition"}).json()["total"] == 0
    later = make_recommendation(session, state_under_review="USA", text="Abolish the death penalty.").id
    session.close()
    got = client.get("/v1/recommendations/related", params={"text": "death penalty abolition"}).json()
    assert got["items"][0]["recommendation"]["id"] == later


def test_bad_input_names_the_field(client: TestClient) -> None:
    empty = client.post("/v1/recommendations/related", json={"text": ""})
    assert empty.status_code == 422 and "text" in empty.text
    long = client.get("/v1/recommendations/related", params={"text": "x" * 501})
    assert long.status_code == 422 and "text" in long.text
    unknown = client.post("/v1/recommendations/related", json={"text": "torture", "colour": "red"})
    assert unknown.status_code == 422 and "colour" in unknown.text
    too_far = client.post("/v1/recommendations/related", json={"text": "torture", "limit": 51})
    assert too_far.status_code == 422 and "limit" in too_far.text


def test_a_need_described_in_words_lists_the_states_supported_recommendations_unchosen(
    client: TestClient, session: Session
) -> None:
    ids = _store(session)
    got = client.post(
        "/v1/needs/draft-from-text",
        json={"state": "MEX", "text": "We want to train prosecutors to investigate torture complaints"},
    )
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["state"] == "MEX" and body["description"].startswith("We want")
    found = [r["recommendation"]["id"] for r in body["recommendations"]]
    assert found[0] == ids["torture"]
    assert ids["children"] not in found  # noted, not supported
    assert ids["torture_ken"] not in found  # another State's
    assert all(r["reasons"] for r in body["recommendations"])


def test_the_recommendations_are_read_at_start_up_so_the_first_request_does_not_wait(
    settings: Settings, engine: Engine, session: Session
) -> None:
    ids = _store(session)
    warm = settings.model_copy(update={"RELATED_WARM_AT_START": True})
    with TestClient(app_for(warm, engine), raise_server_exceptions=False) as client:
        for thread in [t for t in threading.enumerate() if t.name == "related-warm"]:
            thread.join(60)
        index = client.app.state.match_index  # type: ignore[attr-defined]
        assert set(index.snapshot.recommendations.facts) == set(ids.values())
        version = index.snapshot.recommendation_version
        got = client.post("/v1/recommendations/related", json={"text": TORTURE, "limit": 1})
        assert got.status_code == 200, got.text
        assert got.json()["items"][0]["recommendation"]["id"] in {ids["torture"], ids["torture_ken"]}
        assert index.snapshot.recommendation_version == version  # answered from what start-up read
