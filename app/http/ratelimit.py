"""Rate limits: requests per minute per client, creates per hour per key, and the failed-authentication brake.

Counted with the `limits` package in moving windows, in the worker's memory by default, or
in a shared store named by `RATE_LIMIT_STORAGE_URL` (e.g. `redis://host:6379/0`) so that
every worker and replica draws on one budget. Memory is bounded (old entries expire) and
each request costs a few constant-time counter updates.

The client is the API key that authenticates the request (its id, however the header
is spelled, whether it came as `Authorization: Bearer` or as a signed-in page's session);
a missing, malformed, unknown or revoked credential counts as the client's address. The
API under `/v1` and the pages (including `/signin`) share one budget; the probes under
`/health` and the static files are not limited. Limited responses carry
`X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` (epoch seconds);
over a limit the answer is 429 with `Retry-After`.

The brake counts failed authentications (401) per credential prefix and per address; once
either passes `AUTH_FAILURES_PER_MINUTE`, further requests carrying a credential that does
not authenticate get 429. A request whose key is valid is never braked, so an attacker
behind the same proxy or NAT address cannot lock other users out.

The address is the TCP peer, or the first untrusted hop of `X-Forwarded-For` when the peer
is a proxy listed in uvicorn's `FORWARDED_ALLOW_IPS`; other peers cannot choose it.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import anyio
from limits import RateLimitItemPerHour, RateLimitItemPerMinute
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy.engine import Engine
from starlette.datastructures import MutableHeaders
from starlette.requests import Request, cookie_parser
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import RateLimited
from app.http.credentials import bearer_credential, credential_digest, credential_prefix, header, lookup_key_id
from app.http.problems import problem_response

logger = logging.getLogger("app.ratelimit")

UNLIMITED_PREFIXES = ("/health/", "/static/", "/docs/assets/")
NO_WRITE_QUOTA_PATHS = ("/signin", "/signout")
SESSION_COOKIE = "upr_session"
KEY_CACHE_SIZE = 4096
KEY_CACHE_TTL_S = 30.0
STORAGE_WARNING_EVERY_S = 60.0
STORE_TIMEOUT_S = 0.5


class KeyIdentities:
    """Which key id a presented credential belongs to (None: it does not authenticate), briefly cached.

    Bounded LRU keyed by a digest of the credential; an entry lives `ttl` seconds, so a
    revoked key stops counting as its key within that time (its requests get 401 at once).
    """

    _UNRESOLVED = object()

    def __init__(self, *, size: int = KEY_CACHE_SIZE, ttl: float = KEY_CACHE_TTL_S) -> None:
        self.size = size
        self.ttl = ttl
        self._entries: OrderedDict[str, tuple[str | None, float]] = OrderedDict()
        self._lock = threading.Lock()

    def cached(self, digest: str, now: float) -> Any:
        with self._lock:
            entry = self._entries.get(digest)
            if entry is None or entry[1] <= now:
                return self._UNRESOLVED
            self._entries.move_to_end(digest)
            return entry[0]

    def store(self, digest: str, key_id: str | None, now: float) -> None:
        with self._lock:
            self._entries[digest] = (key_id, now + self.ttl)
            self._entries.move_to_end(digest)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    async def resolve(self, engine: Engine, credential: str, now: float) -> str | None:
        """The key id, or None; raises when the database cannot tell (nothing is cached then)."""
        digest = credential_digest(credential)
        found = self.cached(digest, now)
        if found is not self._UNRESOLVED:
            return found  # type: ignore[no-any-return]
        key_id = await anyio.to_thread.run_sync(lookup_key_id, engine, credential)
        self.store(digest, key_id, now)
        return key_id


class RateLimitMiddleware:
    """Enforce the request limit, the hourly create quota and the failed-auth brake on the API and pages."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        per_minute: int,
        creates_per_hour: int,
        failed_auth_per_minute: int,
        storage_url: str | None = None,
        clock: Callable[[], float] = time.time,
        page_errors: Callable[[Request, Response], Response] | None = None,
    ) -> None:
        self.app = app
        self.clock = clock
        # Turns a refusal into what its path shows (an HTML page on page paths); None: problem+json everywhere.
        self.page_errors = page_errors
        storage = _storage(storage_url)
        if not isinstance(storage, Storage):
            raise ValueError("RATE_LIMIT_STORAGE_URL must name a synchronous store, e.g. redis://host:6379/0")
        self.storage = storage
        # A networked store answers over a socket: consult it from a worker thread, never the event loop.
        self.in_memory = isinstance(storage, MemoryStorage)
        self.limiter = MovingWindowRateLimiter(self.storage)
        self.requests = RateLimitItemPerMinute(per_minute, namespace="upr-requests")
        self.creates = RateLimitItemPerHour(creates_per_hour, namespace="upr-creates")
        self.failures = RateLimitItemPerMinute(failed_auth_per_minute, namespace="upr-authfail")
        self.keys = KeyIdentities()
        self._last_storage_warning = 0.0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(UNLIMITED_PREFIXES):
            await self.app(scope, receive, send)
            return
        now = self.clock()
        address = (scope.get("client") or ("unknown", 0))[0]
        credential = bearer_credential(scope)
        key_id: str | None = None
        failing = False  # the request carries a credential that does not authenticate
        if credential:
            try:
                key_id = await self.keys.resolve(scope["app"].state.engine, credential, now)
                failing = key_id is None
            except Exception:  # the database cannot tell now; the route will answer for it
                key_id = None
        elif credential is None:
            key_id = _session_key_id(scope)
        else:
            failing = True  # an Authorization header that is not `Bearer <key>`
        writes = key_id is not None and scope["method"] == "POST" and scope["path"] not in NO_WRITE_QUOTA_PATHS
        client = f"key:{key_id}" if key_id else f"ip:{address}"
        try:
            if self.in_memory:
                verdict = self._decide(client, key_id if writes else None, credential if failing else None, address)
            else:
                verdict = await anyio.to_thread.run_sync(
                    self._decide, client, key_id if writes else None, credential if failing else None, address
                )
        except Exception:
            # A shared store that is down must not take the service with it: serve unlimited, say so.
            self._warn_storage(now)
            await self.app(scope, receive, send)
            return
        if isinstance(verdict, _Refusal):
            await self._refuse(scope, send, now, verdict)
            return
        reset, remaining = verdict

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["X-RateLimit-Limit"] = str(self.requests.amount)
                headers["X-RateLimit-Remaining"] = str(max(0, remaining))
                headers["X-RateLimit-Reset"] = str(math.ceil(reset))
                if message["status"] == 401 and credential is not None:
                    await self._count_failure(credential, address, now)
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _decide(
        self, client: str, writer: str | None, failing_credential: str | None, address: str
    ) -> _Refusal | tuple[float, int]:
        """Charge this request; a refusal, or the request budget's (reset time, remaining)."""
        if failing_credential is not None:
            braked = self._braked(credential_prefix(failing_credential), address)
            if braked:
                reset = self.limiter.get_window_stats(self.failures, braked).reset_time
                return _Refusal(reset, "Too many failed authentications from this address or for this key.")
        if not self.limiter.hit(self.requests, client):
            reset = self.limiter.get_window_stats(self.requests, client).reset_time
            return _Refusal(reset, f"More than {self.requests.amount} requests a minute.")
        if writer is not None and not self.limiter.hit(self.creates, writer):
            reset = self.limiter.get_window_stats(self.creates, writer).reset_time
            return _Refusal(reset, f"More than {self.creates.amount} writes an hour for this key.")
        stats = self.limiter.get_window_stats(self.requests, client)
        return stats.reset_time, stats.remaining

    def _braked(self, prefix: str, address: str) -> str | None:
        for identifier in (f"prefix:{prefix}", f"ip:{address}"):
            if not self.limiter.test(self.failures, identifier):
                return identifier
        return None

    async def _count_failure(self, credential: str, address: str, now: float) -> None:
        def count() -> None:
            self.limiter.hit(self.failures, f"prefix:{credential_prefix(credential)}")
            self.limiter.hit(self.failures, f"ip:{address}")

        try:
            if self.in_memory:
                count()
            else:
                await anyio.to_thread.run_sync(count)
        except Exception:
            self._warn_storage(now)

    def _warn_storage(self, now: float) -> None:
        if now - self._last_storage_warning >= STORAGE_WARNING_EVERY_S:
            self._last_storage_warning = now
            logger.warning("rate-limit storage unavailable; serving without limits", exc_info=True)

    async def _refuse(self, scope: Scope, send: Send, now: float, refusal: _Refusal) -> None:
        retry_after = max(1, math.ceil(refusal.reset - now))
        response: Response = problem_response(
            RateLimited(f"{refusal.detail} Retry in {retry_after} s.", headers={"Retry-After": str(retry_after)})
        )
        if self.page_errors is not None:
            response = self.page_errors(Request(scope), response)
        headers = MutableHeaders(raw=list(response.raw_headers))
        headers["X-RateLimit-Limit"] = str(self.requests.amount)
        headers["X-RateLimit-Remaining"] = "0"
        headers["X-RateLimit-Reset"] = str(math.ceil(refusal.reset))
        await send({"type": "http.response.start", "status": 429, "headers": headers.raw})
        await send({"type": "http.response.body", "body": response.body})


@dataclass(frozen=True, slots=True)
class _Refusal:
    reset: float  # epoch seconds when the budget frees up
    detail: str


def _storage(url: str | None) -> Any:
    """The counters' store: each worker's memory, or the shared store `url` names (short socket timeouts)."""
    if not url:
        return MemoryStorage()
    if url.startswith(("redis://", "rediss://", "redis+unix://")):
        return storage_from_string(url, socket_timeout=STORE_TIMEOUT_S, socket_connect_timeout=STORE_TIMEOUT_S)
    return storage_from_string(url)


def _session_key_id(scope: Scope) -> str | None:
    """The key id a signed-in page session names, if its cookie is genuine."""
    raw = header(scope, b"cookie")
    if raw is None:
        return None
    value = cookie_parser(raw.decode("latin-1")).get(SESSION_COOKIE)
    signer = getattr(scope["app"].state, "signer", None)
    if value is None or signer is None:
        return None
    token = signer.loads(value)
    return token.kid if token is not None else None
