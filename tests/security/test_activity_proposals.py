"""A confirmed activity is the parties' shared record: one party proposes, the other agrees.

A party's edit of a confirmed activity is a proposal the other party accepts or rejects,
and deleting it is a request the other party accepts or rejects; until then the confirmed
version stays public and unchanged. The versions are kept, readable by both parties and
admins only.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.factories import auth
from tests.security.test_activity_confirmation import BODY, _parties
from tests.test_errors import assert_problem


def _confirmed(client: TestClient, p: dict[str, Any]) -> dict[str, Any]:
    """An activity the State recorded and provider X confirmed."""
    claim = client.post("/v1/activities", json={**BODY, "provider_id": p["x"].id}, headers=auth(p["fra"]))
    assert claim.status_code == 201, claim.text
    url = f"/v1/activities/{claim.json()['id']}/confirm"
    confirmed = client.post(url, headers={**auth(p["key_x"]), "If-Match": '"1"'})
    assert confirmed.status_code == 200, confirmed.text
    return confirmed.json()  # type: ignore[no-any-return]


def _if_match(key: str, version: int) -> dict[str, str]:
    return {**auth(key), "If-Match": f'"{version}"'}


def _proposals(client: TestClient, key: str, activity_id: str) -> list[dict[str, Any]]:
    response = client.get(f"/v1/activities/{activity_id}/proposals", headers=auth(key))
    assert response.status_code == 200, response.text
    return response.json()["items"]  # type: ignore[no-any-return]


def _versions(client: TestClient, key: str, activity_id: str) -> list[dict[str, Any]]:
    response = client.get(f"/v1/activities/{activity_id}/versions", headers=auth(key))
    assert response.status_code == 200, response.text
    return response.json()["items"]  # type: ignore[no-any-return]


def _answer(client: TestClient, key: str, proposal: dict[str, Any], verb: str, **body: Any) -> Any:
    url = f"/v1/activities/{proposal['activity_id']}/proposals/{proposal['id']}/{verb}"
    return client.post(url, json=body or None, headers=_if_match(key, proposal["version"]))


def _seen_by_all(client: TestClient, p: dict[str, Any], record: dict[str, Any]) -> None:
    """The State, the admin and the public read the record exactly as it was confirmed."""
    url = f"/v1/activities/{record['id']}"
    for key in (p["fra"], p["admin"], None):
        seen = client.get(url, headers=auth(key) if key else {})
        assert seen.status_code == 200, (key, seen.text)
        body = seen.json()
        assert body["title"] == record["title"] and body["confirmation"] == "confirmed"
        assert body["version"] == record["version"] and body["recorded_by"] == record["recorded_by"]
    assert record["id"] in {a["id"] for a in client.get("/v1/activities").json()["items"]}


def test_one_party_cannot_erase_a_confirmed_activity_by_editing_then_deleting_it(
    client: TestClient, session: Session
) -> None:
    """The outside test's path: the provider PATCHes a new title, then DELETEs; the record survives, unchanged."""
    p = _parties(session)
    record = _confirmed(client, p)
    url = f"/v1/activities/{record['id']}"
    edited = client.patch(url, json={"title": "Something else entirely"}, headers=_if_match(p["key_x"], 2))
    assert edited.status_code == 202, edited.text
    change = edited.json()
    assert edited.headers["location"] == f"{url}/proposals/{change['id']}"
    assert (change["kind"], change["status"], change["proposed_by"]) == ("change", "pending", "provider")
    assert change["changes"] == {"title": "Something else entirely"} and change["base_version"] == 2
    _seen_by_all(client, p, record)
    # Deleting while the change waits: one proposal at a time.
    busy = assert_problem(client.delete(url, headers=_if_match(p["key_x"], 2)), 409)
    assert busy["existing_id"] == change["id"]
    assert _answer(client, p["key_x"], change, "withdraw").json()["status"] == "withdrawn"
    deleted = client.delete(url, headers=_if_match(p["key_x"], 2))
    assert deleted.status_code == 202, deleted.text
    assert (deleted.json()["kind"], deleted.json()["status"]) == ("deletion", "pending")
    _seen_by_all(client, p, record)
    assert [v["number"] for v in _versions(client, p["fra"], record["id"])] == [1]


def test_an_accepted_change_is_the_new_confirmed_version(client: TestClient, session: Session) -> None:
    p = _parties(session)
    record = _confirmed(client, p)
    url = f"/v1/activities/{record['id']}"
    proposed = client.patch(
        url,
        json={"title": "Training of prison and police staff", "outcomes": "Forty officers."},
        headers=_if_match(p["fra"], 2),
    ).json()
    # The proposer may not accept its own proposal; the other party does.
    assert_problem(_answer(client, p["fra"], proposed, "accept"), 403)
    accepted = _answer(client, p["key_x"], proposed, "accept")
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "accepted" and accepted.json()["answered_by"] == "provider"
    assert accepted.headers["etag"] == '"2"'
    for key in (p["fra"], p["admin"], None):
        body = client.get(url, headers=auth(key) if key else {}).json()
        assert body["title"] == "Training of prison and police staff" and body["outcomes"] == "Forty officers."
        assert (body["confirmation"], body["recorded_by"], body["confirmed_by"]) == ("confirmed", "state", "provider")
    versions = _versions(client, p["key_x"], record["id"])
    assert [v["number"] for v in versions] == [1, 2]
    first, second = versions
    assert first["content"]["title"] == BODY["title"] and first["recorded_by"] == "state"
    assert first["accepted_by"] == "provider" and first["origin"] == "recorded"
    assert second["origin"] == "proposal" and second["proposal_id"] == proposed["id"]
    assert sorted(second["changed"]) == ["outcomes", "title"]
    assert (second["recorded_by"], second["accepted_by"]) == ("state", "provider") and second["accepted_at"]
    assert _versions(client, p["admin"], record["id"]) == versions == _versions(client, p["fra"], record["id"])
    # Answered: no second answer.
    assert_problem(_answer(client, p["key_x"], accepted.json(), "reject"), 409)


def test_a_rejected_change_leaves_the_record_as_confirmed(client: TestClient, session: Session) -> None:
    p = _parties(session)
    record = _confirmed(client, p)
    proposed = client.patch(
        f"/v1/activities/{record['id']}", json={"status": "planned"}, headers=_if_match(p["key_x"], 2)
    ).json()
    assert_problem(_answer(client, p["fra"], {**proposed, "version": 7}, "reject"), 412)
    rejected = _answer(client, p["fra"], proposed, "reject", message="It took place in full.")
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["status"] == "rejected" and rejected.json()["answer_message"] == "It took place in full."
    _seen_by_all(client, p, record)
    assert len(_versions(client, p["fra"], record["id"])) == 1
    assert [(x["id"], x["status"]) for x in _proposals(client, p["key_x"], record["id"])] == [
        (proposed["id"], "rejected")
    ]


def test_a_deletion_needs_the_other_partys_agreement(client: TestClient, session: Session) -> None:
    p = _parties(session)
    record = _confirmed(client, p)
    url = f"/v1/activities/{record['id']}"
    request = client.delete(url, headers=_if_match(p["fra"], 2)).json()
    assert request["kind"] == "deletion"
    assert _answer(client, p["key_x"], request, "reject").json()["status"] == "rejected"
    _seen_by_all(client, p, record)
    request = client.delete(url, headers=_if_match(p["fra"], 2)).json()
    assert_problem(_answer(client, p["key_x"], request, "withdraw"), 403)  # only the proposer withdraws
    accepted = _answer(client, p["key_x"], request, "accept")
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    for key in (p["fra"], p["key_x"], p["admin"], None):
        assert client.get(url, headers=auth(key) if key else {}).status_code == 404


def test_proposals_and_versions_are_for_the_parties_and_admins_only(client: TestClient, session: Session) -> None:
    p = _parties(session)
    record = _confirmed(client, p)
    proposal = client.patch(
        f"/v1/activities/{record['id']}", json={"outcomes": "Done."}, headers=_if_match(p["key_x"], 2)
    ).json()
    base = f"/v1/activities/{record['id']}"
    reads = (f"{base}/proposals", f"{base}/proposals/{proposal['id']}", f"{base}/versions")
    for url in reads:
        assert client.get(url).status_code == 401
        for stranger in (p["key_y"], p["ken"]):
            assert_problem(client.get(url, headers=auth(stranger)), 403)  # the activity is public, its history not
        for party in (p["key_x"], p["fra"], p["admin"]):
            assert client.get(url, headers=auth(party)).status_code == 200
    for stranger in (p["key_y"], p["ken"]):
        for verb in ("accept", "reject", "withdraw"):
            assert_problem(_answer(client, stranger, proposal, verb), 403)
    assert client.post(f"{base}/proposals/{proposal['id']}/accept", headers={"If-Match": '"1"'}).status_code == 401
    # A planned activity is not public: to strangers its history does not exist either.
    planned = client.post(
        "/v1/activities", json={**BODY, "status": "planned", "provider_id": p["x"].id}, headers=auth(p["fra"])
    ).json()
    for stranger in (p["key_y"], p["ken"]):
        assert_problem(client.get(f"/v1/activities/{planned['id']}/versions", headers=auth(stranger)), 404)
    assert proposal["id"] in {x["id"] for x in _proposals(client, p["fra"], record["id"])}


def test_an_unconfirmed_claim_keeps_its_rules(client: TestClient, session: Session) -> None:
    """Before confirmation a party's edit is a new claim, and the recorder withdraws it by deleting it."""
    p = _parties(session)
    claim = client.post("/v1/activities", json={**BODY, "state": "FRA"}, headers=auth(p["key_x"])).json()
    url = f"/v1/activities/{claim['id']}"
    edited = client.patch(url, json={"title": "Training of judges"}, headers=_if_match(p["fra"], 1))
    assert edited.status_code == 200 and edited.json()["recorded_by"] == "state"
    versions = _versions(client, p["key_x"], claim["id"])
    assert [(v["number"], v["origin"], v["recorded_by"], v["accepted_by"]) for v in versions] == [
        (1, "recorded", "provider", None),
        (2, "edited", "state", None),
    ]
    assert versions[1]["changed"] == ["title"]
    assert client.delete(url, headers=_if_match(p["fra"], 2)).status_code == 204
