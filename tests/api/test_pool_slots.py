"""A burst of requests larger than the thread pool is answered, not stalled on the connection pool.

A request's session holds its pooled connection until the request is done, including the steps
FastAPI runs in its thread pool after the endpoint returned. Were every request let in at once,
the thread pool's threads could all be waiting for a connection while every connection is held
by a request waiting for a thread: nothing moves until the pool's timeout. Requests take a
database slot on the event loop first (`app.http.sessions.get_session`).
"""

from __future__ import annotations

import sys
import threading
from types import SimpleNamespace

import anyio
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.core.config import Settings, get_settings
from app.core.db import create_db_engine
from app.core.errors import ServiceUnavailable
from app.http.sessions import get_session
from app.main import SWITCH_INTERVAL_S, create_app
from tests.factories import make_recommendation

CLIENTS = 90  # more than the 40 threads of the pool plus the connections
ROUNDS = 3


def test_a_burst_larger_than_the_thread_pool_is_answered(settings: Settings, session: Session) -> None:
    for i in range(5):
        make_recommendation(session, id=f"rec-burst-{i}", state_under_review="MEX")
    small = settings.model_copy(update={"DB_POOL_SIZE": 2})
    # Two steady connections (and their overflow). A stall shows as pool timeouts (503); the timeout
    # is the default's, so that queueing for a slot on a loaded machine is not mistaken for one.
    engine = create_db_engine(small, pool_timeout=10)
    app = create_app(small, engine=engine)
    app.dependency_overrides[get_settings] = lambda: small
    statuses: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(CLIENTS)
    try:
        with TestClient(app, raise_server_exceptions=False) as client:

            def burst() -> None:
                start.wait()
                for _ in range(ROUNDS):
                    answer = client.get("/v1/recommendations?state=MEX&limit=20")
                    with lock:
                        statuses.append(answer.status_code)

            threads = [threading.Thread(target=burst) for _ in range(CLIENTS)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
    finally:
        engine.dispose()
    assert len(statuses) == CLIENTS * ROUNDS
    assert sorted(set(statuses)) == [200], {code: statuses.count(code) for code in set(statuses)}


def test_a_request_that_waits_too_long_for_a_slot_is_told_to_come_back(settings: Settings) -> None:
    """No slot within the pool's timeout: 503 with Retry-After, as when no connection was free."""
    engine = create_db_engine(settings, pool_timeout=0.2)
    taken = anyio.Semaphore(1)
    request = SimpleNamespace(
        app=SimpleNamespace(state=SimpleNamespace(settings=settings, engine=engine, db_slots=taken))
    )

    async def ask() -> ServiceUnavailable | None:
        await taken.acquire()  # another request holds the only slot
        sessions = get_session(request)  # type: ignore[arg-type]
        try:
            await sessions.__anext__()
        except ServiceUnavailable as refused:
            return refused
        return None

    try:
        refused = anyio.run(ask)
    finally:
        engine.dispose()
    assert refused is not None
    assert refused.status == 503 and refused.headers == {"Retry-After": "2"}
    assert "busy" in refused.detail


def test_workers_hand_the_interpreter_over_every_millisecond(client: TestClient) -> None:
    """The lifespan shortens the switch interval, so the event loop does not wait 5 ms behind a thread."""
    assert client.get("/health/live").status_code == 200
    assert SWITCH_INTERVAL_S == 0.001 and sys.getswitchinterval() == SWITCH_INTERVAL_S
