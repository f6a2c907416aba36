"""With two worker processes, a write through either is reflected in the next match of both."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine
from sqlmodel import Session

from tests.conftest import migrate
from tests.dbutil import fresh_database_url
from tests.factories import auth, make_key, make_need, make_recommendation
from tests.live import LiveServer

pytestmark = [pytest.mark.db, pytest.mark.slow]

ROUNDS = 12  # fresh connections per check, so both workers answer


def _ids(client: httpx.Client, url: str) -> list[set[str]]:
    seen = []
    for _ in range(ROUNDS):
        with httpx.Client(base_url=str(client.base_url), timeout=10) as fresh:
            response = fresh.get(url)
            assert response.status_code == 200, response.text
            seen.append({item["provider"]["id"] for item in response.json()["items"]})
    return seen


def test_two_workers_reflect_every_write_at_once(tmp_path: Path) -> None:
    with fresh_database_url(tmp_path) as url:
        migrate(url)
        engine = create_engine(url)
        with Session(engine) as session:
            _, admin = make_key(session, "admin")
            rec = make_recommendation(
                session, state_under_review="KEN", text="Ratify OPCAT and create a national preventive mechanism"
            )
            need = make_need(session, recommendations=[rec], state="KEN", title="National preventive mechanism")
            need_id = need.id
        engine.dispose()
        with LiveServer(env={"DATABASE_URL": url}, workers=2, log=tmp_path / "server.log") as server:
            client = httpx.Client(base_url=server.url, headers=auth(admin), timeout=10)
            matches = f"/v1/needs/{need_id}/matches"
            assert all(ids == set() for ids in _ids(client, matches))

            created = client.post(
                "/v1/providers",
                json={
                    "name": "Preventive Mechanism Advisers",
                    "kind": "ngo",
                    "description": "Advice on building a national preventive mechanism against torture.",
                },
            )
            assert created.status_code == 201, created.text
            provider_id = created.json()["id"]
            assert all(ids == {provider_id} for ids in _ids(client, matches)), "a worker missed the create"

            etag = client.get(f"/v1/providers/{provider_id}").headers["etag"]
            changed = client.patch(
                f"/v1/providers/{provider_id}",
                json={
                    "name": "Harbour Pilots",
                    "description": "Navigation training for harbour pilots and port staff.",
                },
                headers={"If-Match": etag},
            )
            assert changed.status_code == 200, changed.text
            assert all(ids == set() for ids in _ids(client, matches)), "a worker missed the update"

            changed_back = client.patch(
                f"/v1/providers/{provider_id}",
                json={"description": "Support to national preventive mechanisms against torture."},
                headers={"If-Match": changed.headers["etag"]},
            )
            assert all(ids == {provider_id} for ids in _ids(client, matches))
            deleted = client.delete(f"/v1/providers/{provider_id}", headers={"If-Match": changed_back.headers["etag"]})
            assert deleted.status_code == 204
            assert all(ids == set() for ids in _ids(client, matches)), "a worker missed the delete"
