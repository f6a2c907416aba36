"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.factories import auth, make_key


def test_liveness_is_ok(client: TestClient) -> None:
    response = client.get("/health/live")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_readiness_reports_database(client: TestClient) -> None:
    response = client.get("/health/ready")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"] is True


def test_readiness_is_503_when_a_check_fails(client: TestClient, app, session: Session) -> None:  # type: ignore[no-untyped-def]
    _, admin = make_key(session, "admin")  # the reason is for admins; others see the ok flag
    app.state.ready_checks["matcher"] = lambda: {"ok": False, "detail": "index not loaded"}
    response = client.get("/health/ready", headers=auth(admin))
    assert response.status_code == 503
    assert response.json()["checks"]["matcher"] == {"ok": False, "detail": "index not loaded"}


def test_readiness_is_503_when_a_check_raises(client: TestClient, app, session: Session) -> None:  # type: ignore[no-untyped-def]
    _, admin = make_key(session, "admin")

    def broken() -> dict[str, object]:
        raise ConnectionError("refused")

    app.state.ready_checks["database"] = broken
    response = client.get("/health/ready", headers=auth(admin))
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == {"ok": False, "detail": "ConnectionError"}
    assert client.get("/health/ready").json()["checks"]["database"] == {"ok": False}
