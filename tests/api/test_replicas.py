"""Two replicas (`upr-match serve`, each with its worker) on one PostgreSQL database and one Redis.

What scaling out must keep: a write through one replica is in the next match through the other,
public ETags agree between them (the data version lives in the database), rate limits are one
budget, an event is delivered to a webhook once, and a replica killed under load loses no write
it acknowledged. PostgreSQL only (SQLite is one machine's file); `.ci/run` runs it on its server.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine
from sqlmodel import Session

from tests.conftest import migrate
from tests.dbutil import fresh_database_url
from tests.factories import auth, make_key, make_need, make_provider, make_recommendation
from tests.live import LiveServer
from tests.loop.receiver import receiver

pytestmark = [pytest.mark.db, pytest.mark.slow, pytest.mark.replicas]

LIMIT = 40  # requests a minute per client, shared through Redis


@pytest.fixture
def postgres_url(tmp_path: Path) -> Iterator[str]:
    """A fresh migrated PostgreSQL database on the test server."""
    if not os.environ.get("DATABASE_URL", "").startswith("postgresql"):
        pytest.skip("replicas share a PostgreSQL database: DATABASE_URL=postgresql+psycopg://... (.ci/run sets it)")
    with fresh_database_url(tmp_path) as url:
        migrate(url)
        yield url


@contextmanager
def seeding(url: str) -> Iterator[Session]:
    engine = create_engine(url)
    try:
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()


def _env(url: str, redis_url: str) -> dict[str, str]:
    return {
        "DATABASE_URL": url,
        "RATE_LIMIT_STORAGE_URL": redis_url,
        "RATE_LIMIT_PER_MINUTE": str(LIMIT),
        "WEBHOOK_ALLOW_PRIVATE": "true",
        "WEBHOOK_RETRY_SCHEDULE": "[0.1, 0.1, 0.1]",
        "WORKER_POLL_S": "0.2",
    }


def _wait_for(predicate: object, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not predicate():  # type: ignore[operator]
        time.sleep(0.1)


def test_two_replicas_share_writes_etags_limits_and_deliveries(
    postgres_url: str, redis_url: str, tmp_path: Path
) -> None:
    with seeding(postgres_url) as session:
        rec = make_recommendation(
            session, state_under_review="FRA", text="Ratify OPCAT and set up a preventive mechanism"
        )
        need = make_need(session, recommendations=[rec], state="FRA", title="National preventive mechanism")
        helper = make_provider(session, name="Prison Reform Helpers", contact_email="desk@x.example")
        keys = {
            "admin": make_key(session, "admin")[1],
            "fra": make_key(session, "state", state="FRA")[1],
            "x": make_key(session, "provider", provider_id=helper.id)[1],
            "limited": make_key(session, "admin")[1],
        }
        need_id, helper_id = need.id, helper.id
    env = _env(postgres_url, redis_url)
    with (
        LiveServer(env=env, log=tmp_path / "a.log", with_worker=True) as a,
        LiveServer(env=env, log=tmp_path / "b.log", with_worker=True) as b,
        receiver() as hook,
    ):
        matches = f"/v1/needs/{need_id}/matches"
        # Public ETags agree: both read the one data version in the database.
        etag_a = httpx.get(a.url + matches, timeout=10).headers["etag"]
        assert httpx.get(b.url + matches, timeout=10).headers["etag"] == etag_a

        # A write through A is in the very next match through B (and B's old ETag no longer answers 304).
        created = httpx.post(
            a.url + "/v1/providers",
            headers=auth(keys["admin"]),
            json={
                "name": "Preventive Mechanism Advisers",
                "kind": "ngo",
                "description": "Advice on building a national preventive mechanism against torture (OPCAT).",
            },
            timeout=10,
        )
        assert created.status_code == 201, created.text
        after = httpx.get(b.url + matches, headers={"If-None-Match": etag_a}, timeout=10)
        assert after.status_code == 200
        assert created.json()["id"] in {item["provider"]["id"] for item in after.json()["items"]}
        assert after.headers["etag"] != etag_a

        # One budget: alternating replicas, the limited key gets LIMIT answers, then 429 on either.
        statuses = [
            httpx.get((a if i % 2 else b).url + "/v1/providers", headers=auth(keys["limited"]), timeout=10).status_code
            for i in range(LIMIT + 4)
        ]
        assert statuses == [200] * LIMIT + [429] * 4

        # One delivery per event, with a worker beside each replica.
        registered = httpx.post(
            b.url + "/v1/webhooks",
            headers=auth(keys["x"]),
            json={"url": hook.url, "events": ["engagement.*"]},
            timeout=10,
        )
        assert registered.status_code == 201, registered.text
        asked = httpx.post(
            a.url + f"/v1/needs/{need_id}/engagements",
            headers=auth(keys["fra"]),
            json={"provider_id": helper_id, "message": "Could you help?"},
            timeout=10,
        )
        assert asked.status_code == 201, asked.text
        _wait_for(lambda: hook.received, 30)
        time.sleep(3)  # both workers polled many times since
        ids = [r.headers.get("webhook-id") for r in hook.received]
        assert len(ids) == 1, ids


def test_a_replica_killed_under_load_loses_no_acknowledged_write(
    postgres_url: str, redis_url: str, tmp_path: Path
) -> None:
    with seeding(postgres_url) as session:
        writers = [make_key(session, "admin")[1] for _ in range(4)]
    env = {**_env(postgres_url, redis_url), "RATE_LIMIT_PER_MINUTE": "100000"}
    acknowledged: list[str] = []
    stop = threading.Event()
    failed: list[str] = []
    lock = threading.Lock()
    with LiveServer(env=env, log=tmp_path / "a.log") as a, LiveServer(env=env, log=tmp_path / "b.log") as b:

        def write(key: str) -> None:
            with httpx.Client(timeout=10) as client:
                i = 0
                while not stop.is_set():
                    i += 1
                    target = a if i % 2 else b
                    try:
                        response = client.post(
                            target.url + "/v1/providers",
                            headers=auth(key),
                            json={
                                "name": f"Provider {key[-6:]} {i}",
                                "kind": "ngo",
                                "description": "Load: training on torture prevention.",
                            },
                        )
                    except httpx.HTTPError as error:
                        with lock:
                            failed.append(type(error).__name__)
                        continue
                    if response.status_code == 201:
                        with lock:
                            acknowledged.append(response.json()["id"])

        threads = [threading.Thread(target=write, args=(key,)) for key in writers]
        for thread in threads:
            thread.start()
        _wait_for(lambda: len(acknowledged) >= 30, 60)
        a.kill()  # SIGKILL, mid-load
        at_kill = len(acknowledged)
        _wait_for(lambda: len(acknowledged) >= at_kill + 30, 60)  # the load goes on through B
        stop.set()
        for thread in threads:
            thread.join(120)
        assert failed, "the kill happened after the load: it proved nothing"
        assert len(acknowledged) >= at_kill + 30
        with httpx.Client(base_url=b.url, headers=auth(writers[0]), timeout=10) as client:
            missing = [pid for pid in acknowledged if client.get(f"/v1/providers/{pid}").status_code != 200]
    assert missing == []
