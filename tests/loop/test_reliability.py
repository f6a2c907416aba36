"""1,000 events to a receiver that fails half the time and hangs on some calls: all delivered, all signed.

The events go the whole way: written to the outbox by the engagement service's own `emit`,
fanned out by the worker to the provider's endpoint, delivered with the (shortened) retry
schedule. The receiver answers 500 to every other attempt of a message and hangs past the
timeout on 1 first attempt in 20; every message must arrive with a valid signature.
"""

from __future__ import annotations

import hashlib
import threading
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from app.core.config import Settings
from app.core.identity import Principal
from app.models.webhook import WebhookDelivery
from app.services import events
from tests.loop.helpers import seed_loop, worker
from tests.loop.receiver import Received, receiver

pytestmark = pytest.mark.slow
EVENTS = 1000


def test_a_flaky_hanging_receiver_gets_all_1000_events(
    lclient: TestClient, session: Session, loop_settings: Settings, engine: Engine
) -> None:
    loop = seed_loop(session)
    seen: dict[str, int] = {}
    lock = threading.Lock()

    def flaky(_n: int, r: Received) -> tuple[int, bytes, dict[str, str], float]:
        msg = r.headers["webhook-id"]
        with lock:
            attempt = seen[msg] = seen.get(msg, 0) + 1
        salt = int(hashlib.sha256(msg.encode()).hexdigest(), 16)
        if attempt == 1 and salt % 20 == 0:
            return 204, b"", {}, 1.0  # hangs past the timeout
        fails = (salt + attempt) % 2 == 0  # half of all attempts fail
        return (500 if fails else 204), b"", {}, 0.0

    with receiver(flaky) as sink:
        secret = lclient.post(
            "/v1/webhooks", headers=loop.h("x"), json={"url": sink.url, "events": ["engagement.*"]}
        ).json()["secret"]
        actor = Principal(role="state", state="FRA", key_id=None, name="France")
        session.rollback()
        for n in range(EVENTS):
            events.emit(
                session,
                actor,
                type="engagement.proposed",
                resource="engagement",
                resource_id=f"e{n}",
                parties=[events.provider_party(loop.x.id)],
                data={"engagement": {"id": f"e{n}", "need_id": loop.need.id, "state": "FRA"}},
            )
        session.commit()
        schedule = [0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2]
        with worker(
            loop_settings, engine, WEBHOOK_RETRY_SCHEDULE=schedule, WEBHOOK_TIMEOUT_S=0.3, WORKER_CONCURRENCY=16
        ) as runner:
            stop = threading.Event()
            loop_thread = threading.Thread(target=runner.run, args=(stop,))
            runner.settings = runner.settings.model_copy(update={"WORKER_POLL_S": 0.05})
            loop_thread.start()
            deadline = time.monotonic() + 120
            try:
                while time.monotonic() < deadline:
                    with Session(engine) as check:
                        done = check.exec(
                            select(func.count())
                            .select_from(WebhookDelivery)
                            .where(col(WebhookDelivery.status) == "succeeded")
                        ).one()
                    if done == EVENTS:
                        break
                    time.sleep(0.2)
            finally:
                stop.set()
                loop_thread.join(30)
        bodies: list[Any] = sink.verified(secret)  # raises on any bad signature
        received = {r.headers["webhook-id"] for r in sink.received}
    with Session(engine) as check:
        states = dict(
            check.exec(select(WebhookDelivery.status, func.count()).group_by(col(WebhookDelivery.status))).all()
        )
    assert states == {"succeeded": EVENTS}, states
    assert len(received) == EVENTS and {b["data"]["engagement"]["id"] for b in bodies} == {
        f"e{n}" for n in range(EVENTS)
    }
    failures = sum(1 for r in sink.received) - EVENTS
    assert failures >= EVENTS // 3  # the receiver really failed often, and retries made up for it
