"""One bad item never blocks the others: a name that breaks a mail header, a message that cannot be built,
a delivery that cannot be signed, an event that cannot be fanned out, an endpoint that answers a byte at a time."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app.core.config import Settings
from app.core.identity import Principal
from app.core.secret_box import secret_box
from app.models.events import OutboxEvent
from app.models.mail import EmailMessage
from app.models.webhook import Webhook, WebhookAttempt, WebhookDelivery
from app.services import events
from tests.loop.helpers import Loop, drain, seed_loop, wait_for, worker
from tests.loop.receiver import receiver

LINE_BREAKS = "\r\nBcc: evil@example.com\u2028and\x0bthe\x85"


def _invite(client: TestClient, loop: Loop, provider_id: str) -> None:
    response = client.post(
        f"/v1/needs/{loop.need.id}/engagements",
        headers=loop.h("fra"),
        json={"provider_id": provider_id, "message": "Hi"},
    )
    assert response.status_code == 201, response.text


def _register(client: TestClient, loop: Loop, role: str, url: str) -> str:
    created = client.post("/v1/webhooks", headers=loop.h(role), json={"url": url, "events": ["engagement.*"]})
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def _mails(session: Session) -> dict[str, EmailMessage]:
    session.expire_all()
    return {m.to_address: m for m in session.exec(select(EmailMessage)).all()}


# --- e-mail ------------------------------------------------------------------------------------


def test_line_breaks_in_a_name_are_folded_and_the_whole_batch_is_sent(
    lclient: TestClient, session: Session, loop_settings: Settings, engine: Engine, smtp: Any
) -> None:
    handler, url = smtp
    loop = seed_loop(session)
    loop.x.name = f"Prison{LINE_BREAKS}Reform Helpers"
    session.add(loop.x)
    session.commit()
    _invite(lclient, loop, loop.x.id)  # its subject names the provider
    _invite(lclient, loop, loop.y.id)
    with worker(loop_settings, engine, SMTP_URL=url) as runner:
        drain(runner)
        assert runner.send_mail() == 2
    wait_for(lambda: len(handler.messages) == 2)
    received = {m["To"]: m for m in handler.messages}
    assert set(received) == {"desk@x.example", "desk@y.example"}
    subject = received["desk@x.example"]["Subject"]
    assert "Prison Bcc: evil@example.com and the Reform Helpers" in subject
    assert "Bcc" not in received["desk@x.example"]  # no header was added: the text stayed in the subject
    assert all(m.status == "sent" and m.attempts == 1 for m in _mails(session).values())


def test_a_message_that_cannot_be_built_fails_alone_and_the_others_are_sent(
    session: Session, loop_settings: Settings, engine: Engine, smtp: Any
) -> None:
    handler, url = smtp
    session.add(EmailMessage(party="provider:a", to_address="a@example.org", subject="First", body="one"))
    # An address no header can carry (queued by an older version, or written by hand).
    session.add(
        EmailMessage(party="provider:b", to_address="b@example.org\r\nBcc: evil@example.com", subject="Bad", body="two")
    )
    # A subject queued before subjects were folded.
    session.add(
        EmailMessage(party="provider:c", to_address="c@example.org", subject=f"Third{LINE_BREAKS}", body="three")
    )
    session.commit()
    with worker(loop_settings, engine, SMTP_URL=url) as runner:
        assert runner.send_mail() == 3
        assert runner.send_mail() == 0  # nothing left pending: the bad one is not retried in a loop
    wait_for(lambda: len(handler.messages) == 2)
    assert sorted(m["To"] for m in handler.messages) == ["a@example.org", "c@example.org"]
    assert {m["Subject"] for m in handler.messages} == {"First", "Third Bcc: evil@example.com and the"}
    rows = _mails(session)
    bad = rows["b@example.org\r\nBcc: evil@example.com"]
    assert (bad.status, bad.attempts) == ("failed", 1)
    assert bad.last_error is not None and "cannot be sent" in bad.last_error
    assert [(rows[a].status, rows[a].attempts) for a in ("a@example.org", "c@example.org")] == [("sent", 1)] * 2


# --- webhooks and the outbox -------------------------------------------------------------------


def test_a_delivery_that_cannot_be_signed_fails_alone(
    lclient: TestClient, session: Session, loop_settings: Settings, engine: Engine
) -> None:
    loop = seed_loop(session)
    with receiver() as good, receiver() as other:
        _register(lclient, loop, "x", good.url)
        broken_id = _register(lclient, loop, "y", other.url)
        session.rollback()  # see what the API wrote
        broken = session.get(Webhook, broken_id)
        assert broken is not None
        # Sealed as the service stores secrets, so it decrypts, but no signature can be made with it.
        broken.secret = secret_box(loop_settings).encrypt("whsec_!!! not base64 !!!")
        session.add(broken)
        session.commit()
        _invite(lclient, loop, loop.x.id)
        _invite(lclient, loop, loop.y.id)
        with worker(loop_settings, engine) as runner:
            drain(runner)
            assert runner.deliver() == 2  # each engagement to its provider's endpoint
        assert len(good.received) == 1 and other.received == []
    session.expire_all()
    attempts = session.exec(
        select(WebhookAttempt, WebhookDelivery)
        .join(WebhookDelivery, col(WebhookDelivery.id) == col(WebhookAttempt.delivery_id))
        .where(col(WebhookDelivery.webhook_id) == broken.id)
    ).all()
    assert len(attempts) == 1
    for attempt, row in attempts:
        assert attempt.error is not None and "could not be sent" in attempt.error
        assert row.attempts == 1 and row.claimed_by is None  # recorded, its retry scheduled


def test_an_event_that_cannot_be_fanned_out_does_not_hold_the_others(
    lclient: TestClient, session: Session, loop_settings: Settings, engine: Engine
) -> None:
    loop = seed_loop(session)
    actor = Principal(role="state", state="FRA", key_id=None, name="France")
    events.emit(
        session,
        actor,
        type="engagement.proposed",
        resource="engagement",
        resource_id="broken",
        parties=[events.provider_party(loop.x.id)],
        data={"engagement": "not an object"},
    )
    session.commit()
    _invite(lclient, loop, loop.y.id)
    with worker(loop_settings, engine) as runner:
        assert runner.process_events() == 1
        assert runner.process_events() == 0  # the bad one is not tried again in a loop
    items = lclient.get("/v1/inbox", headers=loop.h("y")).json()["items"]
    assert [i["type"] for i in items] == ["engagement.proposed"]
    session.expire_all()
    left = session.exec(select(OutboxEvent).where(col(OutboxEvent.processed_at).is_(None))).all()
    assert [e.resource_id for e in left] == ["broken"]


# --- a slow endpoint ---------------------------------------------------------------------------


@contextmanager
def trickling_endpoint(every_s: float = 2.0) -> Iterator[str]:
    """An HTTP endpoint that reads the request, then sends its answer's headers one byte every `every_s`."""
    stop = threading.Event()
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    answer = b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nx-slow: " + b"." * 200 + b"\r\ncontent-length: 0\r\n\r\n"

    def trickle(conn: socket.socket) -> None:
        with conn:
            try:
                conn.recv(65536)
                for byte in answer:
                    if stop.wait(every_s):
                        return
                    conn.sendall(bytes([byte]))
            except OSError:
                return  # the client hung up: what a deadline does

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            threading.Thread(target=trickle, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}/hook"
    finally:
        stop.set()
        thread.join(5)
        server.close()


def test_a_trickling_endpoint_delays_neither_another_providers_inbox_nor_its_webhook(
    lclient: TestClient, session: Session, loop_settings: Settings, engine: Engine
) -> None:
    loop = seed_loop(session)
    timeout_s = 3.0
    with trickling_endpoint() as slow_url, receiver() as fast:
        slow_id = _register(lclient, loop, "x", slow_url)
        _register(lclient, loop, "y", fast.url)
        settings = {"WEBHOOK_TIMEOUT_S": timeout_s, "WORKER_LEASE_S": 30.0, "WORKER_POLL_S": 0.1}
        with worker(loop_settings, engine, **settings) as runner:
            stop = threading.Event()
            thread = threading.Thread(target=runner.run, args=(stop,), daemon=True)
            thread.start()
            try:
                _invite(lclient, loop, loop.x.id)  # to the trickling endpoint
                time.sleep(1.0)  # its delivery is under way
                asked = time.monotonic()
                _invite(lclient, loop, loop.y.id)
                inbox: list[Any] = []
                while time.monotonic() - asked < 5.0 and not (inbox and fast.received):
                    inbox = lclient.get("/v1/inbox", headers=loop.h("y")).json()["items"]
                    time.sleep(0.05)
                took = time.monotonic() - asked
                assert inbox and fast.received, f"nothing for the other provider after {took:.1f} s"
                assert took < 5.0
                # The slow endpoint's attempt ends at its deadline, not when its answer would.
                wait_for(lambda: _slow_attempts(engine, slow_id), seconds=timeout_s + 3)
            finally:
                stop.set()
                thread.join(30)
    [(duration_ms, error)] = _slow_attempts(engine, slow_id)[:1]
    assert timeout_s * 1000 <= duration_ms < (timeout_s + 1.5) * 1000, duration_ms
    assert error == f"no answer within {timeout_s:g} s"


def _slow_attempts(engine: Engine, webhook_id: str) -> list[tuple[int, str | None]]:
    with Session(engine) as check:
        return [
            (a.duration_ms, a.error)
            for a in check.exec(
                select(WebhookAttempt)
                .join(WebhookDelivery, col(WebhookDelivery.id) == col(WebhookAttempt.delivery_id))
                .where(col(WebhookDelivery.webhook_id) == webhook_id)
            ).all()
        ]
