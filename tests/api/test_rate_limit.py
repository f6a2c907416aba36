"""Rate limits keyed on the authenticated key, the hourly create quota and the failed-authentication brake.

A fake clock drives both the middleware and the `limits` in-memory storage.
"""

from __future__ import annotations

import re
import types
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.core.config import Settings
from app.http.ratelimit import KeyIdentities
from app.main import create_app
from app.models.web_session import WebSession
from tests.conftest import migrate
from tests.dbutil import fresh_database_url
from tests.factories import auth, make_key
from tests.live import LiveServer, free_port
from tests.security.test_authz_matrix import write_operations
from tests.test_errors import assert_problem
from tests.web.conftest import csrf_from, sign_in


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000_020.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    # The limits package's memory storage reads time.time() from its own module.
    monkeypatch.setattr("limits.storage.memory.time", types.SimpleNamespace(time=fake))
    return fake


def _tight(settings: Settings, **overrides: object) -> Settings:
    values = {"RATE_LIMIT_PER_MINUTE": 5, "WRITE_QUOTA_PER_HOUR": 3, "AUTH_FAILURES_PER_MINUTE": 4, **overrides}
    return settings.model_copy(update=values)


@pytest.fixture
def limited_app(settings: Settings, engine: Engine, clock: FakeClock) -> FastAPI:
    return create_app(_tight(settings), engine=engine, clock=clock)


@pytest.fixture
def limited(limited_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(
        limited_app, base_url="https://testserver", raise_server_exceptions=False, follow_redirects=False
    ) as client:
        yield client


def _from(app: FastAPI, address: str) -> TestClient:
    return TestClient(
        app, base_url="https://testserver", raise_server_exceptions=False, follow_redirects=False, client=(address, 1)
    )


def test_headers_count_down_then_429_with_retry_after(limited: TestClient, clock: FakeClock) -> None:
    remaining = []
    for _ in range(5):
        response = limited.get("/v1/recommendations")
        assert response.headers["x-ratelimit-limit"] == "5"
        remaining.append(int(response.headers["x-ratelimit-remaining"]))
    assert remaining == [4, 3, 2, 1, 0]
    refused = limited.get("/v1/recommendations")
    body = assert_problem(refused, 429)
    assert body["code"] == "RATE_LIMITED"
    assert 0 < int(refused.headers["retry-after"]) <= 60
    assert int(refused.headers["x-ratelimit-reset"]) > clock.now
    clock.now += 61
    assert limited.get("/v1/recommendations").status_code == 200  # the window moved on


def test_the_window_moves_rather_than_resetting(limited: TestClient, clock: FakeClock) -> None:
    for _ in range(3):
        assert limited.get("/v1/recommendations").status_code == 200
    clock.now += 30
    for _ in range(2):
        assert limited.get("/v1/recommendations").status_code == 200
    assert limited.get("/v1/recommendations").status_code == 429
    clock.now += 31  # the first three left the last minute; the other two have not
    assert [limited.get("/v1/recommendations").status_code for _ in range(4)] == [200, 200, 200, 429]


def test_health_and_static_files_are_not_limited(limited: TestClient) -> None:
    for _ in range(10):
        assert limited.get("/health/live").status_code == 200
        assert limited.get("/static/site.css").status_code == 200
        assert "x-ratelimit-limit" not in limited.get("/health/live").headers


def test_one_key_spelled_many_ways_has_one_budget(limited: TestClient, session: Session) -> None:
    _, key = make_key(session, "admin")
    spellings = [f"Bearer {key}", f"Bearer  {key}", f"bearer {key}", f"BEARER {key}  ", f"Bearer {key}"]
    statuses = [limited.get("/v1/keys", headers={"Authorization": h}).status_code for h in spellings]
    assert statuses == [200] * 5
    refused = limited.get("/v1/keys", headers={"Authorization": f"Bearer   {key}"})
    assert_problem(refused, 429)


def test_junk_credentials_count_against_the_address(limited: TestClient) -> None:
    # /v1/recommendations never authenticates; each junk header used to open a budget of its own.
    statuses = [
        limited.get("/v1/recommendations", headers={"Authorization": f"Junk {i}"}).status_code for i in range(6)
    ]
    assert statuses == [200] * 5 + [429]
    assert limited.get("/v1/recommendations").status_code == 429  # the same address, without a header


def test_pages_and_signin_share_the_api_budget(limited: TestClient) -> None:
    assert limited.get("/v1/recommendations").status_code == 200
    assert limited.get("/recommendations").status_code == 200
    assert limited.get("/").status_code == 200
    assert limited.get("/signin").status_code == 200
    assert limited.post("/signin", data={"api_key": "upr_00000000_x"}).status_code in (400, 403)
    page = limited.get("/signin")
    assert page.status_code == 429
    assert page.headers["content-type"].startswith("text/html")
    assert int(page.headers["retry-after"]) > 0
    assert_problem(limited.get("/v1/recommendations"), 429)


def test_a_signed_in_page_session_counts_as_its_key(limited_app: FastAPI, session: Session) -> None:
    _, key = make_key(session, "state", state="FRA")
    with _from(limited_app, "10.0.0.1") as browser, _from(limited_app, "10.0.0.2") as script:
        sign_in(browser, key)  # two requests from 10.0.0.1 (its own address budget)
        assert browser.get("/needs/new").status_code == 200  # 1 on the key
        for _ in range(4):
            assert script.get("/v1/needs", headers=auth(key)).status_code == 200  # 2-5 on the key
        assert browser.get("/needs/new").status_code == 429
        assert script.get("/v1/recommendations").status_code == 200  # the script's address is untouched


def test_a_signed_out_session_cookie_counts_as_anonymous(limited_app: FastAPI, session: Session) -> None:
    _, key = make_key(session, "state", state="MEX")
    with _from(limited_app, "10.0.0.1") as browser, _from(limited_app, "10.0.0.3") as holder:
        sign_in(browser, key)  # on 10.0.0.1's own budget
        dead = browser.cookies.get("upr_session")
        token = csrf_from(browser.get("/").text)  # 1 on the key
        assert browser.post("/signout", data={"csrf_token": token}).status_code == 303  # 2 on the key
        holder.cookies.set("upr_session", dead)
        statuses = [holder.get("/").status_code for _ in range(6)]
        assert statuses == [200] * 5 + [429]  # the holder's own address budget, not the key's
        for _ in range(3):
            assert holder.get("/v1/needs", headers=auth(key)).status_code == 200  # 3-5 on the key


def test_an_idle_session_cookie_counts_as_anonymous(limited_app: FastAPI, session: Session) -> None:
    _, key = make_key(session, "state", state="MEX")
    with _from(limited_app, "10.0.0.1") as browser, _from(limited_app, "10.0.0.4") as script:
        sign_in(browser, key)
        # Idle for longer than WEB_SESSION_IDLE_MINUTES: the session ended, signed out or not.
        session.rollback()
        session.execute(update(WebSession).values(last_seen_at=datetime.now(UTC) - timedelta(hours=2)))
        session.commit()
        for _ in range(3):
            assert browser.get("/recommendations").status_code == 200  # 3-5 on 10.0.0.1, none on the key
        for _ in range(5):
            assert script.get("/v1/needs", headers=auth(key)).status_code == 200


def test_failed_authentications_brake_bad_credentials_only(limited_app: FastAPI, session: Session) -> None:
    _, valid = make_key(session, "admin")
    with _from(limited_app, "192.0.2.7") as shared:
        for i in range(4):
            assert shared.get("/v1/keys", headers=auth(f"upr_0000000{i}_wrong")).status_code == 401
        refused = shared.get("/v1/keys", headers=auth("upr_00000009_wrong"))
        assert_problem(refused, 429)
        assert int(refused.headers["retry-after"]) > 0
        # Another user behind the same address, with a valid key, is served.
        assert shared.get("/v1/keys", headers=auth(valid)).status_code == 200


def test_failures_on_one_key_prefix_brake_it_from_every_address(limited_app: FastAPI, session: Session) -> None:
    row, valid = make_key(session, "admin")
    wrong = f"upr_{row.prefix}_guessed"
    for i in range(4):
        with _from(limited_app, f"198.51.100.{i}") as guesser:
            assert guesser.get("/v1/keys", headers=auth(wrong + str(i))).status_code == 401
    with _from(limited_app, "198.51.100.200") as fresh:
        assert_problem(fresh.get("/v1/keys", headers=auth(wrong + "x")), 429)
        assert fresh.get("/v1/keys", headers=auth(valid)).status_code == 200  # the owner still gets in


def test_failed_signins_count_against_the_brake(settings: Settings, engine: Engine, session: Session) -> None:
    _, valid = make_key(session, "state", state="FRA")
    app = create_app(_tight(settings, RATE_LIMIT_PER_MINUTE=100), engine=engine)
    with _from(app, "192.0.2.9") as guesser:
        token = csrf_from(guesser.get("/signin").text)
        for i in range(4):
            wrong = {"api_key": f"upr_0000000{i}_wrong", "csrf_token": token}
            assert guesser.post("/signin", data=wrong).status_code == 400
        refused = guesser.post("/signin", data={"api_key": "upr_00000009_wrong", "csrf_token": token})
        assert refused.status_code == 429
        assert refused.headers["content-type"].startswith("text/html")
        assert int(refused.headers["retry-after"]) > 0
        # One brake for the form and the API: a bad Bearer key from this address is braked too.
        assert_problem(guesser.get("/v1/keys", headers=auth("upr_00000010_wrong")), 429)
        # A valid key is never braked, on the form or the API.
        assert guesser.post("/signin", data={"api_key": valid, "csrf_token": token}).status_code == 303
    with _from(app, "192.0.2.10") as other:
        assert other.get("/v1/keys", headers=auth("upr_00000011_wrong")).status_code == 401


def test_read_only_posts_do_not_count_as_writes(settings: Settings, engine: Engine, session: Session) -> None:
    _, key = make_key(session, "state", state="FRA")
    app = create_app(_tight(settings, RATE_LIMIT_PER_MINUTE=100), engine=engine)
    with _from(app, "192.0.2.11") as client:
        for _ in range(4):
            assert client.post("/v1/match", json={"text": "torture prevention"}, headers=auth(key)).status_code == 200
            assert client.post("/v1/states/FRA/needs/draft", headers=auth(key)).status_code == 200
        # Three writes an hour: the quota is untouched by the eight reads above.
        statuses = [client.post("/v1/subscriptions", json={}, headers=auth(key)).status_code for _ in range(4)]
        assert 429 not in statuses[:3] and statuses[3] == 429


def test_the_read_only_posts_are_those_that_write_nothing(app: FastAPI) -> None:
    from app.http.ratelimit import READ_ONLY_POSTS
    from tests.security.test_audit import AUDITED

    posts = [op.split(" ", 1)[1] for op in write_operations(app) if op.startswith("POST /v1/")]
    read_only = {path for path in posts if READ_ONLY_POSTS.match(re.sub(r"\{[^}]+\}", "FRA", path))}
    assert read_only == {path for path in posts if AUDITED[f"POST {path}"] is None}
    assert "/v1/match" in read_only


def test_create_quota_per_hour_is_per_key(limited: TestClient, clock: FakeClock, session: Session) -> None:
    _, key = make_key(session, "admin")
    responses = []
    for _ in range(4):
        clock.now += 61  # a new minute each time: only the hourly quota can refuse
        responses.append(limited.post("/v1/keys", json={}, headers=auth(key)))
    assert [r.status_code for r in responses] == [422, 422, 422, 429]
    assert "writes an hour" in responses[3].json()["detail"]
    clock.now += 61
    assert limited.post("/v1/keys", json={}, headers=auth("upr_11111111_unknown")).status_code == 401


def test_key_identity_cache_is_bounded_and_expires() -> None:
    cache = KeyIdentities(size=3, ttl=10)
    for i in range(10):
        cache.store(f"d{i}", f"k{i}", now=0)
    assert len(cache._entries) == 3
    assert cache.cached("d9", now=5) == "k9"
    assert cache.cached("d0", now=5) is KeyIdentities._UNRESOLVED
    assert cache.cached("d9", now=11) is KeyIdentities._UNRESOLVED


# --- a shared store: two workers, one budget -------------------------------------------------------


def test_workers_sharing_a_redis_store_share_one_budget(settings: Settings, engine: Engine, redis_url: str) -> None:
    shared = _tight(settings, RATE_LIMIT_STORAGE_URL=redis_url)
    first, second = create_app(shared, engine=engine), create_app(shared, engine=engine)
    with TestClient(first) as one, TestClient(second) as two:
        statuses = [(one if i % 2 else two).get("/v1/recommendations").status_code for i in range(6)]
    assert statuses == [200] * 5 + [429]


def test_an_unreachable_store_serves_without_limits(settings: Settings, engine: Engine) -> None:
    down = _tight(settings, RATE_LIMIT_STORAGE_URL=f"redis://127.0.0.1:{free_port()}/0")
    with TestClient(create_app(down, engine=engine)) as client:
        assert [client.get("/v1/recommendations").status_code for _ in range(7)] == [200] * 7


# --- the client address behind a proxy --------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(("trusted", "expected"), [("192.0.2.1", [200, 200, 200, 429]), ("127.0.0.1", [200] * 4)])
def test_x_forwarded_for_counts_only_from_a_trusted_proxy(tmp_path: Path, trusted: str, expected: list[int]) -> None:
    with fresh_database_url(tmp_path) as url:
        migrate(url)
        env = {"DATABASE_URL": url, "RATE_LIMIT_PER_MINUTE": "3", "FORWARDED_ALLOW_IPS": trusted}
        with LiveServer(env=env, log=tmp_path / "server.log") as server:
            statuses = [
                httpx.get(
                    server.url + "/v1/recommendations", headers={"X-Forwarded-For": f"203.0.113.{i}"}, timeout=10
                ).status_code
                for i in range(4)
            ]
    assert statuses == expected
