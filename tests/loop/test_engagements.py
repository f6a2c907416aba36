"""Engagements: a State asks, a provider offers, the other party answers; what an acceptance records."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.models.audit import AuditEvent
from app.models.events import OutboxEvent
from tests.factories import make_need
from tests.loop.helpers import etag, seed_loop


def _ask(client: TestClient, loop, role: str = "fra", **body: str):  # type: ignore[no-untyped-def]
    payload = {"provider_id": loop.x.id, "message": "Could you train our prison staff?", **body}
    if role in ("x", "y"):
        payload.pop("provider_id")
    return client.post(f"/v1/needs/{loop.need.id}/engagements", headers=loop.h(role), json=payload)


def test_a_state_asks_a_provider_and_a_second_open_request_points_at_the_first(
    client: TestClient, session: Session
) -> None:
    loop = seed_loop(session)
    first = _ask(client, loop)
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["direction"] == "invitation" and body["status"] == "proposed" and body["initiated_by"] == "state"
    assert first.headers["location"] == f"/v1/engagements/{body['id']}" and first.headers["etag"] == '"1"'
    again = _ask(client, loop)
    assert again.status_code == 409
    assert again.json()["existing_id"] == body["id"] and again.headers["content-type"] == "application/problem+json"
    # The provider offering on the same pair meets the same open engagement.
    offer = _ask(client, loop, role="x")
    assert offer.status_code == 409 and offer.json()["existing_id"] == body["id"]


def test_a_provider_offers_help_and_the_state_accepts(client: TestClient, session: Session) -> None:
    loop = seed_loop(session)
    offer = _ask(client, loop, role="y")
    assert offer.status_code == 201 and offer.json()["direction"] == "offer"
    eid = offer.json()["id"]
    # The provider that offered may not accept its own offer.
    tag = etag(client, f"/v1/engagements/{eid}", loop.h("y"))
    assert client.post(f"/v1/engagements/{eid}/accept", headers=loop.h("y", **{"If-Match": tag})).status_code == 403
    accepted = client.post(f"/v1/engagements/{eid}/accept", headers=loop.h("fra", **{"If-Match": tag}), json={})
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["answered_by"] == "state" and accepted.headers["etag"] == '"2"'


def test_accepting_records_a_confirmed_planned_activity_and_moves_the_need_in_progress(
    client: TestClient, session: Session
) -> None:
    loop = seed_loop(session)
    eid = _ask(client, loop).json()["id"]
    tag = etag(client, f"/v1/engagements/{eid}", loop.h("x"))
    accepted = client.post(
        f"/v1/engagements/{eid}/accept", headers=loop.h("x", **{"If-Match": tag}), json={"message": "Gladly."}
    ).json()
    assert accepted["status"] == "accepted" and accepted["answer_message"] == "Gladly."
    activity = client.get(f"/v1/activities/{accepted['activity_id']}", headers=loop.h("fra")).json()
    assert activity["confirmation"] == "confirmed" and activity["status"] == "planned"
    assert (activity["provider_id"], activity["state"], activity["need_id"]) == (loop.x.id, "FRA", loop.need.id)
    assert activity["recommendation_ids"] == client.get(f"/v1/needs/{loop.need.id}").json()["recommendation_ids"]
    assert activity["recorded_by"] == "state" and activity["confirmed_by"] == "provider"
    assert activity["modality"] == "legal_review"  # what the need asks and the provider offers
    # Confirmed on both sides: each party lists it among its confirmed activities.
    for role in ("fra", "x"):
        listed = client.get("/v1/activities?confirmation=confirmed", headers=loop.h(role)).json()["items"]
        assert accepted["activity_id"] in {a["id"] for a in listed}
    need = client.get(f"/v1/needs/{loop.need.id}").json()
    assert need["status"] == "in_progress" and need["version"] == 2
    session.rollback()  # a fresh snapshot: the API wrote after this session's last read
    actions = {(r.resource, r.action) for r in session.exec(select(AuditEvent)).all()}
    assert {("engagement", "create"), ("engagement", "accept"), ("activity", "create"), ("need", "update")} <= actions


def test_wrong_transitions_are_409_naming_the_status_and_writes_need_if_match(
    client: TestClient, session: Session
) -> None:
    loop = seed_loop(session)
    eid = _ask(client, loop).json()["id"]
    assert (
        client.post(f"/v1/engagements/{eid}/decline", headers=loop.h("x"), json={"reason": "timing"}).status_code == 428
    )
    stale = client.post(
        f"/v1/engagements/{eid}/decline", headers=loop.h("x", **{"If-Match": '"7"'}), json={"reason": "timing"}
    )
    assert stale.status_code == 412
    declined = client.post(
        f"/v1/engagements/{eid}/decline", headers=loop.h("x", **{"If-Match": '"1"'}), json={"reason": "timing"}
    )
    assert declined.status_code == 200 and declined.json()["decline_reason"] == "timing"
    late = client.post(f"/v1/engagements/{eid}/accept", headers=loop.h("x", **{"If-Match": '"2"'}))
    assert late.status_code == 409 and late.json()["status"] == "declined" and "declined" in late.json()["detail"]
    withdraw = client.post(f"/v1/engagements/{eid}/withdraw", headers=loop.h("fra", **{"If-Match": '"2"'}))
    assert withdraw.status_code == 409
    # Declined: the pair is free again.
    assert _ask(client, loop).status_code == 201


def test_the_initiator_withdraws(client: TestClient, session: Session) -> None:
    loop = seed_loop(session)
    eid = _ask(client, loop).json()["id"]
    assert client.post(f"/v1/engagements/{eid}/withdraw", headers=loop.h("x", **{"If-Match": '"1"'})).status_code == 403
    done = client.post(f"/v1/engagements/{eid}/withdraw", headers=loop.h("fra", **{"If-Match": '"1"'}))
    assert done.status_code == 200 and done.json()["status"] == "withdrawn"


def test_bad_requests_name_the_field(client: TestClient, session: Session) -> None:
    loop = seed_loop(session)
    long = client.post(
        f"/v1/needs/{loop.need.id}/engagements",
        headers=loop.h("fra"),
        json={"provider_id": loop.x.id, "message": "x" * 5001},
    )
    assert long.status_code == 422 and long.json()["errors"][0]["pointer"] == "/body/message"
    blank = client.post(
        f"/v1/needs/{loop.need.id}/engagements", headers=loop.h("fra"), json={"provider_id": loop.x.id, "message": "  "}
    )
    assert blank.status_code == 422 and blank.json()["errors"][0]["pointer"] == "/body/message"
    missing = client.post(f"/v1/needs/{loop.need.id}/engagements", headers=loop.h("fra"), json={"message": "Hi"})
    assert missing.status_code == 422 and missing.json()["errors"][0]["pointer"] == "/body/provider_id"
    unknown = _ask(client, loop, provider_id="no-such-provider")
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["pointer"] == "/body/provider_id"
    bad_reason = client.post(
        "/v1/engagements/whatever/decline", headers=loop.h("x", **{"If-Match": '"1"'}), json={"reason": "bored"}
    )
    assert bad_reason.status_code == 422 and bad_reason.json()["errors"][0]["pointer"] == "/body/reason"
    closed = make_need(session, state="FRA", status="closed")
    refused = client.post(
        f"/v1/needs/{closed.id}/engagements", headers=loop.h("fra"), json={"provider_id": loop.x.id, "message": "Hi"}
    )
    assert refused.status_code == 409


def test_engagements_are_seen_by_their_parties_only_and_never_publicly(client: TestClient, session: Session) -> None:
    loop = seed_loop(session)
    eid = _ask(client, loop, message="Our confidential plan").json()["id"]
    client.post(
        f"/v1/engagements/{eid}/decline", headers=loop.h("x", **{"If-Match": '"1"'}), json={"reason": "out_of_scope"}
    )
    for role, status in (("fra", 200), ("x", 200), ("admin", 200), ("ken", 404), ("y", 404), ("unbound", 404)):
        assert client.get(f"/v1/engagements/{eid}", headers=loop.h(role)).status_code == status, role
    assert client.get(f"/v1/engagements/{eid}").status_code == 401
    assert client.get("/v1/engagements", headers=loop.h("y")).json()["total"] == 0
    # Nothing public mentions it: the need, its matches, the activities, the pages.
    for path in (
        f"/v1/needs/{loop.need.id}",
        f"/v1/needs/{loop.need.id}/matches",
        "/v1/activities",
        f"/needs/{loop.need.id}",
    ):
        text = client.get(path).text
        assert "confidential plan" not in text and "out_of_scope" not in text and eid not in text, path


def test_list_filters(client: TestClient, session: Session) -> None:
    loop = seed_loop(session)
    asked = _ask(client, loop).json()["id"]
    offered = _ask(client, loop, role="y").json()["id"]
    mine = client.get("/v1/engagements", headers=loop.h("fra")).json()
    assert [e["id"] for e in mine["items"]] == [offered, asked]  # newest first
    assert [e["id"] for e in client.get("/v1/engagements?direction=offer", headers=loop.h("fra")).json()["items"]] == [
        offered
    ]
    filtered = client.get(f"/v1/engagements?provider_id={loop.x.id}&status=proposed", headers=loop.h("admin")).json()
    assert [e["id"] for e in filtered["items"]] == [asked]
    assert client.get(f"/v1/engagements?need_id={loop.need.id}", headers=loop.h("x")).json()["total"] == 1
    assert client.get("/v1/engagements?status=nonsense", headers=loop.h("x")).status_code == 422


def test_every_write_emits_one_event_in_its_transaction(client: TestClient, session: Session) -> None:
    loop = seed_loop(session)
    eid = _ask(client, loop).json()["id"]
    refused = _ask(client, loop)  # a refused write leaves no event
    assert refused.status_code == 409
    client.post(f"/v1/engagements/{eid}/accept", headers=loop.h("x", **{"If-Match": '"1"'}))
    session.rollback()
    kinds = [e.type for e in session.exec(select(OutboxEvent).order_by(OutboxEvent.id)).all()]
    assert kinds == ["engagement.proposed", "activity.recorded", "engagement.accepted"]


def test_idempotency_key_replays_a_create(client: TestClient, session: Session) -> None:
    loop = seed_loop(session)
    headers = loop.h("fra", **{"Idempotency-Key": "ask-x-once"})
    body = {"provider_id": loop.x.id, "message": "Could you help?"}
    first = client.post(f"/v1/needs/{loop.need.id}/engagements", headers=headers, json=body)
    again = client.post(f"/v1/needs/{loop.need.id}/engagements", headers=headers, json=body)
    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true" and again.json()["id"] == first.json()["id"]


def test_the_worker_command_does_one_round_with_once(client: TestClient, session: Session, db_url: str) -> None:
    from tests.conftest import run_cli

    loop = seed_loop(session)
    _ask(client, loop)
    result = run_cli(["worker", "--once"], database_url=db_url)
    assert result.exit_code == 0, result.output
    assert "processed 1 events, 0 deliveries, 0 e-mails" in result.output
    assert client.get("/v1/inbox", headers=loop.h("x")).json()["total"] == 1
