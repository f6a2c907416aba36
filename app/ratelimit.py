"""Per-client rate limits, the hourly create quota and the failed-authentication brake.

Fixed one-minute windows counted in memory per worker process (with N workers a
client gets up to N times the limit; the limits are there to stop floods and
scripted abuse, not to bill). A client is its API key (a digest of the
Authorization header) or, without one, its address. Every `/v1` response carries
`X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` (epoch
seconds); over a limit the answer is 429 problem+json with `Retry-After`.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import RateLimited, problem_response


@dataclass
class _Window:
    start: float
    count: int = 0


@dataclass
class _Counter:
    """Fixed-window counters keyed by client; old windows are dropped as they expire."""

    period: float
    windows: dict[str, _Window] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def hit(self, key: str, now: float, cost: int = 1) -> _Window:
        with self.lock:
            window = self.windows.get(key)
            if window is None or now - window.start >= self.period:
                if len(self.windows) > 50_000:  # bound memory under a flood of distinct clients
                    self.windows = {k: w for k, w in self.windows.items() if now - w.start < self.period}
                window = _Window(start=now - (now % self.period))
                self.windows[key] = window
            window.count += cost
            return window

    def peek(self, key: str, now: float) -> int:
        with self.lock:
            window = self.windows.get(key)
            if window is None or now - window.start >= self.period:
                return 0
            return window.count


class RateLimitMiddleware:
    """Enforce the per-minute request limit, the hourly create quota and the failed-auth brake on `/v1`."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        per_minute: int,
        creates_per_hour: int,
        failed_auth_per_minute: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.app = app
        self.per_minute = per_minute
        self.creates_per_hour = creates_per_hour
        self.failed_auth_per_minute = failed_auth_per_minute
        self.clock = clock
        self.requests = _Counter(period=60.0)
        self.creates = _Counter(period=3600.0)
        self.failed_auth = _Counter(period=60.0)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        now = self.clock()
        address = (scope.get("client") or ("unknown", 0))[0]
        authorization = _header(scope, b"authorization")
        client = "key:" + hashlib.sha256(authorization).hexdigest()[:24] if authorization else "ip:" + address

        if authorization and self.failed_auth.peek(address, now) >= self.failed_auth_per_minute:
            await self._refuse(scope, send, now, 60.0, "Too many failed authentications from this address.")
            return
        window = self.requests.hit(client, now)
        if window.count > self.per_minute:
            await self._refuse(scope, send, now, 60.0, f"More than {self.per_minute} requests a minute.", window)
            return
        if scope["method"] == "POST" and authorization:
            creates = self.creates.hit(client, now)
            if creates.count > self.creates_per_hour:
                await self._refuse(
                    scope, send, now, 3600.0, f"More than {self.creates_per_hour} writes an hour for this key.", creates
                )
                return
        remaining = max(0, self.per_minute - window.count)
        reset = int(window.start + 60)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["X-RateLimit-Limit"] = str(self.per_minute)
                headers["X-RateLimit-Remaining"] = str(remaining)
                headers["X-RateLimit-Reset"] = str(reset)
                if message["status"] == 401:
                    self.failed_auth.hit(address, now)
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _refuse(
        self, scope: Scope, send: Send, now: float, period: float, detail: str, window: _Window | None = None
    ) -> None:
        start = window.start if window is not None else now - (now % period)
        retry_after = max(1, math.ceil(start + period - now))
        response = problem_response(
            RateLimited(detail + f" Retry in {retry_after} s.", headers={"Retry-After": str(retry_after)})
        )
        headers = MutableHeaders(raw=list(response.raw_headers))
        headers["X-RateLimit-Limit"] = str(self.per_minute)
        headers["X-RateLimit-Remaining"] = "0"
        headers["X-RateLimit-Reset"] = str(int(start + period))
        await send({"type": "http.response.start", "status": 429, "headers": headers.raw})
        await send({"type": "http.response.body", "body": response.body})


def _header(scope: Scope, name: bytes) -> bytes:
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value)
    return b""
