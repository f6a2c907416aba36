"""The per-request database session, handed out once a database slot is free."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
from fastapi import Request
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.core.errors import ServiceUnavailable


async def get_session(request: Request) -> AsyncIterator[Session]:
    """Yield one session per request, bound to the app's engine, once a database slot is free.

    A request's session holds its pooled connection from its first query until the request is
    done, including the steps FastAPI runs in its thread pool after the endpoint returned
    (checking the answer against its model). Were every request let in, under load the thread
    pool's 40 threads would all be waiting for a connection while the connections are held by
    requests waiting for a thread: nothing moves until the pool's timeout. So requests take a
    slot first, on the event loop, where waiting costs nothing, and a thread never waits for a
    connection: `DB_SESSIONS_PER_WORKER` slots (at most `DB_POOL_SIZE`; the pool's overflow
    serves the key look-ups, idempotency records and metrics opened outside a request's session).
    Few slots also keep few threads competing for the interpreter: 4 served 300 requests a second
    of the read mix on two workers where 10 let the CPU per request grow with the load
    (docs/decisions/2026-12-03-request-cost.md). A request that waits longer than the pool's
    timeout for a slot answers 503 with `Retry-After`, as one that waited for a connection did.
    """
    slots = _db_slots(request)
    try:
        with anyio.fail_after(_slot_timeout(request.app.state.engine)):
            await slots.acquire()
    except TimeoutError:
        raise ServiceUnavailable(
            "The service is busy (no database connection free); nothing was written. Try again shortly.",
            headers={"Retry-After": "2"},
        ) from None
    try:
        session = Session(request.app.state.engine)
        try:
            yield session
        finally:
            # Closing hands the connection back (a rollback): blocking, so in a thread, but with
            # its own limiter, never waiting behind the requests for a thread.
            await anyio.to_thread.run_sync(session.close, limiter=anyio.CapacityLimiter(1))
    finally:
        slots.release()


def _db_slots(request: Request) -> anyio.Semaphore:
    state = request.app.state
    slots: anyio.Semaphore | None = getattr(state, "db_slots", None)
    if slots is None:  # created on the event loop, where it is used: no race
        settings = state.settings
        slots = anyio.Semaphore(min(settings.DB_SESSIONS_PER_WORKER, settings.DB_POOL_SIZE))
        state.db_slots = slots
    return slots


def _slot_timeout(engine: Engine) -> float:
    """How long a request may wait for a slot: the pool's own timeout for a connection."""
    timeout = getattr(engine.pool, "timeout", None)
    return float(timeout()) if callable(timeout) else 10.0
