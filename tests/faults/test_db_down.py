"""PostgreSQL goes down under load: every request is a fast 503, the service recovers, nothing acknowledged is lost."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.factories import auth
from tests.live import ROOT, LiveServer, free_port, migrated_with_admin

pytestmark = [pytest.mark.faults, pytest.mark.slow]


DOWN_ROUNDS = 10


def _pg_available() -> bool:
    return bool(list(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))) and shutil.which("runuser") is not None


def _pg(action: str, port: int, data: Path) -> None:
    env = {**os.environ, "PGPORT": str(port), "PGDATA_DIR": str(data)}
    subprocess.run([str(ROOT / "scripts" / "postgres-local.sh"), action], env=env, check=True, capture_output=True)


@pytest.mark.skipif(not _pg_available(), reason="PostgreSQL server binaries not installed")
def test_database_down_then_back(tmp_path: Path) -> None:
    port, data = free_port(), Path("/tmp") / f"upr-match-fault-pg-{os.getpid()}"
    _pg("reset", port, data)
    try:
        url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
        admin = migrated_with_admin(url)
        with LiveServer(env={"DATABASE_URL": url}, log=tmp_path / "server.log") as server:
            client = httpx.Client(base_url=server.url, headers=auth(admin), timeout=10)
            acknowledged: list[str] = []
            for i in range(10):
                response = client.post("/v1/keys", json={"name": f"before-{i}", "role": "admin"})
                assert response.status_code == 201
                acknowledged.append(response.json()["id"])

            _pg("kill", port, data)
            down_results = []
            # Rounds of a read and a write: the first finds the connections broken, the others ask for
            # new ones: ten rounds show what five seconds of rounds showed.
            for _ in range(DOWN_ROUNDS):
                for method, path in (("GET", "/v1/keys"), ("POST", "/v1/keys")):
                    started = time.monotonic()
                    response = client.request(
                        method, path, json={"name": "during", "role": "admin"} if method == "POST" else None
                    )
                    down_results.append(
                        (response.status_code, response.headers.get("content-type"), time.monotonic() - started)
                    )
                time.sleep(0.05)
            assert httpx.get(server.url + "/health/live").status_code == 200
            assert httpx.get(server.url + "/health/ready", timeout=10).status_code == 503

            _pg("start", port, data)
            back_at = time.monotonic()
            while time.monotonic() - back_at < 10:
                if client.get("/v1/keys").status_code == 200:
                    break
                time.sleep(0.2)
            recovery = time.monotonic() - back_at

            ids = set()
            offset = 0
            while True:
                page = client.get("/v1/keys", params={"limit": 100, "offset": offset}).json()
                ids |= {item["id"] for item in page["items"]}
                offset += 100
                if offset >= page["total"]:
                    break

        assert down_results, "no requests were made while the database was down"
        statuses = {status for status, _, _ in down_results}
        assert statuses == {503}, f"while down: {sorted(statuses)}"
        assert all(ct and ct.startswith("application/problem+json") for _, ct, _ in down_results)
        assert max(elapsed for *_, elapsed in down_results) < 5.0
        assert recovery < 10.0, f"first success {recovery:.1f}s after restart"
        assert set(acknowledged) <= ids, "an acknowledged write was lost"
    finally:
        _pg("kill", port, data)
        shutil.rmtree(data, ignore_errors=True)
