"""The worker's webhook sender: claimed deliveries go out concurrently, on an event loop of their own.

The worker's loop hands each claimed delivery to `Dispatcher.submit` and goes on with the
outbox and the e-mail; it records the outcomes of those that finished on its next rounds
(`finished`). At most `connections` deliveries are in flight, and at most half of them to
one endpoint (`per_endpoint`, which the claim respects), each within its own deadline
(`app.worker.delivery.send`): an endpoint that answers slowly, or a byte at a time, delays
neither another endpoint's deliveries nor the inbox.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections import Counter

import httpx

from app.models.common import utcnow
from app.worker.delivery import Claimed, Outcome, Resolver, send


class Dispatcher:
    """Deliveries in flight on a background event loop; `close()` waits for them and stops it."""

    def __init__(self, *, connections: int) -> None:
        self.connections = connections
        self.per_endpoint = max(1, connections // 2)
        self._lock = threading.Lock()
        self._in_flight: dict[concurrent.futures.Future[Outcome], Claimed] = {}
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="webhooks", daemon=True)
        self._thread.start()
        self._client = httpx.AsyncClient(
            timeout=None,  # each attempt has one deadline for all of it (`delivery.send`)
            follow_redirects=False,
            trust_env=False,  # never through a proxy from the environment: the address was checked
            limits=httpx.Limits(max_connections=connections),
        )

    def free(self) -> int:
        """How many more deliveries may start now."""
        with self._lock:
            return max(0, self.connections - len(self._in_flight))

    def by_endpoint(self) -> Counter[str]:
        """Deliveries in flight per endpoint (webhook id)."""
        with self._lock:
            return Counter(item.webhook_id for item in self._in_flight.values())

    def submit(self, item: Claimed, *, timeout_s: float, allow_private: bool, resolver: Resolver) -> None:
        attempt = send(self._client, item, timeout_s=timeout_s, allow_private=allow_private, resolver=resolver)
        future = asyncio.run_coroutine_threadsafe(attempt, self._loop)
        with self._lock:
            self._in_flight[future] = item

    def wait(self, seconds: float, *, every: bool = False) -> None:
        """Wait up to `seconds` for one delivery in flight to finish (for all with `every`)."""
        with self._lock:
            futures = list(self._in_flight)
        if futures:
            when = concurrent.futures.ALL_COMPLETED if every else concurrent.futures.FIRST_COMPLETED
            concurrent.futures.wait(futures, timeout=seconds, return_when=when)

    def finished(self) -> list[Outcome]:
        """The outcomes of the deliveries that finished since the last call."""
        with self._lock:
            done = [(f, item) for f, item in self._in_flight.items() if f.done()]
            for future, _item in done:
                del self._in_flight[future]
        return [self._outcome(future, item) for future, item in done]

    @staticmethod
    def _outcome(future: concurrent.futures.Future[Outcome], item: Claimed) -> Outcome:
        try:
            return future.result()
        except BaseException as exc:  # noqa: BLE001 (cancelled at shutdown: an attempt without an answer)
            return Outcome(item.id, utcnow(), 0, None, None, f"not sent: {type(exc).__name__}", None)

    def close(self) -> None:
        """Stop the event loop (the caller waited for what was in flight and recorded it)."""
        if not self._loop.is_running():
            return
        try:
            asyncio.run_coroutine_threadsafe(self._client.aclose(), self._loop).result(5)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)
            if not self._loop.is_running():
                self._loop.close()
