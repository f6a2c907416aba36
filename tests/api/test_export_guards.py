"""The export's guards: keyset batches that hold no connection, a cap on running exports, a send timeout."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.http.streaming import BoundedStreamingResponse, StreamSlots
from app.services import recommendations as service
from app.services.recommendations import RecommendationFilters
from tests.factories import make_recommendation

SCOPE: dict[str, Any] = {"type": "http", "method": "GET", "path": "/v1/recommendations/export", "headers": []}


def _seed_ties(session: Session) -> list[str]:
    """Rows that tie on cycle, session and State, so batch boundaries fall inside a tie."""
    ids = []
    for cycle in (2, 1):
        for state in ("KEN", "FRA"):
            for n in range(4):
                row = make_recommendation(
                    session, id=f"test-{cycle}-{state}-{n}", cycle=cycle, state_under_review=state
                )
                ids.append(row.id)
    make_recommendation(session, id="test-other", cycle=1, state_under_review="ALB", text="Abolish the death penalty.")
    return ids


def test_export_reads_in_batches_every_row_once_in_list_order(
    session: Session, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    _seed_ties(session)
    session.close()
    monkeypatch.setattr(service, "EXPORT_BATCH", 3)
    checkouts: list[int] = []
    real_connect = engine.connect

    def counting_connect() -> Any:
        checkouts.append(1)
        return real_connect()

    monkeypatch.setattr(engine, "connect", counting_connect)
    rows = service._export_rows(engine, RecommendationFilters(q="torture").normalised())
    first = next(rows)
    # Between two rows the generator holds no connection: every one it took is back in the pool.
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    exported = [first["id"], *(row["id"] for row in rows)]
    expected = sorted(exported, key=lambda i: (int(i.split("-")[1]), i.split("-")[2], i))
    assert len(exported) == 16 == len(set(exported))  # the ALB row has no "torture"
    assert exported == expected
    assert len(checkouts) == 6  # 16 rows in batches of 3: five full batches and a short one


def test_export_lines_unchanged_by_batching(session: Session, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    _seed_ties(session)
    whole = b"".join(service.export_lines(engine, filters=RecommendationFilters(), fmt="jsonl"))
    monkeypatch.setattr(service, "EXPORT_BATCH", 2)
    batched = b"".join(service.export_lines(engine, filters=RecommendationFilters(), fmt="jsonl"))
    assert batched == whole
    assert len(whole.splitlines()) == 17
    assert json.loads(whole.splitlines()[0])["id"] == "test-other"  # cycle 1, ALB sorts first


def test_export_beyond_the_cap_is_503_with_retry_after(client: TestClient, session: Session) -> None:
    make_recommendation(session)
    slots: StreamSlots = client.app.state.export_slots  # type: ignore[attr-defined]
    taken = 0
    while slots.try_acquire(f"192.0.2.{taken}"):  # other clients fill every slot
        taken += 1
    try:
        r = client.get("/v1/recommendations/export")
        assert r.status_code == 503
        assert r.headers["content-type"].startswith("application/problem+json")
        assert int(r.headers["retry-after"]) > 0
        assert "exports are already running" in r.json()["detail"]
    finally:
        for i in range(taken):
            slots.release(f"192.0.2.{i}")
    r = client.get("/v1/recommendations/export")
    assert r.status_code == 200
    assert len(r.content.splitlines()) == 1
    assert slots.active == 0


class _Source:
    """A body iterator that records whether it was closed."""

    def __init__(self, chunks: int) -> None:
        self.chunks = chunks
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        if self.chunks == 0:
            raise StopIteration
        self.chunks -= 1
        return b"x" * 1024

    def close(self) -> None:
        self.closed = True


def _response(source: _Source, slots: StreamSlots, timeout: float = 0.3) -> BoundedStreamingResponse:
    return BoundedStreamingResponse(source, slots=slots, send_timeout=timeout, media_type="application/x-ndjson")


async def _never_disconnects() -> dict[str, Any]:
    await anyio.sleep_forever()
    return {}


def test_a_client_that_stops_reading_is_cut_off_and_frees_its_slot(caplog: pytest.LogCaptureFixture) -> None:
    slots, source = StreamSlots(1), _Source(chunks=1000)
    sent: list[dict[str, Any]] = []

    async def stalls_after_two(message: dict[str, Any]) -> None:
        if len(sent) == 2:
            await anyio.sleep_forever()  # the socket buffer is full and the client reads nothing
        sent.append(message)

    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="app.streaming"):
        anyio.run(_response(source, slots), SCOPE, _never_disconnects, stalls_after_two)
    assert time.monotonic() - started < 5
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert not any(m.get("more_body") is False for m in sent)  # never claims to be complete
    assert slots.active == 0 and source.closed
    assert "accepted no data" in caplog.text


def test_a_client_that_disconnects_frees_its_slot_and_closes_the_source() -> None:
    slots, source = StreamSlots(1), _Source(chunks=1000)

    async def blocked(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            await anyio.sleep_forever()

    async def disconnects() -> dict[str, Any]:
        await anyio.sleep(0.05)
        return {"type": "http.disconnect"}

    anyio.run(_response(source, slots, timeout=60), SCOPE, disconnects, blocked)
    assert slots.active == 0 and source.closed


def test_a_refused_stream_closes_its_source_and_reads_nothing() -> None:
    slots, source = StreamSlots(1), _Source(chunks=3)
    assert slots.try_acquire()
    sent: list[dict[str, Any]] = []

    async def record(message: dict[str, Any]) -> None:
        sent.append(message)

    anyio.run(_response(source, slots), SCOPE, _never_disconnects, record)
    assert sent[0]["status"] == 503
    assert source.closed and source.chunks == 3
    assert slots.active == 1  # the running stream keeps its slot


def test_one_client_holds_at_most_its_share_of_the_slots(app: FastAPI, session: Session) -> None:
    make_recommendation(session)
    slots: StreamSlots = app.state.export_slots
    assert (slots.limit, slots.per_client) == (4, 2)
    with _client_at(app, "198.51.100.7") as hog, _client_at(app, "198.51.100.8") as other:
        assert slots.try_acquire("198.51.100.7") and slots.try_acquire("198.51.100.7")  # two exports running
        try:
            refused = hog.get("/v1/recommendations/export")
            assert refused.status_code == 503
            assert "2 exports of yours" in refused.json()["detail"]
            assert int(refused.headers["retry-after"]) > 0
            served = other.get("/v1/recommendations/export")  # two slots are still free for everyone else
            assert served.status_code == 200 and len(served.content.splitlines()) == 1
        finally:
            slots.release("198.51.100.7")
            slots.release("198.51.100.7")
    assert slots.active == 0 and not slots.clients


def _client_at(app: FastAPI, address: str) -> TestClient:
    return TestClient(app, raise_server_exceptions=False, client=(address, 1))


def test_a_stalled_stream_gives_its_slot_back_sooner_when_others_wait(caplog: pytest.LogCaptureFixture) -> None:
    slots, source = StreamSlots(1, stall_when_busy=0.3), _Source(chunks=1000)
    sent: list[dict[str, Any]] = []
    refused: list[dict[str, Any]] = []

    async def stalls_after_two(message: dict[str, Any]) -> None:
        if len(sent) == 2:
            await anyio.sleep_forever()
        sent.append(message)

    async def record(message: dict[str, Any]) -> None:
        refused.append(message)

    async def both() -> None:
        async with anyio.create_task_group() as tg:
            tg.start_soon(_response(source, slots, timeout=60), SCOPE, _never_disconnects, stalls_after_two)
            await anyio.sleep(0.2)  # the first stream is stalled, holding the only slot
            other = {**SCOPE, "client": ("192.0.2.1", 1)}  # another client, refused for want of a slot
            await _response(_Source(chunks=1), slots, timeout=60)(other, _never_disconnects, record)

    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="app.streaming"):
        anyio.run(both)
    assert refused[0]["status"] == 503
    assert time.monotonic() - started < 5  # not the 60 s send timeout
    assert slots.active == 0 and source.closed
    assert "accepted no data" in caplog.text
