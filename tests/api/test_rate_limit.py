"""Per-client rate limit, hourly create quota and the failed-authentication brake (fake clock)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from app.config import Settings
from app.main import create_app
from tests.test_errors import assert_problem


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000_020.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def limited(settings: Settings, engine: Engine, clock: FakeClock) -> Iterator[TestClient]:
    tight = settings.model_copy(
        update={"RATE_LIMIT_PER_MINUTE": 5, "WRITE_QUOTA_PER_HOUR": 3, "AUTH_FAILURES_PER_MINUTE": 4}
    )
    with TestClient(create_app(tight, engine=engine, clock=clock), raise_server_exceptions=False) as client:
        yield client


def test_headers_count_down_then_429_with_retry_after(limited: TestClient, clock: FakeClock) -> None:
    remaining = []
    for _ in range(5):
        response = limited.get("/v1/keys")
        assert response.headers["x-ratelimit-limit"] == "5"
        remaining.append(int(response.headers["x-ratelimit-remaining"]))
    assert remaining == [4, 3, 2, 1, 0]
    refused = limited.get("/v1/keys")
    body = assert_problem(refused, 429)
    assert body["code"] == "RATE_LIMITED"
    assert 0 < int(refused.headers["retry-after"]) <= 60
    clock.now += 61
    assert limited.get("/v1/keys").status_code == 401  # a new window: let through (and refused for no key)


def test_health_is_not_rate_limited(limited: TestClient) -> None:
    for _ in range(10):
        assert limited.get("/health/live").status_code == 200


def test_failed_authentications_are_braked(limited: TestClient) -> None:
    for i in range(4):
        assert limited.get("/v1/keys", headers={"Authorization": f"Bearer upr_0000000{i}_wrong"}).status_code == 401
    refused = limited.get("/v1/keys", headers={"Authorization": "Bearer upr_00000009_wrong"})
    assert_problem(refused, 429)
    assert int(refused.headers["retry-after"]) > 0


def test_create_quota_per_hour(limited: TestClient, clock: FakeClock) -> None:
    headers = {"Authorization": "Bearer upr_11111111_quota"}
    responses = []
    for _ in range(4):
        clock.now += 61  # a new minute each time: only the hourly quota can refuse
        responses.append(limited.post("/v1/keys", json={}, headers=headers))
    assert [r.status_code for r in responses] == [401, 401, 401, 429]
    assert "writes an hour" in responses[3].json()["detail"]
