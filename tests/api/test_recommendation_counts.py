"""List totals: a lone list filter (theme, SDG...) is counted on its index table, each recommendation once."""

from __future__ import annotations

import random

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session

from tests.api.test_recommendations import JSONL, body
from tests.factories import auth, make_key
from tests.test_importer import rec

pytestmark = pytest.mark.db

THEMES = ["Death penalty", "Women's rights", "Torture and other CID treatment", "Disabilities"]


def test_totals_equal_the_rows_listed(client: TestClient, session: Session) -> None:
    rng = random.Random(7)
    responses = [rng.choice(["supported", "noted"]) for _ in range(61)]
    records = [
        rec(
            n,
            themes=rng.sample(THEMES, rng.randint(1, 3)),
            sdgs=rng.sample([5, 10, 16], rng.randint(0, 2)),
            response=responses[n],
            response_raw="accepted" if responses[n] == "supported" else "noted",
        )
        for n in range(1, 61)
    ]
    _, key = make_key(session, role="admin")
    response = client.post("/v1/recommendations/import", content=body(records), headers={**auth(key), **JSONL})
    assert response.status_code == 201, response.text
    # A third of them are other sources' copies of another record: listed once unless include_linked.
    session.rollback()
    for n in range(2, 61, 3):
        session.exec(  # type: ignore[call-overload]
            text("UPDATE recommendation SET canonical_id = :c WHERE id = :id"),
            params={"c": f"test-c2-s15-FRA-{n - 1:04d}", "id": f"test-c2-s15-FRA-{n:04d}"},
        )
    session.commit()
    for query in (
        "theme=Death penalty",
        "theme=Women%27s rights&theme=Disabilities",
        "sdg=5",
        "sdg=5&sdg=16",
        "theme=Death penalty&response=noted",
        "",
    ):
        for linked in ("", "&include_linked=true"):
            every = client.get(f"/v1/recommendations?{query}{linked}&limit=100").json()
            assert every["total"] == len(every["items"]) > 0, (query, linked)
            assert len({item["id"] for item in every["items"]}) == every["total"]
            page = client.get(f"/v1/recommendations?{query}{linked}&limit=3&offset=1").json()
            assert page["total"] == every["total"], (query, linked)
    lone = client.get("/v1/recommendations?theme=Death penalty&limit=100").json()
    linked = client.get("/v1/recommendations?theme=Death penalty&include_linked=true&limit=100").json()
    assert lone["total"] < linked["total"], "copies are left out by default"
