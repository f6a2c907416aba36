"""Long streamed answers that a slow or stalled client cannot turn into an outage.

`BoundedStreamingResponse` streams a synchronous iterator (each step runs in a worker
thread) under two guards:

- at most `StreamSlots.limit` such streams run at once in a process; one more is
  answered 503 with `Retry-After` before anything is read;
- a client that accepts no bytes for `send_timeout` seconds is cut off: the stream
  stops and the server closes the connection.

The iterator must hold no database connection while it yields (read in batches, each
with its own connection), so a stream waiting on its client costs a slot and a socket,
never a pooled connection. It is closed when the stream ends, however it ends.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator, Mapping

import anyio
from starlette.responses import StreamingResponse
from starlette.types import Message, Receive, Scope, Send

from app.core.errors import ServiceUnavailable
from app.core.logtext import escape_control
from app.http.problems import problem_response

logger = logging.getLogger("app.streaming")

BUSY_RETRY_AFTER_S = 5


class StreamSlots:
    """A per-process count of running streams, with a ceiling."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.active = 0
        self._lock = threading.Lock()

    def try_acquire(self) -> bool:
        with self._lock:
            if self.active >= self.limit:
                return False
            self.active += 1
            return True

    def release(self) -> None:
        with self._lock:
            self.active -= 1


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
        if not self.slots.try_acquire():
            self._close_source()
            logger.warning("refused %s: %d streams already running", escape_control(scope["path"]), self.slots.limit)
            busy = ServiceUnavailable(
                f"{self.slots.limit} exports are already running; try again shortly.",
                headers={"Retry-After": str(BUSY_RETRY_AFTER_S)},
            )
            await problem_response(busy)(scope, receive, send)
            return
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.slots.release()
            self._close_source()

    async def stream_response(self, send: Send) -> None:
        async def send_or_give_up(message: Message) -> None:
            with anyio.fail_after(self.send_timeout):
                await send(message)

        try:
            await super().stream_response(send_or_give_up)
        except TimeoutError:
            # The answer is incomplete: returning makes the server close the connection.
            logger.warning("stream cut off: the client accepted no data for %.0f s", self.send_timeout)

    def _close_source(self) -> None:
        close = getattr(self._source, "close", None)
        if close is None:
            return
        # ValueError: still running in a worker thread (cancelled mid-step); it ends with that thread.
        with contextlib.suppress(ValueError):
            close()
