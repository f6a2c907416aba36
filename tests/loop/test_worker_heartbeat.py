"""The worker reports that it is alive; /health/ready says when no worker has been seen for a while."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.core.config import Settings
from app.models.common import utcnow
from app.models.heartbeat import WorkerHeartbeat
from tests.factories import auth, make_key
from tests.loop.helpers import worker


def test_the_running_worker_records_its_heartbeat(settings: Settings, engine: Engine, session: Session) -> None:
    stop = threading.Event()
    with worker(settings, engine, WORKER_POLL_S=0.05) as runner:
        thread = threading.Thread(target=runner.run, args=(stop,))
        thread.start()
        try:
            deadline = time.monotonic() + 10
            rows: list[WorkerHeartbeat] = []
            while not rows and time.monotonic() < deadline:
                session.rollback()
                rows = list(session.exec(select(WorkerHeartbeat)).all())
                time.sleep(0.05)
        finally:
            stop.set()
            thread.join(10)
    assert [r.worker_id for r in rows] == [runner.worker_id]
    assert utcnow() - rows[0].seen_at < timedelta(seconds=10)


def _seen(session: Session, ago_s: float) -> None:
    session.add(WorkerHeartbeat(worker_id="host:1:abc", seen_at=utcnow() - timedelta(seconds=ago_s)))
    session.commit()


def test_readiness_reports_a_stale_worker(client: TestClient, session: Session, settings: Settings) -> None:
    _, admin = make_key(session, "admin")
    never = client.get("/health/ready", headers=auth(admin))
    assert never.status_code == 200 and never.json()["checks"]["worker"]["seen"] is False
    _seen(session, ago_s=settings.WORKER_STALE_AFTER_S + 60)
    stale = client.get("/health/ready", headers=auth(admin))
    assert stale.status_code == 503
    check = stale.json()["checks"]["worker"]
    assert check["ok"] is False and check["last_seen_s"] > settings.WORKER_STALE_AFTER_S
    assert "no worker seen for" in check["detail"]
    assert client.get("/health/ready").json()["checks"]["worker"] == {"ok": False}  # details for admins only


def test_readiness_is_ready_with_a_worker_seen_recently(client: TestClient, session: Session) -> None:
    _seen(session, ago_s=3)
    ready = client.get("/health/ready")
    assert ready.status_code == 200 and ready.json()["checks"]["worker"] == {"ok": True}
