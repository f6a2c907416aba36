"""/metrics: the Prometheus text format, admin keys only, by route template; summed over two live workers."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine
from sqlmodel import Session

from tests.conftest import migrate
from tests.dbutil import fresh_database_url
from tests.factories import auth, make_key, make_need, make_provider, make_recommendation
from tests.live import LiveServer, free_port

pytestmark = pytest.mark.db


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape, by (name, sorted labels)."""
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def value(found: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float | None:
    return found.get((name, tuple(sorted(labels.items()))))


def test_metrics_are_for_admin_keys_and_count_by_route_template(client: TestClient, session: Session) -> None:
    _, admin = make_key(session, "admin")
    _, state = make_key(session, "state", state="KEN")
    rec = make_recommendation(session, state_under_review="KEN", text="Ratify OPCAT")
    need = make_need(session, recommendations=[rec], state="KEN", title="Preventive mechanism")
    make_provider(session, name="Torture prevention", description="Prevention of torture in detention (OPCAT)")
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers=auth(state)).status_code == 403

    before = samples(client.get("/metrics", headers=auth(admin)).text)
    for limit in (5, 6, 7):  # three different answers: the ranking runs for each
        assert client.get(f"/v1/needs/{need.id}/matches?limit={limit}").status_code == 200
    matched = samples(client.get("/metrics", headers=auth(admin)).text)
    # The same anonymous request again is answered from the answers the worker keeps: counted under its
    # route all the same, with no ranking run.
    assert client.get(f"/v1/needs/{need.id}/matches?limit=5").status_code == 200
    assert client.get("/v1/no-such-thing").status_code == 404
    response = client.get("/metrics", headers=auth(admin))

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    after = samples(response.text)
    route = "/v1/needs/{need_id}/matches"
    counted = value(after, "upr_http_requests_total", method="GET", route=route, status="200") or 0
    assert counted - (value(before, "upr_http_requests_total", method="GET", route=route, status="200") or 0) == 4
    ranked = value(after, "upr_match_duration_seconds_count", operation="need")
    assert ranked == value(matched, "upr_match_duration_seconds_count", operation="need")
    assert (value(after, "upr_http_requests_total", method="GET", route="unmatched", status="404") or 0) >= 1
    assert (value(after, "upr_match_duration_seconds_count", operation="need") or 0) >= 3
    assert (value(after, "upr_http_request_duration_seconds_count", method="GET", route=route) or 0) >= 4
    assert value(after, "upr_match_index_documents", side="provider") == 1
    assert value(after, "upr_match_index_documents", side="need") == 1
    assert value(after, "upr_index_change_newest_seq") == value(after, "upr_match_index_applied_seq")


@pytest.mark.slow
def test_two_workers_are_summed(tmp_path: Path) -> None:
    with fresh_database_url(tmp_path) as url:
        migrate(url)
        engine = create_engine(url)
        with Session(engine) as session:
            _, admin = make_key(session, "admin")
        engine.dispose()
        # Requests go on until both workers have answered some: lift the per-address rate limit.
        env = {"DATABASE_URL": url, "RATE_LIMIT_PER_MINUTE": "1000000"}
        with LiveServer(env=env, workers=2, log=tmp_path / "server.log") as server:

            def scrape() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
                with httpx.Client(base_url=server.url, timeout=10, headers=auth(admin)) as fresh:
                    response = fresh.get("/metrics")
                    assert response.status_code == 200, response.text
                    return samples(response.text)

            # A fresh connection each time, until both workers have answered some: on a busy machine
            # the second worker may still be starting when the first answers.
            requests, deadline = 0, time.monotonic() + 120
            while True:
                for _ in range(20):
                    with httpx.Client(base_url=server.url, timeout=10) as fresh:
                        assert fresh.get("/v1/recommendations?limit=1").status_code == 200
                    requests += 1
                answered = [v for (name, _), v in scrape().items() if name == "upr_worker_requests"]
                if sum(v > 0 for v in answered) >= 2 or time.monotonic() > deadline:
                    break
            scrapes = [scrape() for _ in range(6)]  # whichever worker answers a scrape, it sums both

    for found in scrapes:
        route = {"method": "GET", "route": "/v1/recommendations", "status": "200"}
        assert value(found, "upr_http_requests_total", **route) == requests
    last = scrapes[-1]
    per_worker = {dict(labels)["pid"]: v for (name, labels), v in last.items() if name == "upr_worker_requests"}
    # Two workers, or more when the supervisor replaced some that did not answer its health check in
    # time (seen in CI on a loaded machine: one, then two replaced, each having answered little):
    # the replaced workers' counts stay in the sums, as Prometheus counters should.
    assert len(per_worker) >= 2, per_worker
    assert sum(v > 0 for v in per_worker.values()) >= 2, f"fewer than two workers answered: {per_worker}"
    # Every request of every worker is in the sum (the scrapes count too, up to the one being answered).
    total = sum(v for (name, _), v in last.items() if name == "upr_http_requests_total")
    assert sum(per_worker.values()) == total
    started = {dict(labels)["pid"] for (name, labels) in last if name == "upr_worker_start_time_seconds"}
    assert len(started) >= 2


@pytest.mark.slow
def test_metrics_on_their_own_port(tmp_path: Path) -> None:
    port = free_port()
    with fresh_database_url(tmp_path) as url:
        migrate(url)
        env = {"DATABASE_URL": url, "METRICS_PORT": str(port)}
        with LiveServer(env=env, workers=2, log=tmp_path / "server.log") as server:
            assert httpx.get(f"{server.url}/v1/recommendations?limit=1").status_code == 200
            assert httpx.get(f"{server.url}/metrics").status_code == 404  # not on the API port
            response = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
    assert response.status_code == 200
    found = samples(response.text)
    assert value(found, "upr_http_requests_total", method="GET", route="/v1/recommendations", status="200") == 1
    assert value(found, "upr_index_change_newest_seq") == 0
