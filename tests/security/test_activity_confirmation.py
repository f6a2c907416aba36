"""One party can't write claims into the other's record: activities wait for the other party's confirmation.

An activity recorded by a State or a provider is *unconfirmed* until the other party
(or an admin) confirms it. Until then only the two parties and admins see it, on the
API as on the pages, and it never feeds the history signal of the ranking.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.models.activity import Activity
from app.models.provider import Provider
from tests.factories import auth, make_activity, make_key, make_need, make_provider, make_recommendation
from tests.test_errors import assert_problem

BODY = {"title": "Training of prison staff", "modality": "training", "status": "completed"}


def _parties(session: Session) -> dict[str, Any]:
    """Provider X working in France, with keys for both parties, strangers and an admin."""
    x = make_provider(session, name="Provider X")
    y = make_provider(session, name="Provider Y")
    return {
        "x": x,
        "key_x": make_key(session, "provider", provider_id=x.id)[1],
        "key_y": make_key(session, "provider", provider_id=y.id)[1],
        "fra": make_key(session, "state", state="FRA")[1],
        "ken": make_key(session, "state", state="KEN")[1],
        "admin": make_key(session, "admin")[1],
    }


def _record(client: TestClient, key: str, **body: Any) -> dict[str, Any]:
    response = client.post("/v1/activities", json={**BODY, **body}, headers=auth(key))
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def _answer(client: TestClient, key: str, activity: dict[str, Any], verb: str, **body: Any) -> Any:
    headers = {**auth(key), "If-Match": f'"{activity["version"]}"'}
    return client.post(f"/v1/activities/{activity['id']}/{verb}", json=body or None, headers=headers)


def _listed(client: TestClient, key: str | None) -> set[str]:
    response = client.get("/v1/activities", headers=auth(key) if key else {})
    assert response.status_code == 200, response.text
    return {a["id"] for a in response.json()["items"]}


def test_a_state_claim_in_a_providers_name_stays_private_until_the_provider_confirms(
    client: TestClient, session: Session
) -> None:
    p = _parties(session)
    claim = _record(client, p["fra"], provider_id=p["x"].id)
    assert claim["confirmation"] == "unconfirmed" and claim["recorded_by"] == "state"
    assert claim["confirmed_by"] is None and claim["confirmed_at"] is None
    url = f"/v1/activities/{claim['id']}"
    for stranger in (None, p["key_y"], p["ken"]):
        assert claim["id"] not in _listed(client, stranger)
        assert client.get(url, headers=auth(stranger) if stranger else {}).status_code == 404
        listed = client.get(
            "/v1/activities", params={"provider_id": p["x"].id}, headers=auth(stranger) if stranger else {}
        )
        assert listed.json()["total"] == 0
    for party in (p["key_x"], p["fra"], p["admin"]):
        assert claim["id"] in _listed(client, party)
        assert client.get(url, headers=auth(party)).json()["confirmation"] == "unconfirmed"

    confirmed = _answer(client, p["key_x"], claim, "confirm")
    assert confirmed.status_code == 200, confirmed.text
    body = confirmed.json()
    assert body["confirmation"] == "confirmed" and body["confirmed_by"] == "provider" and body["confirmed_at"]
    assert confirmed.headers["etag"] == f'"{claim["version"] + 1}"' == f'"{body["version"]}"'
    assert claim["id"] in _listed(client, None)
    assert client.get(url).json()["confirmation"] == "confirmed"


def test_a_provider_claim_never_raises_its_ranking_until_the_state_confirms(
    client: TestClient, session: Session
) -> None:
    """The history signal (completed cooperation with the State) counts confirmed activities only."""
    p = _parties(session)
    rival = make_provider(session, name="Rival")  # identical profile: only history can separate them
    need = make_need(session)
    claim = _record(client, p["key_x"], state="FRA")
    assert claim["recorded_by"] == "provider" and claim["confirmation"] == "unconfirmed"

    def history_of(provider: Provider) -> float | None:
        items = client.get(f"/v1/needs/{need.id}/matches", params={"limit": 50}).json()["items"]
        signals = next(i["explanation"]["signals"] for i in items if i["provider"]["id"] == provider.id)
        return signals["history"]["value"] if "history" in signals else None

    assert history_of(p["x"]) in (None, 0.0) and history_of(rival) in (None, 0.0)
    assert _answer(client, p["fra"], claim, "confirm").status_code == 200
    assert history_of(p["x"]) == 1.0 and history_of(rival) == 0.0


def test_the_recorder_may_not_confirm_its_own_claim(client: TestClient, session: Session) -> None:
    p = _parties(session)
    by_provider = _record(client, p["key_x"], state="FRA")
    by_state = _record(client, p["fra"], provider_id=p["x"].id)
    problem = assert_problem(_answer(client, p["key_x"], by_provider, "confirm"), 403)
    assert "FRA" in problem["detail"]
    assert_problem(_answer(client, p["fra"], by_state, "confirm"), 403)
    assert_problem(_answer(client, p["key_x"], by_provider, "decline", reason="Never mind."), 403)
    # Strangers can't even see them.
    assert_problem(_answer(client, p["ken"], by_provider, "confirm"), 404)
    assert_problem(_answer(client, p["key_y"], by_state, "confirm"), 404)
    assert_problem(_answer(client, p["key_y"], by_state, "decline", reason="Not ours."), 404)
    # An admin may confirm for either side.
    assert _answer(client, p["admin"], by_provider, "confirm").status_code == 200


def test_declining_keeps_the_claim_private_with_its_reason(client: TestClient, session: Session) -> None:
    p = _parties(session)
    claim = _record(client, p["key_x"], state="FRA")
    missing = assert_problem(_answer(client, p["fra"], claim, "decline"), 422)
    assert missing["errors"][0]["pointer"] == "/body"
    empty = assert_problem(_answer(client, p["fra"], claim, "decline", reason="  "), 422)
    assert empty["errors"][0]["pointer"] == "/body/reason"
    declined = _answer(client, p["fra"], claim, "decline", reason="No such training took place in France.")
    assert declined.status_code == 200, declined.text
    body = declined.json()
    assert body["confirmation"] == "declined" and body["decline_reason"] == "No such training took place in France."
    assert claim["id"] not in _listed(client, None)
    assert claim["id"] in _listed(client, p["key_x"])
    # Declining twice, or confirming after the recorder's claim was declined by an admin, names the state.
    again = assert_problem(_answer(client, p["fra"], body, "decline", reason="Again."), 409)
    assert "declined" in again["detail"]
    # The State may still change its mind and confirm.
    assert _answer(client, p["fra"], body, "confirm").json()["confirmation"] == "confirmed"


def test_answers_need_the_current_etag_and_a_pending_claim(client: TestClient, session: Session) -> None:
    p = _parties(session)
    claim = _record(client, p["fra"], provider_id=p["x"].id)
    url = f"/v1/activities/{claim['id']}/confirm"
    assert_problem(client.post(url, headers=auth(p["key_x"])), 428)
    assert_problem(client.post(url, headers={**auth(p["key_x"]), "If-Match": '"7"'}), 412)
    done = _answer(client, p["key_x"], claim, "confirm").json()
    problem = assert_problem(_answer(client, p["key_x"], done, "confirm"), 409)
    assert "confirmed" in problem["detail"]
    assert_problem(_answer(client, p["key_x"], done, "decline", reason="Changed our mind."), 409)


def test_an_edit_by_one_party_needs_the_others_confirmation_again(client: TestClient, session: Session) -> None:
    """Otherwise a party gets a modest claim confirmed, then rewrites it (planned -> completed)."""
    p = _parties(session)
    claim = _record(client, p["key_x"], state="FRA", status="planned")
    confirmed = _answer(client, p["fra"], claim, "confirm").json()
    edited = client.patch(
        f"/v1/activities/{claim['id']}",
        json={"status": "completed"},
        headers={**auth(p["key_x"]), "If-Match": f'"{confirmed["version"]}"'},
    )
    # Confirmed: the edit is only a proposal; the record stays as both parties confirmed it.
    assert edited.status_code == 202, edited.text
    assert edited.json()["status"] == "pending" and edited.json()["changes"] == {"status": "completed"}
    kept = client.get(f"/v1/activities/{claim['id']}", headers=auth(p["fra"])).json()
    assert (kept["status"], kept["confirmation"], kept["version"]) == ("planned", "confirmed", confirmed["version"])
    # A claim not yet confirmed: the other party's edit is a new claim, which the first party confirms.
    second = _record(client, p["key_x"], state="FRA", status="planned", title="Visit to the prison of Fresnes")
    edited = client.patch(
        f"/v1/activities/{second['id']}",
        json={"outcomes": "Thirty officers trained."},
        headers={**auth(p["fra"]), "If-Match": f'"{second["version"]}"'},
    ).json()
    assert edited["recorded_by"] == "state" and edited["confirmation"] == "unconfirmed"
    assert_problem(_answer(client, p["fra"], edited, "confirm"), 403)
    assert _answer(client, p["key_x"], edited, "confirm").json()["confirmation"] == "confirmed"


def test_admin_records_and_edits_stay_confirmed(client: TestClient, session: Session) -> None:
    p = _parties(session)
    recorded = _record(client, p["admin"], provider_id=p["x"].id, state="FRA")
    assert recorded["confirmation"] == "confirmed" and recorded["recorded_by"] == "admin"
    assert recorded["confirmed_by"] == "admin" and recorded["confirmed_at"]
    assert recorded["id"] in _listed(client, None)
    edited = client.patch(
        f"/v1/activities/{recorded['id']}",
        json={"outcomes": "Report published."},
        headers={**auth(p["admin"]), "If-Match": '"1"'},
    ).json()
    assert edited["confirmation"] == "confirmed"


def test_the_confirmation_filter_finds_what_waits(client: TestClient, session: Session) -> None:
    p = _parties(session)
    pending = _record(client, p["fra"], provider_id=p["x"].id)
    public = make_activity(session, p["x"])
    for value, expected in (("unconfirmed", {pending["id"]}), ("confirmed", {public.id})):
        response = client.get("/v1/activities", params={"confirmation": value}, headers=auth(p["key_x"]))
        assert {a["id"] for a in response.json()["items"]} == expected
    assert client.get("/v1/activities", params={"confirmation": "unconfirmed"}).json()["total"] == 0


def test_the_public_pages_never_show_an_unconfirmed_claim(client: TestClient, session: Session) -> None:
    p = _parties(session)
    rec = make_recommendation(session)
    claim = _record(client, p["fra"], provider_id=p["x"].id, title="Claimed workshop", recommendation_ids=[rec.id])
    pages = (
        "/activities",
        f"/activities?provider_id={p['x'].id}",
        f"/providers/{p['x'].id}",
        f"/recommendations/{rec.id}",
    )
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        assert "Claimed workshop" not in response.text, page
    _answer(client, p["key_x"], claim, "confirm")
    assert "Claimed workshop" in client.get("/activities").text


def test_the_engagement_flow_can_record_an_activity_confirmed_by_both(session: Session) -> None:
    """The service records an activity with the other party's confirmation in one step."""
    from app.http.auth import Principal
    from app.models.activity import ActivityCreate
    from app.services import activities as activity_service

    x = make_provider(session)
    state = Principal(role="state", key_id="k-fra", state="FRA")
    provider = Principal(role="provider", key_id="k-x", provider_id=x.id)
    stranger = Principal(role="provider", key_id="k-y", provider_id="someone-else")
    data = ActivityCreate(provider_id=x.id, title="Agreed workshop", modality="training")
    row = activity_service.create_activity(session, principal=state, data=data, confirmed_by=provider)
    assert (row.confirmation, row.recorded_by_role, row.confirmed_by_role) == ("confirmed", "state", "provider")
    assert row.recorded_by_key_id == "k-fra" and row.confirmed_by_key_id == "k-x" and row.confirmed_at is not None
    for wrong in (state, stranger):
        try:
            activity_service.create_activity(session, principal=state, data=data, confirmed_by=wrong)
        except Exception as exc:  # noqa: BLE001 - the Problem raised is the point
            assert getattr(exc, "status", None) == 403
        else:
            raise AssertionError("a confirmation by the recorder itself or a stranger was accepted")
    session.rollback()
    assert len(session.exec(select(Activity)).all()) == 1
