"""Drafted needs: a State's uncovered supported recommendations, grouped, merged and with suggested partners."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from app.models.need import Need
from tests.factories import auth, make_key, make_need, make_provider, make_recommendation
from tests.test_errors import assert_problem

TORTURE = "Torture and other CID treatment"


def test_draft_groups_uncovered_supported_recommendations(client: TestClient, session: Session) -> None:
    old = make_recommendation(
        session, id="c1-opcat", cycle=1, state_under_review="KEN", text="Ratify the OPCAT.", themes=[TORTURE]
    )
    new = make_recommendation(
        session, id="c2-opcat", cycle=2, state_under_review="KEN", text="Ratify the OPCAT", themes=[TORTURE]
    )
    nhri = make_recommendation(
        session,
        id="c2-nhri",
        state_under_review="KEN",
        text="Strengthen the national human rights commission",
        themes=["NHRI"],
    )
    make_recommendation(
        session,
        id="c2-noted",
        state_under_review="KEN",
        response="noted",
        text="Abolish the death penalty",
        themes=["Death penalty"],
    )
    make_recommendation(session, id="c2-fra", state_under_review="FRA", text="Ratify the OPCAT", themes=[TORTURE])
    covered = make_recommendation(
        session, id="c2-covered", state_under_review="KEN", text="Train prison guards", themes=["Detention"]
    )
    make_need(session, recommendations=[covered], state="KEN")
    provider = make_provider(
        session, name="OPCAT advisers", description="Support to ratify the OPCAT and set up preventive mechanisms."
    )

    before = session.exec(select(func.count()).select_from(Need)).one()
    response = client.post("/v1/states/ken/needs/draft", json={"suggestions": 2})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["state"] == "KEN"
    assert body["uncovered_recommendations"] == 3  # not the noted, not France's, not the covered one
    drafts = {d["theme"]: d for d in body["items"]}
    assert set(drafts) == {TORTURE, "NHRI"}
    torture = drafts[TORTURE]
    assert torture["recommendation_ids"] == [new.id, old.id]
    assert torture["asks"] == [{"ids": [new.id, old.id], "text": "Ratify the OPCAT"}]
    assert torture["suggested_providers"][0]["provider"]["id"] == provider.id
    assert drafts["NHRI"]["recommendation_ids"] == [nhri.id]
    assert session.exec(select(func.count()).select_from(Need)).one() == before, "drafting must not save anything"


def test_draft_can_be_filed_as_is(client: TestClient, session: Session) -> None:
    make_recommendation(session, state_under_review="KEN", text="Ratify the OPCAT", themes=[TORTURE])
    _, kenya = make_key(session, "state", state="KEN")
    draft = client.post("/v1/states/KEN/needs/draft").json()["items"][0]
    filed = client.post(
        "/v1/needs",
        json={"title": draft["title"], "recommendation_ids": draft["recommendation_ids"]},
        headers=auth(kenya),
    )
    assert filed.status_code == 201, filed.text
    assert client.post("/v1/states/KEN/needs/draft", headers=auth(kenya)).json()["items"] == []


def test_draft_options_and_errors(client: TestClient, session: Session) -> None:
    for i in range(3):
        make_recommendation(
            session,
            state_under_review="KEN",
            text=f"Distinct ask {i} on topic{i}",
            themes=[f"Theme {i}"],
            cycle=1 + i % 2,
        )
    assert len(client.post("/v1/states/KEN/needs/draft", json={"max_drafts": 2, "suggestions": 0}).json()["items"]) == 2
    assert client.post("/v1/states/KEN/needs/draft", json={"cycle": 2}).json()["uncovered_recommendations"] == 1
    assert_problem(client.post("/v1/states/XXX/needs/draft"), 422)
    assert_problem(client.post("/v1/states/KEN/needs/draft", json={"max_drafts": 0}), 422)
    assert_problem(client.post("/v1/states/KEN/needs/draft", json={"save": True}), 422)
