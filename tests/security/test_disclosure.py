"""What a caller learns about needs it may not see: nothing, not even how many there are or their ids.

Counts of the match index, the readiness probe's details and the need links of
public activities are reported only as far as the caller may see.
"""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.factories import auth, make_activity, make_key, make_need, make_provider


def test_provider_matches_count_only_the_needs_the_caller_may_see(client: TestClient, session: Session) -> None:
    provider = make_provider(session)
    make_need(session)
    make_need(session, visibility="providers")
    make_need(session, visibility="state_only")
    make_need(session, visibility="state_only", status="closed")
    url = f"/v1/providers/{provider.id}/matches"
    _, provider_key = make_key(session, "provider", provider_id=provider.id)
    _, fra = make_key(session, "state", state="FRA")
    _, admin = make_key(session, "admin")
    # Open needs each may see: the public one; + the providers' one; + FRA's own; everything open.
    for key, expected in ((None, 1), (provider_key, 2), (fra, 3), (admin, 3)):
        response = client.get(url, headers=auth(key) if key else {})
        assert response.status_code == 200, response.text
        assert response.json()["engine"]["documents"] == expected, key


def test_readiness_details_are_for_admins_only(client: TestClient, session: Session) -> None:
    need = make_need(session, visibility="state_only")
    make_provider(session)
    _, admin = make_key(session, "admin")
    _, fra = make_key(session, "state", state="FRA")
    client.get(f"/v1/needs/{need.id}/matches", headers=auth(admin))  # the index follows the new rows
    for headers in ({}, auth(fra)):
        response = client.get("/health/ready", headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["status"] == "ok"
        assert body["checks"] and all(check == {"ok": True} for check in body["checks"].values()), body
    detailed = client.get("/health/ready", headers=auth(admin)).json()["checks"]
    assert detailed["matcher"]["needs"] == 1 and "log_position" in detailed["matcher"]
    assert detailed["database"]["backend"] in {"sqlite", "postgresql"}


def test_a_failing_check_reports_its_reason_to_admins_only(client: TestClient, app, session: Session) -> None:  # type: ignore[no-untyped-def]
    _, admin = make_key(session, "admin")
    app.state.ready_checks["matcher"] = lambda: {"ok": False, "detail": "index not loaded", "needs": 7}
    anonymous = client.get("/health/ready")
    assert anonymous.status_code == 503
    assert anonymous.json()["checks"]["matcher"] == {"ok": False}
    detailed = client.get("/health/ready", headers=auth(admin))
    assert detailed.status_code == 503
    assert detailed.json()["checks"]["matcher"] == {"ok": False, "detail": "index not loaded", "needs": 7}


def test_a_public_activity_names_a_hidden_need_only_to_those_who_may_see_it(
    client: TestClient, session: Session
) -> None:
    provider = make_provider(session)
    hidden = make_need(session, visibility="state_only")
    public = make_need(session)
    linked_hidden = make_activity(session, provider, need_id=hidden.id, title="Linked to a private need")
    linked_public = make_activity(session, provider, need_id=public.id)
    _, fra = make_key(session, "state", state="FRA")
    _, ken = make_key(session, "state", state="KEN")
    for key, sees in ((None, False), (ken, False), (fra, True)):
        headers = auth(key) if key else {}
        one = client.get(f"/v1/activities/{linked_hidden.id}", headers=headers).json()
        assert one["need_id"] == (hidden.id if sees else None)
        listed = {a["id"]: a["need_id"] for a in client.get("/v1/activities", headers=headers).json()["items"]}
        assert listed == {linked_hidden.id: hidden.id if sees else None, linked_public.id: public.id}
        by_need = client.get("/v1/activities", params={"need_id": hidden.id}, headers=headers).json()
        assert by_need["total"] == (1 if sees else 0)
    page = client.get("/activities").text
    assert "Linked to a private need" in page and hidden.id not in page
