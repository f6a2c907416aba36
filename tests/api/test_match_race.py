"""Matches stay correct while providers are created and deleted in other threads.

Each worker's index follows the change log; a refresh must never be seen half
done by a match running at the same time (no `dictionary changed size during
iteration`, no `KeyError`, never a 500).
"""

from __future__ import annotations

import sys
import threading
import uuid

from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.factories import auth, make_key, make_need, make_provider

MATCHERS = 3
ROUNDS = 120  # match requests per matcher thread (the writer gets dozens of create-delete pairs in meanwhile)
LIMIT = 50


def test_matches_in_threads_while_providers_come_and_go(client: TestClient, session: Session) -> None:
    _, admin = make_key(session, "admin")
    need = make_need(session, title="Prevent torture in places of detention")
    # GET: a read transaction, so matches run side by side (a POST would queue behind SQLite's write lock).
    matches_url = f"/v1/needs/{need.id}/matches?limit={LIMIT}"
    for i in range(150):
        make_provider(session, name=f"Provider {i:03d}", description=f"Prevention of torture, programme {i}.")
    stop = threading.Event()
    failures: list[str] = []
    writes = [0]

    def churn() -> None:
        while not stop.is_set():
            created = client.post(
                "/v1/providers",
                headers=auth(admin),
                json={
                    "name": f"Churn {uuid.uuid4().hex[:8]}",
                    "kind": "ngo",
                    "description": "Monitors places of detention and trains prison staff against torture.",
                },
            )
            if created.status_code != 201:
                failures.append(f"create {created.status_code}: {created.text[:200]}")
                return
            etag = created.headers["etag"]
            # A match now puts the new provider in this worker's index, so the delete takes it out again.
            client.get(matches_url)
            gone = client.delete(f"/v1/providers/{created.json()['id']}", headers={**auth(admin), "If-Match": etag})
            if gone.status_code != 204:
                failures.append(f"delete {gone.status_code}: {gone.text[:200]}")
                return
            writes[0] += 2

    def match() -> None:
        for _ in range(ROUNDS):
            response = client.get(matches_url)
            if response.status_code != 200:
                failures.append(f"match {response.status_code}: {response.text[:300]}")
                return
            ids = [item["provider"]["id"] for item in response.json()["items"]]
            if len(ids) != len(set(ids)):
                failures.append(f"a provider ranked twice: {ids}")
                return

    writer = threading.Thread(target=churn)
    readers = [threading.Thread(target=match) for _ in range(MATCHERS)]
    # Switch threads far more often than the default 5 ms, so a match is interrupted mid-ranking.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        writer.start()
        for t in readers:
            t.start()
        for t in readers:
            t.join()
    finally:
        stop.set()
        writer.join()
        sys.setswitchinterval(interval)
    assert not failures, failures[:3]
    assert writes[0] > 20, "the writer must have created and deleted providers during the matches"
