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

from app.models.idempotency import IdempotencyRecord
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


def test_retry_replays_first_answer_without_running_again(client: TestClient, calls: list[str]) -> None:
    headers = {"Idempotency-Key": "k-1"}
    first = client.post("/v1/_things", json={"name": "a"}, headers=headers)
    second = client.post("/v1/_things", json={"name": "a"}, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.content == second.content
    assert second.headers["idempotent-replayed"] == "true"
    assert calls == ["a"]


def test_same_key_different_body_is_422(client: TestClient, calls: list[str]) -> None:
    headers = {"Idempotency-Key": "k-2"}
    assert client.post("/v1/_things", json={"name": "a"}, headers=headers).status_code == 201
    body = assert_problem(client.post("/v1/_things", json={"name": "b"}, headers=headers), 422)
    assert body["code"] == "IDEMPOTENCY_MISMATCH"
    assert calls == ["a"]


def test_validation_failure_is_not_saved(client: TestClient, calls: list[str]) -> None:
    headers = {"Idempotency-Key": "k-3"}
    assert_problem(client.post("/v1/_things", json={"name": "a", "extra": 1}, headers=headers), 422)
    retry = client.post("/v1/_things", json={"name": "a"}, headers=headers)
    assert retry.status_code == 201 and calls == ["a"]


def test_keys_are_scoped_per_client(client: TestClient, calls: list[str]) -> None:
    client.post("/v1/_things", json={"name": "a"}, headers={"Idempotency-Key": "shared"})
    other = client.post(
        "/v1/_things", json={"name": "b"}, headers={"Idempotency-Key": "shared", "Authorization": "Bearer x"}
    )
    # Another client's key never replays this one's answer (here: the bad key is refused).
    assert other.status_code == 201 or other.status_code == 401
    assert calls[0] == "a"


def test_parallel_requests_with_one_key_run_once(client: TestClient, calls: list[str]) -> None:
    headers = {"Idempotency-Key": "k-par"}
    with ThreadPoolExecutor(max_workers=10) as pool:
        responses = list(pool.map(lambda _: client.post("/v1/_things", json={"name": "p"}, headers=headers), range(10)))
    statuses = sorted(r.status_code for r in responses)
    assert calls == ["p"], "the endpoint ran more than once"
    assert set(statuses) <= {201, 409}
    bodies = {r.content for r in responses if r.status_code == 201}
    assert len(bodies) == 1


def test_expired_key_runs_again(client: TestClient, calls: list[str], session: Session) -> None:
    headers = {"Idempotency-Key": "k-old"}
    client.post("/v1/_things", json={"name": "a"}, headers=headers)
    record = session.exec(select(IdempotencyRecord)).one()
    record.created_at = record.created_at - timedelta(hours=25)
    session.add(record)
    session.commit()
    again = client.post("/v1/_things", json={"name": "a"}, headers=headers)
    assert again.status_code == 201 and "idempotent-replayed" not in again.headers
    assert calls == ["a", "a"]
    assert session.exec(select(func.count()).select_from(IdempotencyRecord)).one() == 1


@pytest.mark.parametrize("key", ["", "x" * 256])
def test_bad_key_is_400(client: TestClient, calls: list[str], key: str) -> None:
    assert_problem(client.post("/v1/_things", json={"name": "a"}, headers={"Idempotency-Key": key}), 400)
    assert calls == []


def test_parallel_creates_with_one_key_make_exactly_one_row(client: TestClient, session: Session) -> None:
    from app.models.provider import Provider
    from tests.factories import auth, make_key

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
