"""kill -9 of the worker mid-delivery loses nothing: restarted, it sends what was not acknowledged (at least once).

A real `upr-match worker` process on a migrated SQLite file delivers 300 messages to a slow
local receiver; it is killed with SIGKILL while deliveries are in flight, then started
again. Every message reaches the receiver at least once (receivers deduplicate on
`webhook-id`), each with a valid signature, and every delivery ends `succeeded`.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlmodel import Session, col, func, select

from app.core.config import Settings
from app.core.db import create_db_engine
from app.core.identity import Principal
from app.core.secret_box import secret_box
from app.models.webhook import Webhook, WebhookCreate, WebhookDelivery
from app.services import webhooks as webhook_service
from tests.conftest import migrate
from tests.factories import make_provider
from tests.live import ROOT
from tests.loop.receiver import Received, receiver

pytestmark = [pytest.mark.faults, pytest.mark.slow]
MESSAGES = 300


def _start(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    out = open(log, "ab")  # noqa: SIM115 (the child writes to it)
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", "worker"], cwd=ROOT, env=env, stdout=out, stderr=out, start_new_session=True
    )


def _succeeded(engine: Any) -> int:
    with Session(engine) as session:
        return int(
            session.exec(
                select(func.count()).select_from(WebhookDelivery).where(col(WebhookDelivery.status) == "succeeded")
            ).one()
        )


def test_kill_9_mid_delivery_loses_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'worker.db'}"
    migrate(url)
    sealing = Fernet.generate_key().decode()  # the worker decrypts the stored secret with the same key
    settings = Settings(DATABASE_URL=url, WEBHOOK_ALLOW_PRIVATE=True, WEBHOOK_SECRET_KEYS=[sealing], _env_file=None)  # type: ignore[call-arg]
    engine = create_db_engine(settings)

    def slow(_n: int, _r: Received) -> tuple[int, bytes, dict[str, str], float]:
        return 204, b"", {}, 0.02

    with receiver(slow) as sink:
        with Session(engine) as session:
            provider = make_provider(session)
            owner = Principal(role="provider", provider_id=provider.id, key_id=None, name="test")
            hook, secret = webhook_service.create_webhook(
                session,
                principal=owner,
                data=WebhookCreate(url=sink.url, events=["engagement.*"]),
                allow_private=True,
                box=secret_box(settings),
            )
            for _ in range(MESSAGES):
                webhook_service.send_test(session, principal=owner, webhook_id=hook.id)
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "WEBHOOK_ALLOW_PRIVATE": "true",
            "WEBHOOK_SECRET_KEYS": json.dumps([sealing]),
            "WORKER_LEASE_S": "2",
            "WEBHOOK_TIMEOUT_S": "1",
            "WORKER_POLL_S": "0.1",
            "WORKER_CONCURRENCY": "4",
            "MODEL_DIR": str(tmp_path / "models"),
            "LOG_LEVEL": "WARNING",
        }
        log = tmp_path / "worker.log"
        first = _start(env, log)
        deadline = time.monotonic() + 60
        while len(sink.received) < MESSAGES // 5 and time.monotonic() < deadline:
            time.sleep(0.02)
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(10)
        killed_at = len(sink.received)
        assert 0 < killed_at < MESSAGES, f"the kill came too late or too early ({killed_at} received)"
        assert _succeeded(engine) < MESSAGES
        second = _start(env, log)
        try:
            deadline = time.monotonic() + 120
            while _succeeded(engine) < MESSAGES and time.monotonic() < deadline:
                time.sleep(0.2)
        finally:
            os.killpg(second.pid, signal.SIGTERM)
            second.wait(30)
        with Session(engine) as session:
            ids = set(session.exec(select(WebhookDelivery.msg_id)).all())
            states = dict(
                session.exec(select(WebhookDelivery.status, func.count()).group_by(col(WebhookDelivery.status))).all()
            )
            assert session.exec(select(Webhook.status)).one() == "active"
        received = {r.headers["webhook-id"] for r in sink.received}
        bodies = sink.verified(secret)
    engine.dispose()
    assert states == {"succeeded": MESSAGES}, states
    assert received == ids and len(ids) == MESSAGES  # every message at least once
    assert len(bodies) >= MESSAGES and all(b["type"] == "webhook.test" for b in bodies)
    assert second.returncode == 0, log.read_text()[-2000:]


def test_a_second_worker_on_one_sqlite_database_exits_saying_so(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'one.db'}"
    migrate(url)
    env = {**os.environ, "DATABASE_URL": url, "MODEL_DIR": str(tmp_path / "models"), "LOG_LEVEL": "WARNING"}
    log = tmp_path / "first.log"
    first = _start(env, log)
    try:
        deadline = time.monotonic() + 30
        lock = Path(str(tmp_path / "one.db") + ".worker.lock")
        while not (lock.exists() and lock.read_text().startswith("pid")) and time.monotonic() < deadline:
            time.sleep(0.1)
        second = subprocess.run(
            [sys.executable, "-m", "app.cli", "worker"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
        )
        assert second.returncode == 1
        assert "another worker is already running on this SQLite database" in second.stderr
        assert f"pid {first.pid}" in second.stderr
    finally:
        os.killpg(first.pid, signal.SIGTERM)
        first.wait(30)
    assert first.returncode == 0, log.read_text()[-2000:]
