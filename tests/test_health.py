"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi.testclient import TestClient


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


def test_readiness_is_503_when_a_check_fails(client: TestClient, app) -> None:  # type: ignore[no-untyped-def]
    app.state.ready_checks["matcher"] = lambda: {"ok": False, "detail": "index not loaded"}
    response = client.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["checks"]["matcher"] == {"ok": False, "detail": "index not loaded"}


def test_readiness_is_503_when_a_check_raises(client: TestClient, app) -> None:  # type: ignore[no-untyped-def]
    def broken() -> dict[str, object]:
        raise ConnectionError("refused")

    app.state.ready_checks["database"] = broken
    response = client.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == {"ok": False, "detail": "ConnectionError"}
