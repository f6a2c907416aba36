"""Needs: filing by a State, cited-recommendation rules, duplicates, visibility, filters, deletion."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.models.need import NeedRecommendation
from tests.factories import auth, make_activity, make_key, make_need, make_provider, make_recommendation
from tests.test_errors import assert_problem


def _body(*recs: object, **extra: object) -> dict:  # type: ignore[type-arg]
    return {"title": "Train prison staff", "recommendation_ids": [r.id for r in recs], **extra}  # type: ignore[attr-defined]


def test_state_files_need_for_itself_with_default_themes(client: TestClient, session: Session) -> None:
    _, fra = make_key(session, "state", state="FRA")
    r1 = make_recommendation(session, themes=["Torture", "Detention"])
    r2 = make_recommendation(session, themes=["detention", "Justice"])
    response = client.post("/v1/needs", json=_body(r1, r2, modalities=["training"]), headers=auth(fra))
    assert response.status_code == 201, response.text
    need = response.json()
    assert need["state"] == "FRA" and need["recommendation_ids"] == [r1.id, r2.id]
    assert need["themes"] == ["Torture", "Detention", "Justice"]
    assert need["status"] == "open" and need["visibility"] == "public" and need["version"] == 1
    assert response.headers["etag"] == '"1"'
    session.rollback()
    links = session.exec(select(NeedRecommendation).where(NeedRecommendation.need_id == need["id"])).all()
    assert {link.recommendation_id for link in links} == {r1.id, r2.id}


def test_state_key_may_not_file_for_another_state(client: TestClient, session: Session) -> None:
    _, fra = make_key(session, "state", state="FRA")
    rec = make_recommendation(session, state_under_review="KEN")
    assert_problem(client.post("/v1/needs", json=_body(rec, state="KEN"), headers=auth(fra)), 403)


def test_provider_key_may_not_file_needs(client: TestClient, session: Session) -> None:
    provider = make_provider(session)
    _, key = make_key(session, "provider", provider_id=provider.id)
    rec = make_recommendation(session)
    assert_problem(client.post("/v1/needs", json=_body(rec, state="FRA"), headers=auth(key)), 403)


def test_admin_must_name_the_state(client: TestClient, session: Session) -> None:
    _, admin = make_key(session, "admin")
    rec = make_recommendation(session)
    problem = assert_problem(client.post("/v1/needs", json=_body(rec), headers=auth(admin)), 422)
    assert problem["errors"][0]["pointer"] == "/body/state"
    assert client.post("/v1/needs", json=_body(rec, state="fra"), headers=auth(admin)).status_code == 201


def test_cited_recommendations_are_checked_and_named(client: TestClient, session: Session) -> None:
    _, fra = make_key(session, "state", state="FRA")
    good = make_recommendation(session)
    noted = make_recommendation(session, response="noted")
    kenyan = make_recommendation(session, state_under_review="KEN")
    pending = make_recommendation(session, response="pending")
    body = {"title": "Mixed", "recommendation_ids": [good.id, noted.id, kenyan.id, "no-such-rec", pending.id, good.id]}
    problem = assert_problem(client.post("/v1/needs", json=body, headers=auth(fra)), 422)
    by_pointer = {e["pointer"]: e["detail"] for e in problem["errors"]}
    assert set(by_pointer) == {
        "/body/recommendation_ids/1",
        "/body/recommendation_ids/2",
        "/body/recommendation_ids/3",
        "/body/recommendation_ids/4",
        "/body/recommendation_ids/5",
    }
    assert by_pointer["/body/recommendation_ids/1"] == (
        f"recommendation {noted.id} was noted by FRA; needs may cite supported recommendations only"
    )
    assert kenyan.id in by_pointer["/body/recommendation_ids/2"] and "KEN" in by_pointer["/body/recommendation_ids/2"]
    assert "does not exist" in by_pointer["/body/recommendation_ids/3"]
    assert "pending" in by_pointer["/body/recommendation_ids/4"]
    assert "twice" in by_pointer["/body/recommendation_ids/5"]
    assert client.get("/v1/needs").json()["total"] == 0


@pytest.mark.parametrize(
    ("extra", "pointer"),
    [
        ({"title": "ab"}, "/body/title"),
        ({"description": "x" * 10_001}, "/body/description"),
        ({"recommendation_ids": []}, "/body/recommendation_ids"),
        ({"recommendation_ids": [f"r{i}" for i in range(201)]}, "/body/recommendation_ids"),
        ({"priority": "urgent"}, "/body/priority"),
        ({"visibility": "secret"}, "/body/visibility"),
        ({"status": "done"}, "/body/status"),
        ({"state": "XXX"}, "/body/state"),
        ({"id": "mine"}, "/body/id"),
        ({"is_demo": True}, "/body/is_demo"),
        ({"version": 7}, "/body/version"),
        ({"created_at": "2020-01-01T00:00:00Z"}, "/body/created_at"),
        ({"dedupe_key": "x"}, "/body/dedupe_key"),
    ],
)
def test_create_need_names_the_bad_field(client: TestClient, session: Session, extra: dict, pointer: str) -> None:  # type: ignore[type-arg]
    _, fra = make_key(session, "state", state="FRA")
    rec = make_recommendation(session)
    problem = assert_problem(client.post("/v1/needs", json={**_body(rec), **extra}, headers=auth(fra)), 422)
    assert pointer in {e["pointer"] for e in problem["errors"]}


def test_exact_duplicate_is_409_naming_the_existing_need(client: TestClient, session: Session) -> None:
    _, fra = make_key(session, "state", state="FRA")
    r1, r2 = make_recommendation(session), make_recommendation(session)
    first = client.post("/v1/needs", json=_body(r1, r2), headers=auth(fra)).json()
    problem = assert_problem(
        client.post("/v1/needs", json={**_body(r2, r1), "title": "  train PRISON staff "}, headers=auth(fra)), 409
    )
    assert first["id"] in problem["detail"] and problem["existing_id"] == first["id"]
    # A different set or title is a different need.
    assert client.post("/v1/needs", json=_body(r1), headers=auth(fra)).status_code == 201
    # Once the first is closed, the same need may be filed again.
    closed = client.patch(
        f"/v1/needs/{first['id']}", json={"status": "closed"}, headers={**auth(fra), "If-Match": '"1"'}
    )
    assert closed.status_code == 200, closed.text
    assert client.post("/v1/needs", json=_body(r1, r2), headers=auth(fra)).status_code == 201


def test_patch_need_recomputes_default_themes_and_checks_recommendations(client: TestClient, session: Session) -> None:
    _, fra = make_key(session, "state", state="FRA")
    r1 = make_recommendation(session, themes=["Torture"])
    r2 = make_recommendation(session, themes=["Water"])
    noted = make_recommendation(session, response="noted")
    need = client.post("/v1/needs", json=_body(r1), headers=auth(fra)).json()
    headers = {**auth(fra), "If-Match": '"1"'}
    problem = assert_problem(
        client.patch(f"/v1/needs/{need['id']}", json={"recommendation_ids": [r1.id, noted.id]}, headers=headers), 422
    )
    assert problem["errors"][0]["pointer"] == "/body/recommendation_ids/1"
    response = client.patch(f"/v1/needs/{need['id']}", json={"recommendation_ids": [r1.id, r2.id]}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["themes"] == ["Torture", "Water"] and response.headers["etag"] == '"2"'
    assert_problem(
        client.patch(f"/v1/needs/{need['id']}", json={"state": "KEN"}, headers={**auth(fra), "If-Match": '"2"'}), 422
    )
    assert_problem(
        client.patch(f"/v1/needs/{need['id']}", json={"title": None}, headers={**auth(fra), "If-Match": '"2"'}), 422
    )


def test_visibility_rules_on_get_and_list(client: TestClient, session: Session) -> None:
    provider = make_provider(session)
    _, fra = make_key(session, "state", state="FRA")
    _, ken = make_key(session, "state", state="KEN")
    _, prov = make_key(session, "provider", provider_id=provider.id)
    _, admin = make_key(session, "admin")
    public = make_need(session, visibility="public")
    for_providers = make_need(session, visibility="providers")
    private = make_need(session, visibility="state_only")
    expected = {
        None: {public.id},
        ken: {public.id},
        prov: {public.id, for_providers.id},
        fra: {public.id, for_providers.id, private.id},
        admin: {public.id, for_providers.id, private.id},
    }
    for key, visible in expected.items():
        headers = auth(key) if key else {}
        listed = client.get("/v1/needs", headers=headers).json()
        assert {n["id"] for n in listed["items"]} == visible and listed["total"] == len(visible)
        for need in (public, for_providers, private):
            status = client.get(f"/v1/needs/{need.id}", headers=headers).status_code
            assert status == (200 if need.id in visible else 404), (key, need.visibility)


def test_hidden_need_answers_like_a_missing_one(client: TestClient, session: Session) -> None:
    _, ken = make_key(session, "state", state="KEN")
    private = make_need(session, visibility="state_only")
    hidden = assert_problem(client.get(f"/v1/needs/{private.id}", headers=auth(ken)), 404)
    missing = assert_problem(client.get("/v1/needs/does-not-exist", headers=auth(ken)), 404)
    assert hidden["detail"].replace(private.id, "X") == missing["detail"].replace("does-not-exist", "X")
    patched = client.patch(
        f"/v1/needs/{private.id}", json={"title": "hijack"}, headers={**auth(ken), "If-Match": '"1"'}
    )
    assert_problem(patched, 404)


def test_list_needs_filters(client: TestClient, session: Session) -> None:
    r_fra = make_recommendation(session)
    r_ken = make_recommendation(session, state_under_review="KEN")
    a = make_need(session, [r_fra], themes=["Torture"], priority="high", status="open")
    b = make_need(session, [r_ken], state="KEN", themes=["Water"], priority="low", status="matched")

    def ids(**params: str) -> list[str]:
        response = client.get("/v1/needs", params=params)
        assert response.status_code == 200, response.text
        return [n["id"] for n in response.json()["items"]]

    assert ids() == [a.id, b.id]
    assert ids(state="ken") == [b.id]
    assert ids(status="matched") == [b.id]
    assert ids(theme="TORTURE") == [a.id]
    assert ids(priority="high") == [a.id]
    assert ids(recommendation_id=r_ken.id) == [b.id]
    assert ids(recommendation_id="nothing") == []
    assert_problem(client.get("/v1/needs", params={"status": "bogus"}), 422)


def test_delete_need_with_activity_is_409_then_without_is_204(client: TestClient, session: Session) -> None:
    _, fra = make_key(session, "state", state="FRA")
    provider = make_provider(session)
    need = make_need(session)
    activity = make_activity(session, provider, need_id=need.id)
    headers = {**auth(fra), "If-Match": '"1"'}
    problem = assert_problem(client.delete(f"/v1/needs/{need.id}", headers=headers), 409)
    assert "1 cooperation activity" in problem["detail"]
    _, admin = make_key(session, "admin")
    assert client.delete(f"/v1/activities/{activity.id}", headers={**auth(admin), "If-Match": '"1"'}).status_code == 204
    assert client.delete(f"/v1/needs/{need.id}", headers=headers).status_code == 204
    session.rollback()
    assert session.exec(select(NeedRecommendation).where(NeedRecommendation.need_id == need.id)).all() == []
    assert_problem(client.get(f"/v1/needs/{need.id}"), 404)
