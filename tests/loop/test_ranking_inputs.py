"""What engagements teach the ranking, through its inputs: out-of-scope declines exclude, acceptances are history."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.loop.helpers import Loop, seed_loop


def _matches(client: TestClient, loop: Loop) -> dict[str, Any]:
    items = client.get(f"/v1/needs/{loop.need.id}/matches?limit=50").json()["items"]
    return {m["provider"]["id"]: m for m in items}


def _engage(client: TestClient, loop: Loop, provider: str) -> str:
    provider_id = loop.x.id if provider == "x" else loop.y.id
    response = client.post(
        f"/v1/needs/{loop.need.id}/engagements",
        headers=loop.h("fra"),
        json={"provider_id": provider_id, "message": "Could you help?"},
    )
    return str(response.json()["id"])


def test_a_provider_that_declined_as_out_of_scope_is_not_suggested_again_for_that_need(
    client: TestClient, session: Session
) -> None:
    loop = seed_loop(session)
    assert {loop.x.id, loop.y.id} <= set(_matches(client, loop))
    x_engagement, y_engagement = _engage(client, loop, "x"), _engage(client, loop, "y")
    client.post(
        f"/v1/engagements/{x_engagement}/decline",
        headers=loop.h("x", **{"If-Match": '"1"'}),
        json={"reason": "out_of_scope"},
    )
    client.post(
        f"/v1/engagements/{y_engagement}/decline",
        headers=loop.h("y", **{"If-Match": '"1"'}),
        json={"reason": "no_capacity"},
    )
    after = _matches(client, loop)
    assert loop.x.id not in after and loop.y.id in after  # only out_of_scope excludes
    # Nor is the need suggested to that provider any more.
    for_x = client.get(f"/v1/providers/{loop.x.id}/matches", headers=loop.h("x")).json()["items"]
    assert loop.need.id not in {m["need"]["id"] for m in for_x}
    for_y = client.get(f"/v1/providers/{loop.y.id}/matches", headers=loop.h("y")).json()["items"]
    assert loop.need.id in {m["need"]["id"] for m in for_y}
    # The need page, which ranks with the same service, does not show it either; nor does any public answer
    # say it declined.
    page = client.get(f"/needs/{loop.need.id}").text
    assert "Prison Reform Helpers" not in page and "out_of_scope" not in page


def test_an_accepted_engagement_counts_as_cooperation_in_the_history_signal(
    client: TestClient, session: Session
) -> None:
    loop = seed_loop(session)
    before = _matches(client, loop)[loop.x.id]["explanation"]["signals"]
    assert "history" not in before  # no cooperation recorded anywhere yet
    engagement = _engage(client, loop, "x")
    client.post(f"/v1/engagements/{engagement}/accept", headers=loop.h("x", **{"If-Match": '"1"'}))
    after = _matches(client, loop)
    history = after[loop.x.id]["explanation"]["signals"]["history"]
    assert history["value"] == 1.0 and history["detail"] == "has cooperated with FRA"
    assert after[loop.y.id]["explanation"]["signals"]["history"]["value"] == 0.0
    assert after[loop.x.id]["score"] > _score_of(before)


def _score_of(signals: dict[str, Any]) -> float:
    """The score from its signals (the weighted mean), to compare with the score once history applies."""
    weights = sum(s["weight"] for s in signals.values())
    return sum(s["value"] * s["weight"] for s in signals.values()) / weights
