"""API keys: admin-only management, hashing, revocation, and authentication failures."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session

from tests.factories import auth, make_key
from tests.test_errors import assert_problem


def test_admin_creates_state_key_that_authenticates(client: TestClient, session: Session) -> None:
    _, admin = make_key(session, "admin")
    response = client.post(
        "/v1/keys", json={"name": "Kenya mission", "role": "state", "state": "ken"}, headers=auth(admin)
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["state"] == "KEN" and body["role"] == "state"
    assert body["key"].startswith("upr_" + body["prefix"] + "_")
    listed = client.get("/v1/keys", headers=auth(body["key"]))
    assert_problem(listed, 403)


def test_keys_are_stored_only_as_hashes(client: TestClient, session: Session) -> None:
    _, admin = make_key(session, "admin")
    secret = client.post("/v1/keys", json={"name": "n", "role": "admin"}, headers=auth(admin)).json()["key"]
    rows = session.exec(text("SELECT * FROM api_key")).all()  # type: ignore[call-overload]
    dump = repr([tuple(r) for r in rows])
    assert secret not in dump
    assert admin not in dump
    assert secret.split("_", 2)[2] not in dump


def test_list_keys_never_shows_secrets(client: TestClient, session: Session) -> None:
    _, admin = make_key(session, "admin")
    body = client.get("/v1/keys", headers=auth(admin)).json()
    assert body["total"] == 1 and body["limit"] == 20 and body["offset"] == 0
    assert "key" not in body["items"][0] and "key_hash" not in body["items"][0]


def test_revoked_key_is_refused_at_once(client: TestClient, session: Session) -> None:
    _, admin = make_key(session, "admin")
    other, other_secret = make_key(session, "admin", name="to revoke")
    assert client.get("/v1/keys", headers=auth(other_secret)).status_code == 200
    response = client.delete(f"/v1/keys/{other.id}", headers=auth(admin))
    assert response.status_code == 200 and response.json()["revoked_at"]
    body = assert_problem(client.get("/v1/keys", headers=auth(other_secret)), 401)
    assert "revoked" in body["detail"]


@pytest.mark.parametrize(
    "header",
    [
        "Bearer nonsense",
        "Bearer upr_00000000_doesnotexist",
        "Basic dXNlcjpwYXNz",
        "Bearer ",
        "Bearer upr_zz_short",
    ],
)
def test_bad_credentials_are_401(client: TestClient, session: Session, header: str) -> None:
    response = client.get("/v1/keys", headers={"Authorization": header})
    assert_problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_missing_key_is_401(client: TestClient) -> None:
    assert_problem(client.get("/v1/keys"), 401)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "role": "state"}, "state"),
        ({"name": "x", "role": "state", "state": "XXX"}, "state"),
        ({"name": "x", "role": "provider", "provider_id": "no-such-provider"}, "provider_id"),
        ({"name": "x", "role": "admin", "state": "FRA"}, "state"),
        ({"name": "x", "role": "root"}, "role"),
        ({"name": "", "role": "admin"}, "name"),
        ({"name": "x", "role": "admin", "id": "chosen"}, "id"),
    ],
)
def test_create_key_names_the_bad_field(client: TestClient, session: Session, body: dict, field: str) -> None:  # type: ignore[type-arg]
    _, admin = make_key(session, "admin")
    problem = assert_problem(client.post("/v1/keys", json=body, headers=auth(admin)), 422)
    assert field in {e["field"] for e in problem["errors"]}


def test_revoke_unknown_key_is_404(client: TestClient, session: Session) -> None:
    _, admin = make_key(session, "admin")
    assert_problem(client.delete("/v1/keys/not-a-key", headers=auth(admin)), 404)
