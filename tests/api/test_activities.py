"""Cooperation activities: who records them, what they may cite, dates, visibility of planned ones."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.factories import auth, make_activity, make_key, make_need, make_provider, make_recommendation
from tests.test_errors import assert_problem

FUND = "UPR Voluntary Fund for Financial and Technical Assistance"


def test_provider_records_activity_for_itself_citing_any_response(client: TestClient, session: Session) -> None:
    provider = make_provider(session)
    _, key = make_key(session, "provider", provider_id=provider.id)
    noted = make_recommendation(session, response="noted")
    supported = make_recommendation(session)
    body = {
        "state": "fra",
        "title": "Legal review of the prison code",
        "modality": "legal_review",
        "recommendation_ids": [supported.id, noted.id],
        "start_date": "2027-01-10",
        "end_date": "2027-03-01",
        "funding_source": FUND,
    }
    response = client.post("/v1/activities", json=body, headers=auth(key))
    assert response.status_code == 201, response.text
    activity = response.json()
    assert activity["provider_id"] == provider.id and activity["state"] == "FRA"
    assert activity["status"] == "planned" and activity["recommendation_ids"] == [supported.id, noted.id]
    assert activity["funding_source"] == FUND and response.headers["etag"] == '"1"'


def test_state_records_activity_with_a_provider(client: TestClient, session: Session) -> None:
    provider = make_provider(session)
    _, fra = make_key(session, "state", state="FRA")
    body = {"provider_id": provider.id, "title": "Peer exchange", "modality": "peer_exchange", "status": "ongoing"}
    response = client.post("/v1/activities", json=body, headers=auth(fra))
    assert response.status_code == 201, response.text
    assert response.json()["state"] == "FRA"


def test_parties_are_decided_by_the_key(client: TestClient, session: Session) -> None:
    x = make_provider(session)
    y = make_provider(session)
    _, key_x = make_key(session, "provider", provider_id=x.id)
    _, fra = make_key(session, "state", state="FRA")
    _, unbound = make_key(session, "provider")
    base = {"title": "Workshop", "modality": "training"}
    assert_problem(
        client.post("/v1/activities", json={**base, "provider_id": y.id, "state": "FRA"}, headers=auth(key_x)), 403
    )
    assert_problem(
        client.post("/v1/activities", json={**base, "provider_id": x.id, "state": "KEN"}, headers=auth(fra)), 403
    )
    assert_problem(client.post("/v1/activities", json={**base, "state": "FRA"}, headers=auth(unbound)), 403)
    problem = assert_problem(client.post("/v1/activities", json=base, headers=auth(key_x)), 422)
    assert problem["errors"][0]["pointer"] == "/body/state"
    problem = assert_problem(client.post("/v1/activities", json=base, headers=auth(fra)), 422)
    assert problem["errors"][0]["pointer"] == "/body/provider_id"
    problem = assert_problem(
        client.post("/v1/activities", json={**base, "provider_id": "ghost"}, headers=auth(fra)), 422
    )
    assert problem["errors"][0]["pointer"] == "/body/provider_id"


def test_recommendations_must_be_addressed_to_the_state(client: TestClient, session: Session) -> None:
    provider = make_provider(session)
    _, fra = make_key(session, "state", state="FRA")
    kenyan = make_recommendation(session, state_under_review="KEN")
    body = {
        "provider_id": provider.id,
        "title": "Workshop",
        "modality": "training",
        "recommendation_ids": [kenyan.id, "nope"],
    }
    problem = assert_problem(client.post("/v1/activities", json=body, headers=auth(fra)), 422)
    assert {e["pointer"] for e in problem["errors"]} == {"/body/recommendation_ids/0", "/body/recommendation_ids/1"}


def test_end_before_start_is_422_naming_end_date(client: TestClient, session: Session) -> None:
    provider = make_provider(session)
    _, fra = make_key(session, "state", state="FRA")
    body = {
        "provider_id": provider.id,
        "title": "Workshop",
        "modality": "training",
        "start_date": "2027-05-01",
        "end_date": "2027-04-30",
    }
    problem = assert_problem(client.post("/v1/activities", json=body, headers=auth(fra)), 422)
    assert problem["errors"][0]["pointer"] == "/body/end_date"
    activity = make_activity(session, provider, start_date=None)
    _, admin = make_key(session, "admin")
    headers = {**auth(admin), "If-Match": '"1"'}
    assert (
        client.patch(f"/v1/activities/{activity.id}", json={"end_date": "2027-01-01"}, headers=headers).status_code
        == 200
    )
    problem = assert_problem(
        client.patch(
            f"/v1/activities/{activity.id}",
            json={"start_date": "2027-02-01"},
            headers={**auth(admin), "If-Match": '"2"'},
        ),
        422,
    )
    assert problem["errors"][0]["pointer"] == "/body/end_date"


def test_need_link_must_be_visible_and_of_the_same_state(client: TestClient, session: Session) -> None:
    provider = make_provider(session)
    _, key = make_key(session, "provider", provider_id=provider.id)
    fra_private = make_need(session, visibility="state_only")
    ken_need = make_need(session, [make_recommendation(session, state_under_review="KEN")], state="KEN")
    fra_public = make_need(session)
    base = {"state": "FRA", "title": "Workshop", "modality": "training"}
    for need_id in (fra_private.id, ken_need.id, "ghost"):
        problem = assert_problem(
            client.post("/v1/activities", json={**base, "need_id": need_id}, headers=auth(key)), 422
        )
        assert problem["errors"][0]["pointer"] == "/body/need_id"
    assert client.post("/v1/activities", json={**base, "need_id": fra_public.id}, headers=auth(key)).status_code == 201


def test_parties_edit_others_may_not(client: TestClient, session: Session) -> None:
    """Either party edits a claim not yet confirmed (a confirmed one takes proposals: tests/security)."""
    x = make_provider(session)
    y = make_provider(session)
    activity = make_activity(session, x)
    claim = make_activity(session, x, confirmation="unconfirmed", recorded_by_role="provider")
    _, key_x = make_key(session, "provider", provider_id=x.id)
    _, key_y = make_key(session, "provider", provider_id=y.id)
    _, fra = make_key(session, "state", state="FRA")
    _, ken = make_key(session, "state", state="KEN")
    url = f"/v1/activities/{activity.id}"
    assert_problem(client.patch(url, json={"outcomes": "x"}, headers={**auth(key_y), "If-Match": '"1"'}), 403)
    assert_problem(client.patch(url, json={"outcomes": "x"}, headers={**auth(ken), "If-Match": '"1"'}), 403)
    url = f"/v1/activities/{claim.id}"
    ok = client.patch(url, json={"outcomes": "Trained 40 officers"}, headers={**auth(fra), "If-Match": '"1"'})
    assert ok.status_code == 200 and ok.json()["outcomes"] == "Trained 40 officers"
    ok = client.patch(url, json={"status": "completed"}, headers={**auth(key_x), "If-Match": '"2"'})
    assert ok.status_code == 200 and ok.headers["etag"] == '"3"'
    assert_problem(client.patch(url, json={"provider_id": y.id}, headers={**auth(key_x), "If-Match": '"3"'}), 422)
    assert_problem(client.patch(url, json={"state": "KEN"}, headers={**auth(key_x), "If-Match": '"3"'}), 422)


def test_planned_activities_are_visible_to_parties_only(client: TestClient, session: Session) -> None:
    x = make_provider(session)
    y = make_provider(session)
    planned = make_activity(session, x, status="planned")
    ongoing = make_activity(session, x, status="ongoing")
    _, key_x = make_key(session, "provider", provider_id=x.id)
    _, key_y = make_key(session, "provider", provider_id=y.id)
    _, fra = make_key(session, "state", state="FRA")
    _, ken = make_key(session, "state", state="KEN")
    _, admin = make_key(session, "admin")
    for key, sees_planned in ((None, False), (key_y, False), (ken, False), (key_x, True), (fra, True), (admin, True)):
        headers = auth(key) if key else {}
        listed = {a["id"] for a in client.get("/v1/activities", headers=headers).json()["items"]}
        assert listed == ({planned.id, ongoing.id} if sees_planned else {ongoing.id})
        assert client.get(f"/v1/activities/{planned.id}", headers=headers).status_code == (200 if sees_planned else 404)


def test_list_activities_filters(client: TestClient, session: Session) -> None:
    x = make_provider(session)
    y = make_provider(session)
    rec = make_recommendation(session, state_under_review="KEN")
    need = make_need(session)
    a = make_activity(session, x, need_id=need.id)
    b = make_activity(session, y, [rec], state="KEN", status="completed")

    def ids(**params: str) -> list[str]:
        response = client.get("/v1/activities", params=params)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    assert ids() == [a.id, b.id]
    assert ids(state="ken") == [b.id]
    assert ids(provider_id=x.id) == [a.id]
    assert ids(need_id=need.id) == [a.id]
    assert ids(status="completed") == [b.id]
    assert ids(recommendation_id=rec.id) == [b.id]
