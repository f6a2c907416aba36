"""Match endpoints: ranking, explanations, filters, visibility, and an index that follows every write."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.factories import auth, make_key, make_need, make_provider, make_recommendation
from tests.test_errors import assert_problem

TORTURE = "Torture and other CID treatment"


@pytest.fixture
def world(session: Session) -> dict:  # type: ignore[type-arg]
    opcat = make_recommendation(
        session,
        state_under_review="KEN",
        text=(
            "Ratify the Optional Protocol to the Convention against Torture "
            "and establish a national preventive mechanism"
        ),
        themes=[TORTURE, "International instruments"],
    )
    apt = make_provider(
        session,
        name="Prevention Association",
        description=(
            "Advises governments on national preventive mechanisms and independent monitoring of places of detention."
        ),
        themes=[TORTURE, "Detention"],
        regions=["africa"],
        languages=["en"],
        modalities=["training", "legal_review"],
    )
    kids = make_provider(
        session,
        name="Children Fund",
        kind="un_entity",
        description="Supports birth registration, child protection systems and juvenile justice reform.",
        themes=["Rights of the Child"],
        regions=["global"],
        languages=["fr"],
        modalities=["funding"],
    )
    need = make_need(
        session,
        recommendations=[opcat],
        state="KEN",
        title="Set up a national preventive mechanism",
        description="Training for the new mechanism's monitors.",
        themes=[TORTURE],
        languages=["en"],
        modalities=["training"],
    )
    return {"opcat": opcat, "apt": apt, "kids": kids, "need": need}


def test_need_matches_rank_and_explain(client: TestClient, world: dict) -> None:  # type: ignore[type-arg]
    response = client.get(f"/v1/needs/{world['need'].id}/matches")
    assert response.status_code == 200, response.text
    body = response.json()
    ids = [item["provider"]["id"] for item in body["items"]]
    assert ids == [world["apt"].id]  # the children's fund shares neither words nor themes
    top = body["items"][0]
    assert 0 < top["score"] <= 1
    explanation = top["explanation"]
    assert explanation["themes"] == [TORTURE]
    assert explanation["terms"], "shared terms must be shown"
    assert explanation["signals"]["presence"]["detail"] == "works in the region (Africa)"
    assert explanation["signals"]["language"]["value"] == 1.0
    assert explanation["signals"]["modality"]["detail"] == "offers training"
    assert explanation["summary"].startswith("shares: " + TORTURE)
    assert body["engine"]["documents"] == 2
    assert "contact_email" not in top["provider"]


def test_score_is_the_weighted_mean_of_applied_components(client: TestClient, world: dict, settings) -> None:  # type: ignore[no-untyped-def, type-arg]
    top = client.get(f"/v1/needs/{world['need'].id}/matches").json()["items"][0]
    signals = top["explanation"]["signals"]
    expected = sum(s["value"] * s["weight"] for s in signals.values()) / sum(s["weight"] for s in signals.values())
    assert top["score"] == pytest.approx(expected, abs=1e-5)
    assert signals["text"]["weight"] == settings.MATCH_WEIGHT_TEXT


def test_filters_and_limits(client: TestClient, world: dict) -> None:  # type: ignore[type-arg]
    url = f"/v1/needs/{world['need'].id}/matches"
    assert client.get(url, params={"kind": "un_entity"}).json()["items"] == []
    assert len(client.get(url, params={"kind": "ngo"}).json()["items"]) == 1
    assert client.get(url, params={"language": "fr"}).json()["items"] == []
    assert client.get(url, params={"min_score": 0.99}).json()["items"] == []
    assert client.get(url, params={"region": "asia_pacific"}).json()["items"] == []
    assert len(client.get(url, params={"country": "KEN"}).json()["items"]) == 1  # Kenya is in Africa
    for bad in ({"limit": 0}, {"limit": 51}, {"min_score": 2}, {"kind": "spy"}, {"language": "xx"}):
        assert_problem(client.get(url, params=bad), 422)


def test_unknown_and_hidden_needs_are_404(client: TestClient, session: Session, world: dict) -> None:  # type: ignore[type-arg]
    assert_problem(client.get("/v1/needs/nope/matches"), 404)
    hidden = make_need(
        session, state="KEN", visibility="state_only", recommendations=[world["opcat"]], title="Hidden one"
    )
    assert_problem(client.get(f"/v1/needs/{hidden.id}/matches"), 404)
    _, kenya = make_key(session, "state", state="KEN")
    assert client.get(f"/v1/needs/{hidden.id}/matches", headers=auth(kenya)).status_code == 200


def test_provider_matches_only_visible_open_needs(client: TestClient, session: Session, world: dict) -> None:  # type: ignore[type-arg]
    make_need(
        session, state="KEN", visibility="state_only", recommendations=[world["opcat"]], title="Hidden torture need"
    )
    make_need(session, state="KEN", status="closed", recommendations=[world["opcat"]], title="Closed torture need")
    body = client.get(f"/v1/providers/{world['apt'].id}/matches").json()
    assert [item["need"]["id"] for item in body["items"]] == [world["need"].id]
    assert body["items"][0]["need"]["recommendation_ids"] == [world["opcat"].id]
    _, admin = make_key(session, "admin")
    as_admin = client.get(f"/v1/providers/{world['apt'].id}/matches", headers=auth(admin)).json()
    assert len(as_admin["items"]) == 2  # the hidden one too, never the closed one
    assert_problem(client.get("/v1/providers/nope/matches"), 404)


def test_free_text_match(client: TestClient, world: dict) -> None:  # type: ignore[type-arg]
    body = client.post("/v1/match", json={"text": "monitoring of places of detention", "state": "KEN"}).json()
    assert [i["provider"]["id"] for i in body["items"]] == [world["apt"].id]
    body = client.post("/v1/match", json={"text": "juvenile justice and birth registration"}).json()
    assert [i["provider"]["id"] for i in body["items"]] == [world["kids"].id]
    assert "presence" not in body["items"][0]["explanation"]["signals"]  # no State given: no presence signal
    assert_problem(client.post("/v1/match", json={"text": "x" * 2001}), 422)
    assert_problem(client.post("/v1/match", json={"text": "x", "limit": 51}), 422)
    assert_problem(client.post("/v1/match", json={"text": "x", "score": 1}), 422)


def test_index_follows_api_writes(client: TestClient, session: Session, world: dict) -> None:  # type: ignore[type-arg]
    _, admin = make_key(session, "admin")
    url = f"/v1/needs/{world['need'].id}/matches"
    created = client.post(
        "/v1/providers",
        json={
            "name": "Detention Monitors",
            "kind": "nhri",
            "description": "Monitoring places of detention and building national preventive mechanisms.",
            "regions": ["africa"],
        },
        headers=auth(admin),
    )
    assert created.status_code == 201, created.text
    new_id = created.json()["id"]
    assert new_id in [i["provider"]["id"] for i in client.get(url).json()["items"]]

    etag = client.get(f"/v1/providers/{new_id}", headers=auth(admin)).headers["etag"]
    patched = client.patch(
        f"/v1/providers/{new_id}",
        json={
            "name": "Farm Credit Union",
            "description": "Support to agricultural cooperatives and rural credit schemes.",
        },
        headers={**auth(admin), "If-Match": etag},
    )
    assert patched.status_code == 200, patched.text
    assert new_id not in [i["provider"]["id"] for i in client.get(url).json()["items"]]

    etag = patched.headers["etag"]
    assert client.delete(f"/v1/providers/{new_id}", headers={**auth(admin), "If-Match": etag}).status_code == 204
    assert client.get(url).json()["engine"]["documents"] == 2


def test_index_follows_writes_that_bypass_the_api(client: TestClient, session: Session, world: dict) -> None:  # type: ignore[type-arg]
    client.get(f"/v1/needs/{world['need'].id}/matches")  # the index is built and in use
    direct = make_provider(
        session, name="Direct Insert", description="National preventive mechanism advisers.", regions=[]
    )
    ids = [i["provider"]["id"] for i in client.get(f"/v1/needs/{world['need'].id}/matches").json()["items"]]
    assert direct.id in ids


def test_readiness_reports_the_matcher(client: TestClient, world: dict) -> None:  # type: ignore[type-arg]
    body = client.get("/health/ready").json()
    assert body["checks"]["matcher"]["ok"] is True
