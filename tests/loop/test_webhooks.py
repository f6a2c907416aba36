"""Webhooks: registration rules (https, no private address), signed deliveries a Standard Webhooks verifier
accepts, retries with backoff, timeouts, no redirects, capped answers, disabling, replays and tests."""

from __future__ import annotations

import asyncio
import ipaddress
import threading
import time
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from standardwebhooks.webhooks import Webhook as Verifier

from app.core.config import Settings
from app.models.webhook import WebhookDelivery
from tests.loop.helpers import Loop, drain, seed_loop, worker
from tests.loop.receiver import Received, receiver


def _register(client: TestClient, loop: Loop, url: str, events: list[str] | None = None, role: str = "x") -> Any:
    return client.post("/v1/webhooks", headers=loop.h(role), json={"url": url, "events": events or ["engagement.*"]})


def _ask(client: TestClient, loop: Loop) -> str:
    response = client.post(
        f"/v1/needs/{loop.need.id}/engagements", headers=loop.h("fra"), json={"provider_id": loop.x.id, "message": "Hi"}
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _deliver_all(runner: Any, *, until: float = 5.0) -> None:
    """Run delivery rounds until nothing is pending (or `until` seconds pass)."""
    deadline = time.monotonic() + until
    while time.monotonic() < deadline:
        drain(runner)
        runner.deliver()
        with Session(runner.db) as session:
            if not session.exec(select(WebhookDelivery.id).where(WebhookDelivery.status == "pending")).first():
                return
        time.sleep(0.02)


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://hooks.example.org/x", "https"),
        ("https://10.1.2.3/x", "private"),
        ("https://127.0.0.1/x", "loopback"),
        ("https://[::1]/x", "loopback"),
        ("https://169.254.169.254/latest", "link-local"),
        ("https://localhost/x", "loopback"),
        ("https://user:pw@hooks.example.org/x", "credentials"),
        ("ftp://hooks.example.org/x", "https"),
    ],
)
def test_registration_refuses_non_https_and_private_addresses(
    client: TestClient, session: Session, url: str, why: str
) -> None:
    loop = seed_loop(session)
    refused = _register(client, loop, url)
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["pointer"] == "/body/url" and why in refused.json()["detail"]


def test_the_secret_is_shown_once_and_events_are_checked(client: TestClient, session: Session) -> None:
    loop = seed_loop(session)
    created = _register(client, loop, "https://hooks.example.org/x", ["need.matched", "activity.*"])
    assert created.status_code == 201 and created.json()["secret"].startswith("whsec_")
    wid = created.json()["id"]
    assert "secret" not in client.get(f"/v1/webhooks/{wid}", headers=loop.h("x")).json()
    assert "whsec_" not in client.get("/v1/webhooks", headers=loop.h("x")).text
    assert client.get("/v1/webhooks", headers=loop.h("y")).json()["total"] == 0
    unknown = _register(client, loop, "https://hooks.example.org/x", ["engagement.exploded"])
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["pointer"].startswith("/body/events")


def test_a_delivery_is_signed_as_standard_webhooks_says(
    lclient: TestClient, session: Session, loop_settings: Settings, engine: Engine
) -> None:
    loop = seed_loop(session)
    with receiver() as sink:
        secret = _register(lclient, loop, sink.url + "/hooks", ["engagement.*"]).json()["secret"]
        fra_secret = _register(lclient, loop, sink.url + "/fra", ["engagement.proposed"], role="fra").json()["secret"]
        eid = _ask(lclient, loop)
        with worker(loop_settings, engine) as runner:
            _deliver_all(runner)
        assert sorted(r.path for r in sink.received) == ["/fra", "/hooks"]
        by_path = {r.path: r for r in sink.received}
    x_body = Verifier(secret).verify(by_path["/hooks"].body, by_path["/hooks"].headers)
    fra_body = Verifier(fra_secret).verify(by_path["/fra"].body, by_path["/fra"].headers)
    for body in (x_body, fra_body):
        assert set(body) == {"type", "timestamp", "data"} and body["type"] == "engagement.proposed"
        assert body["data"]["engagement"]["id"] == eid
    headers = by_path["/hooks"].headers
    assert headers["webhook-id"].startswith("msg_") and headers["webhook-signature"].startswith("v1,")
    assert headers["content-type"] == "application/json"
    # A wrong secret is refused by the verifier: the signature really depends on it.
    with pytest.raises(Exception, match="signature"):
        Verifier(fra_secret).verify(by_path["/hooks"].body, by_path["/hooks"].headers)


def _failing_then_ok(failures: int) -> Any:
    def behave(n: int, _r: Received) -> tuple[int, bytes, dict[str, str], float]:
        return (500, b"try later", {}, 0.0) if n < failures else (204, b"", {}, 0.0)

    return behave


def test_failed_attempts_are_retried_after_the_schedule_with_the_same_webhook_id(
    lclient: TestClient, session: Session, loop_settings: Settings, engine: Engine
) -> None:
    loop = seed_loop(session)
    with receiver(_failing_then_ok(2)) as sink:
        created = _register(lclient, loop, sink.url, ["engagement.*"]).json()
        _ask(lclient, loop)
        with worker(loop_settings, engine, WEBHOOK_RETRY_SCHEDULE=[0.2, 0.4]) as runner:
            _deliver_all(runner)
    assert len(sink.received) == 3 and len({r.headers["webhook-id"] for r in sink.received}) == 1
    page = lclient.get(f"/v1/webhooks/{created['id']}/deliveries", headers=loop.h("x")).json()
    [delivery] = page["items"]
    assert delivery["status"] == "succeeded" and delivery["attempt_count"] == 3
    attempts = list(reversed(delivery["attempts"]))
    assert [a["status_code"] for a in attempts] == [500, 500, 204]
    assert attempts[0]["response_body"] == "try later" and attempts[0]["address"] == "127.0.0.1"
    at = [datetime.fromisoformat(a["attempted_at"].replace("Z", "+00:00")) for a in attempts]
    assert (at[1] - at[0]).total_seconds() >= 0.2 and (at[2] - at[1]).total_seconds() >= 0.4


def test_after_the_last_retry_a_delivery_fails_and_a_replay_sends_it_again(
    lclient: TestClient, session: Session, loop_settings: Settings, engine: Engine
) -> None:
    loop = seed_loop(session)
    with receiver(_failing_then_ok(3)) as sink:
        wid = _register(lclient, loop, sink.url, ["engagement.*"]).json()["id"]
        _ask(lclient, loop)
        with worker(loop_settings, engine, WEBHOOK_RETRY_SCHEDULE=[0.01, 0.01]) as runner:
            _deliver_all(runner)
            [failed] = lclient.get(f"/v1/webhooks/{wid}/deliveries?status=failed", headers=loop.h("x")).json()["items"]
            assert failed["attempt_count"] == 3 and failed["last_status_code"] == 500
            replay = lclient.post(f"/v1/webhooks/{wid}/deliveries/{failed['id']}/retry", headers=loop.h("x"))
            assert replay.status_code == 202 and replay.json()["status"] == "pending"
            again = lclient.post(f"/v1/webhooks/{wid}/deliveries/{failed['id']}/retry", headers=loop.h("x"))
            assert again.status_code == 409
            _deliver_all(runner)
    assert len(sink.received) == 4 and len({r.headers["webhook-id"] for r in sink.received}) == 1
    done = lclient.get(f"/v1/webhooks/{wid}/deliveries", headers=loop.h("x")).json()["items"][0]
    assert done["status"] == "succeeded"


def test_timeouts_redirects_and_long_answers(
    lclient: TestClient, session: Session, loop_settings: Settings, engine: Engine
) -> None:
    loop = seed_loop(session)

    def behave(_n: int, r: Received) -> tuple[int, bytes, dict[str, str], float]:
        if r.path == "/hang":
            return 204, b"", {}, 3.0
        if r.path == "/redirect":
            return 307, b"", {"location": "/elsewhere"}, 0.0
        return 200, b"x" * 10_000, {}, 0.0

    with receiver(behave) as sink:
        ids = {
            path: _register(lclient, loop, sink.url + path, ["engagement.*"]).json()["id"]
            for path in ("/hang", "/redirect", "/long")
        }
        _ask(lclient, loop)
        with worker(loop_settings, engine, WEBHOOK_RETRY_SCHEDULE=[60.0], WEBHOOK_TIMEOUT_S=0.5) as runner:
            drain(runner)
            started = time.monotonic()
            runner.deliver()
            assert time.monotonic() - started < 2.5  # the hanging endpoint did not hold the round
        paths = [r.path for r in sink.received]
    assert "/elsewhere" not in paths  # the redirect was not followed
    first = {
        p: lclient.get(f"/v1/webhooks/{i}/deliveries", headers=loop.h("x")).json()["items"][0] for p, i in ids.items()
    }
    assert first["/hang"]["status"] == "pending" and "no answer within 0.5 s" in first["/hang"]["last_error"]
    assert first["/redirect"]["last_status_code"] == 307 and first["/redirect"]["status"] == "pending"
    assert first["/long"]["status"] == "succeeded"
    assert len(first["/long"]["attempts"][0]["response_body"]) == 1024


def test_an_endpoint_failing_too_long_is_disabled_and_its_owner_told(
    lclient: TestClient, session: Session, loop_settings: Settings, engine: Engine
) -> None:
    loop = seed_loop(session)
    with receiver(lambda n, r: (503, b"", {}, 0.0)) as sink:
        wid = _register(lclient, loop, sink.url, ["engagement.*"]).json()["id"]
        _ask(lclient, loop)
        with worker(loop_settings, engine, WEBHOOK_RETRY_SCHEDULE=[0.2] * 5, WEBHOOK_DISABLE_AFTER_S=0.3) as runner:
            _deliver_all(runner)
            assert lclient.post(f"/v1/webhooks/{wid}/test", headers=loop.h("x")).status_code == 409
    endpoint = lclient.get(f"/v1/webhooks/{wid}", headers=loop.h("x")).json()
    assert endpoint["status"] == "disabled" and "failed since" in endpoint["disabled_reason"]
    delivery = lclient.get(f"/v1/webhooks/{wid}/deliveries", headers=loop.h("x")).json()["items"][0]
    assert delivery["status"] == "failed" and delivery["attempt_count"] < 6
    notices = lclient.get("/v1/inbox?type=webhook.disabled", headers=loop.h("x")).json()["items"]
    assert len(notices) == 1 and sink.url in notices[0]["title"]
    # Enabled again by its owner (If-Match), it takes new messages.
    enabled = lclient.patch(
        f"/v1/webhooks/{wid}", headers=loop.h("x", **{"If-Match": f'"{endpoint["version"]}"'}), json={"enabled": True}
    )
    assert (
        enabled.status_code == 200 and enabled.json()["status"] == "active" and enabled.json()["failing_since"] is None
    )


def test_every_attempt_connects_to_the_address_it_checked(
    lclient: TestClient, session: Session, loop_settings: Settings, engine: Engine
) -> None:
    """The name is resolved once per attempt; private answers are refused; the request goes to that address."""
    loop = seed_loop(session)
    with receiver() as sink:
        port = sink.url.rsplit(":", 1)[1]
        wid = _register(lclient, loop, f"http://hooks.partner.test:{port}/in", ["engagement.*"]).json()["id"]
        calls: list[str] = []

        def resolver(host: str, _port: int) -> list[Any]:
            calls.append(host)
            return [ipaddress.ip_address("127.0.0.1")]

        _ask(lclient, loop)
        with worker(loop_settings, engine) as runner:
            runner.resolver = resolver
            _deliver_all(runner)
        assert calls == ["hooks.partner.test"]
        [got] = sink.received
        assert got.headers["host"] == f"hooks.partner.test:{port}" and got.path == "/in"
        # Without WEBHOOK_ALLOW_PRIVATE the same answer is refused: nothing is sent.
        lclient.post(f"/v1/webhooks/{wid}/test", headers=loop.h("x"))
        with worker(loop_settings, engine, WEBHOOK_ALLOW_PRIVATE=False) as runner:
            runner.resolver = resolver
            runner.deliver()
        assert len(sink.received) == 1
    last = lclient.get(f"/v1/webhooks/{wid}/deliveries", headers=loop.h("x")).json()["items"][0]
    assert last["event_type"] == "webhook.test" and "not https" in last["last_error"]


def test_a_rebinding_name_is_refused_on_a_private_answer(session: Session, loop_settings: Settings) -> None:
    """https, a name resolving to a private address at delivery time: refused before any connection."""
    import httpx

    from app.worker.delivery import Claimed, send

    item = Claimed("d1", "w1", "https://rebind.example.org/x", "whsec_c2VjcmV0c2VjcmV0", "msg_1", "{}")
    answers = iter([[ipaddress.ip_address("93.184.216.34"), ipaddress.ip_address("10.0.0.7")]])

    async def attempt() -> Any:
        async with httpx.AsyncClient() as client:
            return await send(client, item, timeout_s=1.0, allow_private=False, resolver=lambda h, p: next(answers))

    outcome = asyncio.run(attempt())
    assert not outcome.ok and "10.0.0.7 is a private address" in str(outcome.error) and outcome.status_code is None


def test_test_messages_and_two_workers_deliver_each_message_once(
    lclient: TestClient, session: Session, loop_settings: Settings, engine: Engine
) -> None:
    loop = seed_loop(session)
    with receiver() as sink:
        wid = _register(lclient, loop, sink.url, ["engagement.*"]).json()["id"]
        for _ in range(60):
            assert lclient.post(f"/v1/webhooks/{wid}/test", headers=loop.h("x")).status_code == 202
        with worker(loop_settings, engine) as one, worker(loop_settings, engine) as two:
            threads = [threading.Thread(target=_deliver_all, args=(w,)) for w in (one, two)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
    ids = [r.headers["webhook-id"] for r in sink.received]
    assert len(ids) == 60 and len(set(ids)) == 60
    assert all(r.json["type"] == "webhook.test" for r in sink.received)
