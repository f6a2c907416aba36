"""The audit trail: every write leaves exactly one row saying who, what and when, in its own transaction.

The walk below sends every write operation of the OpenAPI (with the bodies of
authz.yaml) as the first role allowed to make it, and checks the rows it added.
Read-only computations sent as POST add none; nothing can change or delete a row.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from app.models.audit import AuditEvent
from app.models.common import utcnow
from app.models.provider import Provider
from tests.factories import auth, make_key, make_need, make_provider
from tests.security.test_authz_matrix import ROLES, TABLE, _send, seed_world, write_operations
from tests.test_errors import assert_problem

# (resource, action) each write operation records; None: a read-only computation, no row.
AUDITED: dict[str, tuple[str, str] | None] = {
    "POST /v1/keys": ("key", "create"),
    "DELETE /v1/keys/{key_id}": ("key", "revoke"),
    "POST /v1/recommendations/import": ("recommendations", "import"),
    "POST /v1/recommendations/translations/{language}": ("recommendations", "import"),
    "POST /v1/providers": ("provider", "create"),
    "PATCH /v1/providers/{provider_id}": ("provider", "update"),
    "DELETE /v1/providers/{provider_id}": ("provider", "delete"),
    "POST /v1/needs": ("need", "create"),
    "PATCH /v1/needs/{need_id}": ("need", "update"),
    "DELETE /v1/needs/{need_id}": ("need", "delete"),
    "POST /v1/activities": ("activity", "create"),
    "PATCH /v1/activities/{activity_id}": ("activity", "update"),
    "DELETE /v1/activities/{activity_id}": ("activity", "delete"),
    "POST /v1/activities/{activity_id}/confirm": ("activity", "confirm"),
    "POST /v1/activities/{activity_id}/decline": ("activity", "decline"),
    "POST /v1/activities/{activity_id}/proposals/{proposal_id}/accept": ("activity_proposal", "accept"),
    "POST /v1/activities/{activity_id}/proposals/{proposal_id}/reject": ("activity_proposal", "reject"),
    "POST /v1/activities/{activity_id}/proposals/{proposal_id}/withdraw": ("activity_proposal", "withdraw"),
    "POST /v1/match": None,
    "POST /v1/recommendations/related": None,
    "POST /v1/needs/draft-from-text": None,
    "POST /v1/mappings": ("mapping", "create"),
    "PATCH /v1/mappings/{mapping_id}": ("mapping", "update"),
    "DELETE /v1/mappings/{mapping_id}": ("mapping", "delete"),
    "POST /v1/mappings/{mapping_id}/items/{item_number}/decision": ("mapping", "update"),
    "POST /v1/states/{iso3}/needs/draft": None,
    "POST /v1/classify": None,
    "POST /v1/needs/{need_id}/engagements": ("engagement", "create"),
    "POST /v1/engagements/{engagement_id}/accept": ("engagement", "accept"),
    "POST /v1/engagements/{engagement_id}/decline": ("engagement", "decline"),
    "POST /v1/engagements/{engagement_id}/withdraw": ("engagement", "withdraw"),
    "POST /v1/inbox/read": ("inbox", "read"),
    "POST /v1/subscriptions": ("subscription", "create"),
    "PATCH /v1/subscriptions/{subscription_id}": ("subscription", "update"),
    "DELETE /v1/subscriptions/{subscription_id}": ("subscription", "delete"),
    "POST /v1/webhooks": ("webhook", "create"),
    "PATCH /v1/webhooks/{webhook_id}": ("webhook", "update"),
    "DELETE /v1/webhooks/{webhook_id}": ("webhook", "delete"),
    "POST /v1/webhooks/{webhook_id}/test": ("webhook", "test"),
    "POST /v1/webhooks/{webhook_id}/deliveries/{delivery_id}/retry": ("webhook", "retry"),
}
# Writes that change more than their own object, each with its own row (by operation, or by one of its
# cases): accepting an engagement records the activity (confirmed by both) and moves the need to
# in_progress; accepting a proposal changes (case 0) or deletes (case 1) the activity.
ALSO_RECORDED = {
    "POST /v1/engagements/{engagement_id}/accept": [("activity", "create"), ("need", "update")],
    "POST /v1/activities/{activity_id}/proposals/{proposal_id}/accept [0]": [("activity", "update")],
    "POST /v1/activities/{activity_id}/proposals/{proposal_id}/accept [1]": [("activity", "delete")],
}
# Operations the test app can't complete (no trained tagger: 503); they write nothing anyway.
NOT_COMPLETED_HERE = {"POST /v1/classify"}


def _rows(session: Session) -> list[AuditEvent]:
    session.rollback()  # a fresh snapshot
    return list(session.exec(select(AuditEvent).order_by(col(AuditEvent.id))).all())


def test_every_write_operation_has_an_audit_decision(app: FastAPI) -> None:
    assert set(AUDITED) == write_operations(app), "a write operation was added or removed: decide its audit row"


def _walk_cases() -> list[Any]:
    return [
        pytest.param(op, i, id=f"{op} [{i}]")
        for op, variants in TABLE["operations"].items()
        for i in range(len(variants))
        if op in AUDITED
    ]


@pytest.mark.parametrize(("operation", "index"), _walk_cases())
def test_each_write_leaves_exactly_its_audit_row(
    client: TestClient, session: Session, operation: str, index: int
) -> None:
    case = TABLE["operations"][operation][index]
    if operation not in write_operations(client.app):  # type: ignore[arg-type]
        pytest.skip(f"{operation} is not in this app")
    role = next((r for r in ROLES if 200 <= case["expect"][r] < 300), None)
    ids, secrets = seed_world(session, activities=case.get("activities", True))
    before = len(_rows(session))
    if role is None:  # refused for everyone (e.g. a 409): then nothing is recorded
        response = _send(client, operation, case, "admin", ids, secrets)
        assert response.status_code >= 400
        assert len(_rows(session)) == before
        return
    response = _send(client, operation, case, role, ids, secrets)
    if operation in NOT_COMPLETED_HERE:
        assert len(_rows(session)) == before
        return
    assert 200 <= response.status_code < 300, response.text
    added = _rows(session)[before:]
    expected = AUDITED[operation]
    if expected is None:
        assert added == [], f"{operation} is read-only but recorded {len(added)} audit row(s)"
        return
    also = ALSO_RECORDED.get(f"{operation} [{index}]", ALSO_RECORDED.get(operation, []))
    assert len(added) == 1 + len(also), f"{operation} as {role} recorded {len(added)} audit rows"
    assert sorted((r.resource, r.action) for r in added) == sorted([expected, *also])
    assert all(r.actor_key_id == ids[f"{role}_key"] for r in added)
    row = next(r for r in added if (r.resource, r.action) == expected)
    assert row.actor_key_id == ids[f"{role}_key"] and row.actor_role == role.split("_")[0]
    assert utcnow() - timedelta(minutes=5) < row.at <= utcnow()
    body = response.json() if response.content else {}
    method = operation.split(" ", 1)[0]
    if operation.startswith("POST /v1/recommendations/import"):
        assert row.detail["inserted"] == body["inserted"] and row.detail["format"] == "jsonl"
        return
    if operation.startswith("POST /v1/recommendations/translations"):
        assert row.detail["translations"] == "fr" and row.detail["unknown"] == body["unknown"] == 1
        return
    target = (case.get("path") or {}).values()
    resource_id = ids.get(next(iter(target)), "") if target and row.action != "create" else body.get("id")
    if row.resource == "inbox":  # the inbox of the caller's party (admins share one: registration requests)
        resource_id = {"state_a": "state:FRA", "admin": "admin"}[role]
    assert row.resource_id == resource_id
    if row.resource == "key" or row.action in ("read", "test", "retry"):
        assert row.version_before is None and row.version_after is None
    elif method == "POST" and row.action == "create":
        assert (row.version_before, row.version_after) == (None, 1)
    elif method == "DELETE":
        assert (row.version_before, row.version_after) == (1, None)
    else:
        assert (row.version_before, row.version_after) == (1, 2) and body["version"] == 2


def test_an_update_records_the_fields_it_changed(client: TestClient, session: Session) -> None:
    need = make_need(session)
    _, fra = make_key(session, "state", state="FRA")
    response = client.patch(
        f"/v1/needs/{need.id}",
        json={"priority": "low", "description": "Advice on an independent investigation mechanism."},
        headers={**auth(fra), "If-Match": '"1"'},
    )
    assert response.status_code == 200, response.text
    row = _rows(session)[-1]
    assert row.detail == {"fields": ["description", "priority"]}


def test_a_failed_audit_write_undoes_the_change(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The row is written in the change's own transaction: no audit row, no change."""
    from app.services import audit

    provider = make_provider(session)
    _, admin = make_key(session, "admin")

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("audit table unavailable")

    monkeypatch.setattr(audit, "record", broken)
    response = client.patch(
        f"/v1/providers/{provider.id}", json={"acronym": "NEW"}, headers={**auth(admin), "If-Match": '"1"'}
    )
    assert response.status_code == 500
    session.rollback()
    stored = session.get(Provider, provider.id)
    assert stored is not None and stored.acronym != "NEW" and stored.version == 1
    assert _rows(session) == []


def _audit(client: TestClient, key: str | None, **params: Any) -> Any:
    return client.get("/v1/audit", params=params, headers=auth(key) if key else {})


def test_admins_read_the_trail_with_filters_and_pages(client: TestClient, session: Session) -> None:
    _, admin = make_key(session, "admin")
    admin_row, _ = make_key(session, "admin", name="second admin")
    _, fra = make_key(session, "state", state="FRA")
    _, provider_key = make_key(session, "provider")
    assert_problem(_audit(client, None), 401)
    assert_problem(_audit(client, fra), 403)
    assert_problem(_audit(client, provider_key), 403)

    created = client.post("/v1/keys", json={"name": "Kenya", "role": "state", "state": "KEN"}, headers=auth(admin))
    key_id = created.json()["id"]
    assert client.delete(f"/v1/keys/{key_id}", headers=auth(admin)).status_code == 200
    provider = make_provider(session)
    client.patch(f"/v1/providers/{provider.id}", json={"acronym": "P"}, headers={**auth(admin), "If-Match": '"1"'})

    everything = _audit(client, admin).json()
    assert everything["total"] == 3 and everything["limit"] == 20 and everything["offset"] == 0
    assert [e["action"] for e in everything["items"]] == ["update", "revoke", "create"]  # newest first
    first = everything["items"][-1]
    assert first["resource"] == "key" and first["resource_id"] == key_id and first["actor_role"] == "admin"
    assert first["actor_name"] == "admin test key" and first["actor_key_id"] != admin_row.id

    def ids(**params: Any) -> list[str]:
        response = _audit(client, admin, **params)
        assert response.status_code == 200, response.text
        return [e["action"] for e in response.json()["items"]]

    assert ids(resource="key") == ["revoke", "create"]
    assert ids(resource="key", action="revoke") == ["revoke"]
    assert ids(resource_id=provider.id) == ["update"]
    assert ids(actor_key_id=first["actor_key_id"]) == ["update", "revoke", "create"]
    assert ids(actor_key_id=admin_row.id) == []
    assert ids(limit=1, offset=1) == ["revoke"]
    at = everything["items"][1]["at"]
    assert ids(since=at) == ["update", "revoke"]
    assert ids(until=at) == ["revoke", "create"]
    assert ids(since="2999-01-01T00:00:00Z") == []

    for params, field in (
        ({"since": "2026-01-01T00:00:00"}, "since"),
        ({"since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, "until"),
        ({"resource": "everything"}, "resource"),
        ({"action": "erase"}, "action"),
    ):
        problem = assert_problem(_audit(client, admin, **params), 422)
        assert problem["errors"][0]["pointer"] == f"/query/{field}", problem


def test_the_trail_has_no_write_path(app: FastAPI) -> None:
    paths = {p: set(item) for p, item in app.openapi()["paths"].items() if p.startswith("/v1/audit")}
    assert paths == {"/v1/audit": {"get"}}


@pytest.mark.parametrize("statement", ["UPDATE audit_event SET action = 'erase'", "DELETE FROM audit_event"])
def test_the_database_refuses_to_change_or_delete_audit_rows(
    client: TestClient, session: Session, engine: Engine, statement: str
) -> None:
    _, admin = make_key(session, "admin")
    client.post("/v1/keys", json={"name": "Kenya", "role": "state", "state": "KEN"}, headers=auth(admin))
    before = [(r.id, r.action) for r in _rows(session)]
    assert before
    with pytest.raises(Exception, match="append-only"), engine.begin() as conn:
        conn.execute(text(statement))
    assert [(r.id, r.action) for r in _rows(session)] == before


def test_command_line_writes_are_recorded_as_the_system(
    db_url: str, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.cli import cli
    from app.core.config import get_settings

    monkeypatch.setenv("DATABASE_URL", db_url)
    get_settings.cache_clear()
    try:
        created = CliRunner().invoke(cli, ["keys", "create", "--role", "admin", "--name", "Operator"])
        assert created.exit_code == 0, created.output
        key_id = created.stderr.split()[2]
        assert CliRunner().invoke(cli, ["keys", "revoke", key_id]).exit_code == 0
    finally:
        get_settings.cache_clear()
    rows = _rows(session)
    assert [(r.resource, r.resource_id, r.action, r.actor_role, r.actor_key_id) for r in rows] == [
        ("key", key_id, "create", "system", None),
        ("key", key_id, "revoke", "system", None),
    ]
    assert rows[0].actor_name == "command line"


def test_web_sign_in_and_sign_out_are_recorded(app: FastAPI, session: Session) -> None:
    from tests.web.conftest import csrf_from, sign_in

    row, key = make_key(session, "state", state="FRA")
    _, admin = make_key(session, "admin")
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as browser:
        token = csrf_from(browser.get("/signin").text)
        assert browser.post("/signin", data={"api_key": "upr_00000000_wrong", "csrf_token": token}).status_code == 400
        sign_in(browser, key)
        assert browser.post("/signout", data={"csrf_token": csrf_from(browser.get("/").text)}).status_code == 303
        browser.cookies.clear()
        trail = browser.get("/v1/audit", params={"resource": "session"}, headers=auth(admin)).json()["items"]
    assert [(e["action"], e["actor_key_id"], e["actor_role"]) for e in trail] == [
        ("sign_out", row.id, "state"),
        ("sign_in", row.id, "state"),
    ]
    assert trail[0]["resource_id"] == trail[1]["resource_id"]  # the same session, never its cookie's id
