"""Long streamed answers that a slow or stalled client cannot turn into an outage.

`BoundedStreamingResponse` streams a synchronous iterator (each step runs in a worker
thread) under two guards:

- at most `StreamSlots.limit` such streams run at once in a process, and at most
  `StreamSlots.per_client` of them for one client address; one more is answered 503
  with `Retry-After` before anything is read;
- a client that accepts no bytes for `send_timeout` seconds is cut off: the stream
  stops and the server closes the connection. While the slots are contended (someone
  was refused for want of one in the last `CONTENDED_FOR_S` seconds) a stalled client
  is cut off after `stall_when_busy` seconds instead, so its slot goes to who is waiting.

The iterator must hold no database connection while it yields (read in batches, each
with its own connection), so a stream waiting on its client costs a slot and a socket,
never a pooled connection. It is closed when the stream ends, however it ends.
"""

from __future__ import annotations

import contextlib
import logging
import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping

import anyio
from starlette.responses import StreamingResponse
from starlette.types import Message, Receive, Scope, Send

from app.core.errors import ServiceUnavailable
from app.core.logtext import escape_control
from app.http.problems import problem_response

logger = logging.getLogger("app.streaming")

BUSY_RETRY_AFTER_S = 5
#: How long after a refusal for want of a slot the slots count as contended.
CONTENDED_FOR_S = 60.0


class StreamSlots:
    """A per-process count of running streams, with a ceiling in all and per client address.

    It also knows the sends that are waiting on their client (`stalled`), so that a refusal can
    shorten their deadlines: on a busy server a stalled client gives its slot back sooner.
    """

    def __init__(
        self,
        limit: int,
        *,
        per_client: int | None = None,
        stall_when_busy: float = math.inf,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.per_client = per_client or limit
        self.stall_when_busy = stall_when_busy
        self.active = 0
        self.clients: Counter[str] = Counter()
        self._clock = clock
        self._contended_at = -math.inf
        self._stalled: dict[anyio.CancelScope, float] = {}  # a send's scope -> when it began (anyio's clock)
        self._lock = threading.Lock()

    def try_acquire(self, client: str = "") -> bool:
        with self._lock:
            if self.clients[client] >= self.per_client:
                return False  # this client waits for its own streams, not for anyone else's
            if self.active < self.limit:
                self.active += 1
                self.clients[client] += 1
                return True
            self._contended_at = self._clock()
        self._shorten_stalled()
        return False

    def release(self, client: str = "") -> None:
        with self._lock:
            self.active -= 1
            self.clients[client] -= 1
            if self.clients[client] <= 0:
                del self.clients[client]

    @property
    def contended(self) -> bool:
        return self._clock() - self._contended_at < CONTENDED_FOR_S

    @contextlib.contextmanager
    def sending(self, scope: anyio.CancelScope) -> Iterator[None]:
        """Register a send in progress (on the event loop), so a refusal can cut it short."""
        started = anyio.current_time()
        self._stalled[scope] = started
        if self.contended:
            scope.deadline = min(scope.deadline, started + self.stall_when_busy)
        try:
            yield
        finally:
            self._stalled.pop(scope, None)

    def _shorten_stalled(self) -> None:
        for scope, started in list(self._stalled.items()):
            scope.deadline = min(scope.deadline, started + self.stall_when_busy)


class BoundedStreamingResponse(StreamingResponse):
    """A `StreamingResponse` that takes a slot while it runs and cuts off a client that stops reading."""

    def __init__(
        self,
        content: Iterator[bytes],
        *,
        slots: StreamSlots,
        send_timeout: float,
        media_type: str,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(content, media_type=media_type, headers=headers)
        self._source = content
        self.slots = slots
        self.send_timeout = send_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = (scope.get("client") or ("unknown", 0))[0]
        if not self.slots.try_acquire(client):
            self._close_source()
            full = self.slots.active >= self.slots.limit
            logger.warning(
                "refused %s: %s",
                escape_control(scope["path"]),
                f"{self.slots.limit} streams already running" if full else "this client's streams already running",
            )
            detail = (
                f"{self.slots.limit} exports are already running; try again shortly."
                if full
                else f"{self.slots.per_client} exports of yours are already running; try again once one is done."
            )
            busy = ServiceUnavailable(detail, headers={"Retry-After": str(BUSY_RETRY_AFTER_S)})
            await problem_response(busy)(scope, receive, send)
            return
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.slots.release(client)
            self._close_source()

    async def stream_response(self, send: Send) -> None:
        async def send_or_give_up(message: Message) -> None:
            with anyio.fail_after(self.send_timeout) as waiting, self.slots.sending(waiting):
                await send(message)

        started = anyio.current_time()
        try:
            await super().stream_response(send_or_give_up)
        except TimeoutError:
            # The answer is incomplete: returning makes the server close the connection.
            logger.warning(
                "stream cut off: the client accepted no data for %.0f s (of %.0f s streaming)",
                min(self.send_timeout, self.slots.stall_when_busy) if self.slots.contended else self.send_timeout,
                anyio.current_time() - started,
            )

    def _close_source(self) -> None:
        close = getattr(self._source, "close", None)
        if close is None:
            return
        # ValueError: still running in a worker thread (cancelled mid-step); it ends with that thread.
        with contextlib.suppress(ValueError):
            close()
