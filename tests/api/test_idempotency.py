"""Idempotency-Key on POST (Stripe semantics), exercised on a probe endpoint that counts its calls."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel, ConfigDict
from sqlmodel import Session, func, select

from app.http import idempotency
from app.http.idempotency import MAX_SAVED_BYTES, PURGE_BATCH
from app.models.common import utcnow
from app.models.idempotency import IdempotencyRecord
from tests.conftest import run_cli
from tests.factories import auth, make_key
from tests.test_errors import assert_problem


class Thing(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str


@pytest.fixture
def calls(app: FastAPI) -> list[str]:
    seen: list[str] = []
    lock = threading.Lock()

    @app.post("/v1/_things", status_code=201)
    def create_thing(body: Thing) -> dict[str, object]:
        with lock:
            seen.append(body.name)
            return {"name": body.name, "n": len(seen)}

    return seen


@pytest.fixture
def admin(session: Session) -> dict[str, str]:
    _, key = make_key(session, "admin")
    return auth(key)


def test_retry_replays_first_answer_without_running_again(
    client: TestClient, calls: list[str], admin: dict[str, str]
) -> None:
    headers = {**admin, "Idempotency-Key": "k-1"}
    first = client.post("/v1/_things", json={"name": "a"}, headers=headers)
    second = client.post("/v1/_things", json={"name": "a"}, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.content == second.content
    assert second.headers["idempotent-replayed"] == "true"
    assert calls == ["a"]


def test_same_key_different_body_is_422(client: TestClient, calls: list[str], admin: dict[str, str]) -> None:
    headers = {**admin, "Idempotency-Key": "k-2"}
    assert client.post("/v1/_things", json={"name": "a"}, headers=headers).status_code == 201
    body = assert_problem(client.post("/v1/_things", json={"name": "b"}, headers=headers), 422)
    assert body["code"] == "IDEMPOTENCY_MISMATCH"
    assert calls == ["a"]


def test_validation_failure_is_not_saved(client: TestClient, calls: list[str], admin: dict[str, str]) -> None:
    headers = {**admin, "Idempotency-Key": "k-3"}
    assert_problem(client.post("/v1/_things", json={"name": "a", "extra": 1}, headers=headers), 422)
    retry = client.post("/v1/_things", json={"name": "a"}, headers=headers)
    assert retry.status_code == 201 and calls == ["a"]


def test_keys_are_scoped_per_api_key(client: TestClient, calls: list[str], session: Session) -> None:
    _, first = make_key(session, "admin")
    _, second = make_key(session, "admin")
    one = client.post("/v1/_things", json={"name": "a"}, headers={**auth(first), "Idempotency-Key": "shared"})
    # The same Idempotency-Key from another key is another request, even with the same body.
    two = client.post("/v1/_things", json={"name": "a"}, headers={**auth(second), "Idempotency-Key": "shared"})
    assert one.status_code == two.status_code == 201
    assert "idempotent-replayed" not in two.headers
    assert calls == ["a", "a"]
    # One key spelled differently is still that key.
    again = client.post(
        "/v1/_things", json={"name": "a"}, headers={"Authorization": f"bearer  {first}", "Idempotency-Key": "shared"}
    )
    assert again.headers["idempotent-replayed"] == "true" and calls == ["a", "a"]


def test_anonymous_requests_are_never_recorded(client: TestClient, calls: list[str], session: Session) -> None:
    headers = {"Idempotency-Key": "anon"}
    first = client.post("/v1/_things", json={"name": "a"}, headers=headers)
    second = client.post("/v1/_things", json={"name": "a"}, headers=headers)
    assert first.status_code == second.status_code == 201
    assert "idempotent-replayed" not in second.headers
    assert calls == ["a", "a"]
    assert session.exec(select(func.count()).select_from(IdempotencyRecord)).one() == 0


def test_a_revoked_key_never_replays(client: TestClient, calls: list[str], session: Session) -> None:
    row, key = make_key(session, "admin")
    headers = {**auth(key), "Idempotency-Key": "k-revoked"}
    assert client.post("/v1/_things", json={"name": "a"}, headers=headers).status_code == 201
    session.rollback()  # a fresh snapshot (SQLite cannot turn a stale one into a writer)
    row.revoked_at = utcnow()
    session.add(row)
    session.commit()
    replay = client.post("/v1/keys", json={"name": "x", "role": "admin"}, headers=headers)
    assert_problem(replay, 401)
    probe = client.post("/v1/_things", json={"name": "a"}, headers=headers)
    assert "idempotent-replayed" not in probe.headers


def test_a_large_answer_is_not_saved(client: TestClient, app: FastAPI, admin: dict[str, str]) -> None:
    runs: list[int] = []

    @app.post("/v1/_big", status_code=201)
    def big() -> dict[str, str]:
        runs.append(1)
        return {"blob": "x" * (MAX_SAVED_BYTES + 1)}

    headers = {**admin, "Idempotency-Key": "k-big"}
    assert client.post("/v1/_big", headers=headers).status_code == 201
    again = client.post("/v1/_big", headers=headers)
    assert again.status_code == 201 and "idempotent-replayed" not in again.headers
    assert len(runs) == 2


def test_an_oversized_chunked_body_with_a_key_is_413(client: TestClient, admin: dict[str, str]) -> None:
    def chunks():  # type: ignore[no-untyped-def]
        for _ in range(40):
            yield b"x" * 65536  # 2.5 MiB, over MAX_BODY_BYTES, with no Content-Length

    response = client.post(
        "/v1/needs",
        content=chunks(),
        headers={**admin, "Idempotency-Key": "k-huge", "Content-Type": "application/json"},
    )
    assert_problem(response, 413)


def test_expired_records_are_purged_in_batches(
    client: TestClient, calls: list[str], session: Session, admin: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    old = utcnow() - timedelta(hours=25)
    for i in range(PURGE_BATCH + 20):
        session.add(IdempotencyRecord(client="gone", key=f"k{i}", request_hash="h", state="done", created_at=old))
    session.add(IdempotencyRecord(client="kept", key="fresh", request_hash="h", state="done"))
    session.commit()
    monkeypatch.setattr(idempotency, "_purges", idempotency._PurgeSchedule())
    assert (
        client.post("/v1/_things", json={"name": "a"}, headers={**admin, "Idempotency-Key": "k-p"}).status_code == 201
    )
    count = select(func.count()).select_from(IdempotencyRecord)
    assert session.exec(count.where(IdempotencyRecord.client == "gone")).one() == 20  # one batch on write
    # A second write within the minute does not purge again.
    client.post("/v1/_things", json={"name": "b"}, headers={**admin, "Idempotency-Key": "k-q"})
    assert session.exec(count.where(IdempotencyRecord.client == "gone")).one() == 20
    session.rollback()
    result = run_cli(["purge"], database_url=session.get_bind().url.render_as_string(hide_password=False))
    assert result.exit_code == 0, result.output
    assert "20 expired deleted" in result.output
    assert session.exec(count.where(IdempotencyRecord.client == "gone")).one() == 0
    assert session.exec(count.where(IdempotencyRecord.client == "kept")).one() == 1


def test_parallel_requests_with_one_key_run_once(client: TestClient, calls: list[str], admin: dict[str, str]) -> None:
    headers = {**admin, "Idempotency-Key": "k-par"}
    with ThreadPoolExecutor(max_workers=10) as pool:
        responses = list(pool.map(lambda _: client.post("/v1/_things", json={"name": "p"}, headers=headers), range(10)))
    statuses = sorted(r.status_code for r in responses)
    assert calls == ["p"], "the endpoint ran more than once"
    assert set(statuses) <= {201, 409}
    bodies = {r.content for r in responses if r.status_code == 201}
    assert len(bodies) == 1


def test_expired_key_runs_again(client: TestClient, calls: list[str], session: Session, admin: dict[str, str]) -> None:
    headers = {**admin, "Idempotency-Key": "k-old"}
    client.post("/v1/_things", json={"name": "a"}, headers=headers)
    session.rollback()
    record = session.exec(select(IdempotencyRecord)).one()
    record.created_at = record.created_at - timedelta(hours=25)
    session.add(record)
    session.commit()
    again = client.post("/v1/_things", json={"name": "a"}, headers=headers)
    assert again.status_code == 201 and "idempotent-replayed" not in again.headers
    assert calls == ["a", "a"]
    assert session.exec(select(func.count()).select_from(IdempotencyRecord)).one() == 1


@pytest.mark.parametrize("key", ["", "x" * 256])
def test_bad_key_is_400(client: TestClient, calls: list[str], key: str, admin: dict[str, str]) -> None:
    assert_problem(client.post("/v1/_things", json={"name": "a"}, headers={**admin, "Idempotency-Key": key}), 400)
    assert calls == []


def test_parallel_creates_with_one_key_make_exactly_one_row(client: TestClient, session: Session) -> None:
    from app.models.provider import Provider

    _, admin = make_key(session, "admin")
    body = {"name": "Once Only", "kind": "ngo", "description": "Registered exactly once, however often it is sent."}
    headers = {**auth(admin), "Idempotency-Key": "create-once"}
    with ThreadPoolExecutor(max_workers=10) as pool:
        responses = list(pool.map(lambda _: client.post("/v1/providers", json=body, headers=headers), range(10)))
    assert {r.status_code for r in responses} <= {201, 409}
    created = [r for r in responses if r.status_code == 201]
    assert created and len({r.json()["id"] for r in created}) == 1, "replays must answer the same provider"
    session.rollback()
    assert session.exec(select(func.count()).select_from(Provider).where(Provider.name == "Once Only")).one() == 1
    retry = client.post("/v1/providers", json=body, headers=headers)
    assert retry.status_code == 201 and retry.headers["idempotent-replayed"] == "true"
    assert retry.json()["id"] == created[0].json()["id"]
