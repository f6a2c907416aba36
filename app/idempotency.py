"""`Idempotency-Key` on POST creates, with Stripe's semantics.

The first request with a key claims it; its status, headers and body are saved
and replayed to every retry with the same key and the same request (method,
path, query, body), marked `Idempotent-Replayed: true`. The same key with a
different request is a 422 `/problems/idempotency-mismatch`; a retry while the
first is still running is a 409. Answers that wrote nothing are not saved, so
the client may fix and retry with the same key: refusals (400, 401, 403, 404,
405, 413, 415, 422, 428, 429) and server errors (500, 503, 507), whose
transactions were rolled back. (Stripe saves 500s; here a 500 never commits.) Keys expire after 24 hours; a claim
left by a crashed worker is taken over after 60 seconds.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import anyio
from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from app.db import intending_to_write
from app.errors import BadRequest, Conflict, Problem, problem_response
from app.models.common import utcnow
from app.models.idempotency import IdempotencyRecord

logger = logging.getLogger("app.idempotency")

KEY_TTL = timedelta(hours=24)
STALE_CLAIM = timedelta(seconds=60)
NOT_SAVED = {400, 401, 403, 404, 405, 413, 415, 422, 428, 429, 500, 503, 507}
REPLAYED_HEADERS = {"content-type", "location", "etag"}
HEADER = b"idempotency-key"


class IdempotencyMismatch(Problem):
    status, title, slug = 422, "Idempotency key reused", "idempotency-mismatch"


@dataclass
class _Outcome:
    kind: str  # claimed, replay, mismatch, in_progress
    record: IdempotencyRecord | None = None


def claim(engine: Engine, client: str, key: str, request_hash: str) -> _Outcome:
    """Claim `key` for this client, or report what an earlier request with it left."""
    now = utcnow()
    with intending_to_write(), Session(engine, expire_on_commit=False) as session:
        row = session.get(IdempotencyRecord, (client, key))
        if row is not None and row.created_at < now - KEY_TTL:
            session.delete(row)
            session.commit()
            row = None
        if row is None:
            session.add(IdempotencyRecord(client=client, key=key, request_hash=request_hash, state="in_progress"))
            try:
                session.commit()
                return _Outcome("claimed")
            except IntegrityError:
                session.rollback()  # a concurrent request claimed it first
                row = session.get(IdempotencyRecord, (client, key))
                if row is None:
                    return _Outcome("in_progress")
        if row.request_hash != request_hash:
            return _Outcome("mismatch", row)
        if row.state == "in_progress":
            if row.locked_at < now - STALE_CLAIM:
                row.locked_at = now
                session.add(row)
                session.commit()
                return _Outcome("claimed")
            return _Outcome("in_progress", row)
        return _Outcome("replay", row)


def finish(engine: Engine, client: str, key: str, status: int, headers: list[list[str]], body: bytes) -> None:
    """Save the answer, or release the claim when the request did no work."""
    with intending_to_write(), Session(engine) as session:
        if status in NOT_SAVED:
            session.execute(
                delete(IdempotencyRecord).where(IdempotencyRecord.client == client, IdempotencyRecord.key == key)  # type: ignore[arg-type]
            )
        else:
            row = session.get(IdempotencyRecord, (client, key))
            if row is None:
                return
            row.state = "done"
            row.response_status = status
            row.response_headers = headers
            row.response_body = body
            session.add(row)
        session.commit()


def release(engine: Engine, client: str, key: str) -> None:
    finish(engine, client, key, 400, [], b"")


class IdempotencyMiddleware:
    """Apply `Idempotency-Key` to POST requests under the given path prefixes."""

    def __init__(self, app: Any, *, prefixes: tuple[str, ...], exclude: tuple[str, ...] = ()) -> None:
        self.app = app
        self.prefixes = prefixes
        self.exclude = exclude

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or not scope["path"].startswith(self.prefixes)
            or scope["path"].startswith(self.exclude)
        ):
            await self.app(scope, receive, send)
            return
        raw_key = next((v for k, v in scope.get("headers", []) if k == HEADER), None)
        if raw_key is None:
            await self.app(scope, receive, send)
            return
        key = raw_key.decode("latin-1").strip()
        if not (1 <= len(key) <= 255) or not key.isprintable():
            await _send_problem(send, BadRequest("Idempotency-Key must be 1 to 255 printable characters."))
            return

        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body.extend(message.get("body", b""))
            more = message.get("more_body", False)
        authorization = next((v for k, v in scope.get("headers", []) if k == b"authorization"), b"anonymous")
        client = hashlib.sha256(bytes(authorization)).hexdigest()
        digest = hashlib.sha256()
        for part in (scope["method"].encode(), scope["path"].encode(), scope.get("query_string", b""), bytes(body)):
            digest.update(part)
            digest.update(b"\0")
        engine = scope["app"].state.engine
        outcome = await anyio.to_thread.run_sync(claim, engine, client, key, digest.hexdigest())

        if outcome.kind == "mismatch":
            await _send_problem(
                send,
                IdempotencyMismatch("This Idempotency-Key was used with a different request; use a new key."),
            )
            return
        if outcome.kind == "in_progress":
            await _send_problem(
                send, Conflict("A request with this Idempotency-Key is still being processed; retry shortly.")
            )
            return
        if outcome.kind == "replay" and outcome.record is not None:
            record = outcome.record
            headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in record.response_headers]
            headers.append((b"idempotent-replayed", b"true"))
            await send({"type": "http.response.start", "status": record.response_status, "headers": headers})
            await send({"type": "http.response.body", "body": record.response_body or b""})
            return

        delivered = False

        async def replay_receive() -> dict[str, Any]:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            message: dict[str, Any] = await receive()
            return message

        status = 500
        saved_headers: list[list[str]] = []
        chunks: list[bytes] = []

        async def capture(message: dict[str, Any]) -> None:
            nonlocal status, saved_headers
            if message["type"] == "http.response.start":
                status = message["status"]
                saved_headers = [
                    [k.decode("latin-1"), v.decode("latin-1")]
                    for k, v in message.get("headers", [])
                    if k.decode("latin-1").lower() in REPLAYED_HEADERS
                ]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, replay_receive, capture)
        except BaseException:
            await anyio.to_thread.run_sync(release, engine, client, key)
            raise
        try:
            await anyio.to_thread.run_sync(finish, engine, client, key, status, saved_headers, b"".join(chunks))
        except Exception:  # the answer was sent; failing to save it only loses the replay
            logger.exception("could not save the answer for an idempotency key")


async def _send_problem(send: Any, problem: Problem) -> None:
    response = problem_response(problem)
    await send({"type": "http.response.start", "status": response.status_code, "headers": response.raw_headers})
    await send({"type": "http.response.body", "body": response.body})
