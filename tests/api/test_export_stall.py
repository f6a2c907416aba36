"""Clients that open an export and read nothing never take the service down.

A live server (a real socket stack, so a client that stops reading really stalls the
server's writes) gets twice as many stalled export clients as its connection pool holds;
while they stay connected every other endpoint answers normally, and once they drop the
pool is whole again.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine
from sqlmodel import Session

from tests.conftest import migrate
from tests.dbutil import backend, fresh_database_url
from tests.factories import auth, make_key, make_need, make_provider, make_recommendation
from tests.live import LiveServer

pytestmark = [pytest.mark.db, pytest.mark.slow]

POOL_SIZE = 2
# create_db_engine: PostgreSQL overflows by the pool size again, SQLite by twice the pool size.
CAPACITY = POOL_SIZE * (2 if backend() == "postgresql" else 3)
STALLED = 2 * CAPACITY
ROWS = 1_500  # about 3 MB of JSON Lines: far more than the socket buffers take in
ANSWER_WITHIN_S = 2.0
WHOLE_WITHIN_S = 5.0


def _seed(url: str) -> tuple[str, str, str, str]:
    engine = create_engine(url)
    with Session(engine) as session:
        _, admin = make_key(session, "admin")
        filler = " ".join(["Strengthen the independence of the national human rights institution."] * 28)
        for i in range(ROWS):
            session.add(_recommendation_row(i, filler))
        session.commit()
        rec = make_recommendation(session, id="test-stall-cited", text="Ratify the Optional Protocol against Torture.")
        need = make_need(session, recommendations=[rec])
        provider = make_provider(session)
        ids = (admin, rec.id, need.id, provider.id)
    engine.dispose()
    return ids


def _recommendation_row(i: int, text: str):  # type: ignore[no-untyped-def]
    from app.models.recommendation import Recommendation

    return Recommendation(
        id=f"test-stall-{i:05d}",
        source="test",
        cycle=2,
        session=15,
        state_under_review="FRA",
        state_under_review_name="France",
        text=f"{i} {text}",
        response="supported",
        content_hash=f"{i:064d}",
    )


def _stalled_export(port: int) -> socket.socket:
    """Ask for the whole export over a socket with a tiny receive buffer, then read nothing."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
    sock.connect(("127.0.0.1", port))
    sock.sendall(b"GET /v1/recommendations/export?format=jsonl HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    return sock


def _pool_checked_out(client: httpx.Client) -> int:
    ready = client.get("/health/ready")
    assert ready.status_code == 200, ready.text
    return int(ready.json()["checks"]["database"]["pool"]["checked_out"])


def test_stalled_export_clients_hold_no_database_connection(tmp_path: Path) -> None:
    with fresh_database_url(tmp_path) as url:
        migrate(url)
        admin, rec_id, need_id, provider_id = _seed(url)
        env = {
            "DATABASE_URL": url,
            "DB_POOL_SIZE": str(POOL_SIZE),
            # Admit every stalled client: the point is that none of them holds a connection.
            "EXPORT_MAX_CONCURRENT": str(STALLED),
            "EXPORT_SEND_TIMEOUT_S": "120",
        }
        with LiveServer(env=env, log=tmp_path / "server.log") as server:
            client = httpx.Client(base_url=server.url, headers=auth(admin), timeout=ANSWER_WITHIN_S)
            stalled = [_stalled_export(server.port) for _ in range(STALLED)]
            try:
                time.sleep(1.5)  # every export is past its first batch and blocked on a full socket
                requests = [
                    ("GET", "/health/ready", None),
                    ("GET", "/v1/recommendations?limit=1", None),
                    ("GET", "/v1/recommendations?q=torture", None),
                    ("GET", f"/v1/recommendations/{rec_id}", None),
                    ("GET", "/v1/recommendations/facets?state=FRA", None),
                    ("GET", "/v1/needs?limit=1", None),
                    ("GET", f"/v1/needs/{need_id}", None),
                    ("GET", f"/v1/needs/{need_id}/matches", None),
                    ("GET", "/v1/providers?limit=1", None),
                    ("GET", f"/v1/providers/{provider_id}", None),
                    ("GET", f"/v1/providers/{provider_id}/matches", None),
                    ("GET", "/v1/activities", None),
                    ("GET", "/v1/keys", None),
                    ("POST", "/v1/keys", {"name": "during the stall", "role": "state", "state": "FRA"}),
                    ("POST", "/v1/match", {"text": "torture prevention training"}),
                    ("GET", "/recommendations", None),
                    ("GET", "/providers", None),
                    ("GET", "/signin", None),
                ]
                for method, path, body in requests:
                    started = time.monotonic()
                    response = client.request(method, path, json=body)
                    elapsed = time.monotonic() - started
                    assert response.status_code in (200, 201), (path, response.status_code, response.text[:300])
                    assert elapsed < ANSWER_WITHIN_S, (path, elapsed)
            finally:
                for sock in stalled:
                    sock.close()
            deadline = time.monotonic() + WHOLE_WITHIN_S
            while _pool_checked_out(client) and time.monotonic() < deadline:
                time.sleep(0.2)
            assert _pool_checked_out(client) == 0
            assert client.get("/v1/needs?limit=1").status_code == 200
