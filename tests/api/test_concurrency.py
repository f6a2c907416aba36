"""Conditional requests and concurrent edits: ETag, 304, 428, 412, and no lost update under a race."""

from __future__ import annotations

import threading

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.core.errors import PreconditionRequired
from app.http.etag import make_etag, none_match, parse_if_match
from tests.factories import auth, make_activity, make_key, make_need, make_provider, make_recommendation
from tests.test_errors import assert_problem

ROUNDS = 100


# --- header parsing (no database) ------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "versions"),
    [
        ('"3"', {3}),
        ('"3", "4"', {3, 4}),
        ('W/"3"', set()),
        ('"3.public"', set()),
        ('"abc"', set()),
        ("3", set()),
    ],
)
def test_parse_if_match(header: str, versions: set[int]) -> None:
    assert parse_if_match(header) == versions


@pytest.mark.parametrize("header", [None, "", "  ", "*"])
def test_if_match_missing_or_star_is_428(header: str | None) -> None:
    with pytest.raises(PreconditionRequired):
        parse_if_match(header)


def test_none_match_uses_weak_comparison() -> None:
    assert none_match('"3"', '"3"') and none_match('W/"3"', '"3"') and none_match("*", '"3"')
    assert none_match('"1", "3"', '"3"')
    assert not none_match('"2"', '"3"') and not none_match(None, '"3"')
    assert make_etag(3) == '"3"' and make_etag(3, public=True) == '"3.public"'


# --- through the API ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["need", "provider", "activity"])
def test_get_etag_then_304_then_new_etag_after_change(client: TestClient, session: Session, kind: str) -> None:
    _, admin = make_key(session, "admin")
    provider = make_provider(session)
    row = {
        "need": lambda: make_need(session),
        "provider": lambda: provider,
        "activity": lambda: make_activity(session, provider),
    }[kind]()
    url = f"/v1/{'activities' if kind == 'activity' else kind + 's'}/{row.id}"
    first = client.get(url, headers=auth(admin))
    etag = first.headers["etag"]
    assert first.status_code == 200 and etag == '"1"'
    cached = client.get(url, headers={**auth(admin), "If-None-Match": etag})
    assert cached.status_code == 304 and cached.content == b"" and cached.headers["etag"] == etag
    assert client.get(url, headers={**auth(admin), "If-None-Match": '"99"'}).status_code == 200
    patch = {"need": {"title": "Renamed need"}, "provider": {"name": "Renamed"}, "activity": {"title": "Renamed"}}[kind]
    changed = client.patch(url, json=patch, headers={**auth(admin), "If-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] == '"2"' and changed.json()["version"] == 2
    after = client.get(url, headers={**auth(admin), "If-None-Match": etag})
    assert after.status_code == 200 and after.headers["etag"] == '"2"'


@pytest.mark.parametrize("method", ["PATCH", "DELETE"])
def test_write_without_if_match_is_428_and_stale_is_412(client: TestClient, session: Session, method: str) -> None:
    _, fra = make_key(session, "state", state="FRA")
    need = make_need(session)
    url = f"/v1/needs/{need.id}"
    body = {"title": "Changed title"} if method == "PATCH" else None
    # Authentication is checked before the precondition: no key, no hint about If-Match.
    assert_problem(client.request(method, url, json=body), 401)
    problem = assert_problem(client.request(method, url, json=body, headers=auth(fra)), 428)
    assert "If-Match" in problem["detail"]
    assert_problem(client.request(method, url, json=body, headers={**auth(fra), "If-Match": "*"}), 428)
    stale = assert_problem(client.request(method, url, json=body, headers={**auth(fra), "If-Match": '"7"'}), 412)
    assert stale["current_etag"] == '"1"'
    assert_problem(client.request(method, url, json=body, headers={**auth(fra), "If-Match": 'W/"1"'}), 412)
    assert client.get(url).json()["version"] == 1
    ok = client.request(method, url, json=body, headers={**auth(fra), "If-Match": '"0", "1"'})
    assert ok.status_code == (200 if method == "PATCH" else 204)


def test_openapi_documents_if_match_and_its_problems(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/v1/needs/{need_id}", "/v1/providers/{provider_id}", "/v1/activities/{activity_id}"):
        for method in ("patch", "delete"):
            operation = paths[path][method]
            headers = {p["name"]: p for p in operation["parameters"] if p["in"] == "header"}
            assert "Required" in headers["If-Match"]["description"]
            assert {"412", "428"} <= set(operation["responses"])
        assert "304" in paths[path]["get"]["responses"]


def test_concurrent_patches_with_one_etag_never_both_win(client: TestClient, session: Session) -> None:
    _, fra = make_key(session, "state", state="FRA")
    need = make_need(session)
    url = f"/v1/needs/{need.id}"
    for round_no in range(ROUNDS):
        etag = client.get(url, headers=auth(fra)).headers["etag"]
        barrier = threading.Barrier(2)
        results: dict[str, object] = {}

        def patch(
            name: str,
            etag: str = etag,
            barrier: threading.Barrier = barrier,
            results: dict = results,
            round_no: int = round_no,
        ) -> None:  # type: ignore[type-arg]
            body = {"title": f"round {round_no} by {name}", "description": f"written by {name}"}
            barrier.wait()
            results[name] = client.patch(url, json=body, headers={**auth(fra), "If-Match": etag})

        threads = [threading.Thread(target=patch, args=(name,)) for name in ("a", "b")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        statuses = sorted(r.status_code for r in results.values())  # type: ignore[attr-defined]
        assert statuses == [200, 412], (round_no, [r.text for r in results.values()])  # type: ignore[attr-defined]
        winner = next(r for r in results.values() if r.status_code == 200)  # type: ignore[attr-defined]
        loser = next(r for r in results.values() if r.status_code == 412)  # type: ignore[attr-defined]
        assert_problem(loser, 412)
        final = client.get(url, headers=auth(fra)).json()
        assert final == winner.json()  # type: ignore[attr-defined]
        assert final["version"] == round_no + 2


def _race(n: int, send: object) -> list[object]:
    barrier = threading.Barrier(n)
    results: list[object] = []

    def run() -> None:
        barrier.wait()
        results.append(send())  # type: ignore[operator]

    threads = [threading.Thread(target=run) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_concurrent_duplicate_needs_create_one_row(client: TestClient, session: Session) -> None:
    _, fra = make_key(session, "state", state="FRA")
    rec = make_recommendation(session)
    body = {"title": "Same need, filed eight times", "recommendation_ids": [rec.id]}
    results = _race(8, lambda: client.post("/v1/needs", json=body, headers=auth(fra)))
    statuses = sorted(r.status_code for r in results)  # type: ignore[attr-defined]
    assert statuses == [201] + [409] * 7, [r.text for r in results]  # type: ignore[attr-defined]
    created = next(r for r in results if r.status_code == 201).json()  # type: ignore[attr-defined]
    for refused in (r for r in results if r.status_code == 409):  # type: ignore[attr-defined]
        assert assert_problem(refused, 409)["existing_id"] == created["id"]
    assert client.get("/v1/needs").json()["total"] == 1


def test_concurrent_self_registrations_with_one_key_create_one_provider(client: TestClient, session: Session) -> None:
    _, unbound = make_key(session, "provider", name="UNDP")
    body = {"name": "UNDP", "kind": "un_entity", "description": "Rule of law and access to justice programmes."}
    results = _race(6, lambda: client.post("/v1/providers", json=body, headers=auth(unbound)))
    statuses = sorted(r.status_code for r in results)  # type: ignore[attr-defined]
    assert statuses.count(201) == 1 and set(statuses) <= {201, 403, 409}, statuses
    assert client.get("/v1/providers").json()["total"] == 1
