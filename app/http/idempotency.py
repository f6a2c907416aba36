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

A route whose answer holds a secret names its fields in `request.state.idempotency_redact`:
they are saved as null, so a replay says what was created without the secret (which exists in
clear only in the first answer).

Keys belong to the API key that sends them: the credential is authenticated (afresh,
against the database) before anything is claimed or replayed, so a revoked key never
replays, and one caller's key never collides with another's. Requests without a valid
key are not recorded (the routes answer them as usual; every create needs a key). An
answer larger than `MAX_SAVED_BYTES` is not saved. Expired records are deleted a batch at
a time as new keys are claimed (at most once a minute per worker), and all at once by
`upr-match purge`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import anyio
from sqlalchemy import delete, select, tuple_
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import Session, col
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.db import intending_to_write
from app.core.errors import BadRequest, Conflict, Problem
from app.http.credentials import bearer_credential, lookup_key_id
from app.http.problems import problem_response
from app.models.common import table_of, utcnow
from app.models.idempotency import IdempotencyRecord

logger = logging.getLogger("app.idempotency")

KEY_TTL = timedelta(hours=24)
STALE_CLAIM = timedelta(seconds=60)
MAX_SAVED_BYTES = 64 * 1024
PURGE_BATCH = 500
PURGE_EVERY_S = 60.0
NOT_SAVED = {400, 401, 403, 404, 405, 413, 415, 422, 428, 429, 500, 503, 507}
REPLAYED_HEADERS = {"content-type", "location", "etag"}
HEADER = b"idempotency-key"


class IdempotencyMismatch(Problem):
    status, title, slug = 422, "Idempotency key reused", "idempotency-mismatch"


@dataclass
class _Outcome:
    kind: str  # claimed, replay, mismatch, in_progress
    record: IdempotencyRecord | None = None


def purge_expired(engine: Engine, *, batch: int = PURGE_BATCH, now: datetime | None = None) -> int:
    """Delete up to `batch` records older than KEY_TTL; return how many went."""
    cutoff = (now or utcnow()) - KEY_TTL
    table = table_of(IdempotencyRecord)
    oldest = select(table.c.client, table.c.key).where(table.c.created_at < cutoff).limit(batch)
    with intending_to_write(), engine.begin() as conn:
        result = conn.execute(delete(table).where(tuple_(table.c.client, table.c.key).in_(oldest)))
    return int(result.rowcount or 0)


class _PurgeSchedule:
    """Purge a batch at most every PURGE_EVERY_S seconds in this worker."""

    def __init__(self) -> None:
        self._next = 0.0
        self._lock = threading.Lock()

    def due(self) -> bool:
        now = time.monotonic()
        with self._lock:
            if now < self._next:
                return False
            self._next = now + PURGE_EVERY_S
            return True


_purges = _PurgeSchedule()


def claim(engine: Engine, client: str, key: str, request_hash: str) -> _Outcome:
    """Claim `key` for this client, or report what an earlier request with it left."""
    if _purges.due():
        try:
            purge_expired(engine)
        except Exception:  # housekeeping must not fail the request
            logger.exception("could not purge expired idempotency records")
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
                delete(IdempotencyRecord).where(
                    col(IdempotencyRecord.client) == client, col(IdempotencyRecord.key) == key
                )
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

    def __init__(self, app: ASGIApp, *, prefixes: tuple[str, ...], exclude: tuple[str, ...] = ()) -> None:
        self.app = app
        self.prefixes = prefixes
        self.exclude = exclude

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
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

        engine = scope["app"].state.engine
        credential = bearer_credential(scope)
        # Authenticate first: the record belongs to the key, and a revoked key never replays.
        try:
            client = await anyio.to_thread.run_sync(lookup_key_id, engine, credential) if credential else None
        except SQLAlchemyError:  # the database cannot tell now; the route answers for it (503)
            client = None
        if client is None:
            await self.app(scope, receive, send)  # not recorded; the route answers (401 for a bad key)
            return

        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body.extend(message.get("body", b""))
            more = message.get("more_body", False)
        digest = hashlib.sha256()
        for part in (scope["method"].encode(), scope["path"].encode(), scope.get("query_string", b""), bytes(body)):
            digest.update(part)
            digest.update(b"\0")
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

        async def replay_receive() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        status = 500
        saved_headers: list[list[str]] = []
        chunks: list[bytes] = []
        size = 0

        async def capture(message: Message) -> None:
            nonlocal status, saved_headers, size
            if message["type"] == "http.response.start":
                status = message["status"]
                saved_headers = [
                    [k.decode("latin-1"), v.decode("latin-1")]
                    for k, v in message.get("headers", [])
                    if k.decode("latin-1").lower() in REPLAYED_HEADERS
                ]
            elif message["type"] == "http.response.body":
                chunk = message.get("body", b"")
                size += len(chunk)
                if size <= MAX_SAVED_BYTES:
                    chunks.append(chunk)
            await send(message)

        try:
            await self.app(scope, replay_receive, capture)
        except BaseException:
            await anyio.to_thread.run_sync(release, engine, client, key)
            raise
        if size > MAX_SAVED_BYTES:
            logger.warning("answer of %d bytes not saved for an idempotency key (limit %d)", size, MAX_SAVED_BYTES)
            await anyio.to_thread.run_sync(release, engine, client, key)
            return
        saved = _redacted(b"".join(chunks), scope.get("state", {}).get("idempotency_redact", ()))
        if saved is None:  # a secret that cannot be taken out is never saved: no replay then
            await anyio.to_thread.run_sync(release, engine, client, key)
            return
        try:
            await anyio.to_thread.run_sync(finish, engine, client, key, status, saved_headers, saved)
        except Exception:  # the answer was sent; failing to save it only loses the replay
            logger.exception("could not save the answer for an idempotency key")


def _redacted(body: bytes, fields: tuple[str, ...]) -> bytes | None:
    """The answer to save: with the fields a route marked secret set to null (None: they could not be)."""
    if not fields:
        return body
    try:
        answer = json.loads(body)
    except ValueError:
        return None
    if not isinstance(answer, dict):
        return None
    for name in fields:
        if name in answer:
            answer[name] = None
    return json.dumps(answer, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


async def _send_problem(send: Send, problem: Problem) -> None:
    response = problem_response(problem)
    await send({"type": "http.response.start", "status": response.status_code, "headers": response.raw_headers})
    await send({"type": "http.response.body", "body": response.body})
