"""Rate limits: requests per minute per client, creates per hour per key, and the failed-authentication brake.

Counted with the `limits` package in moving windows, in the worker's memory by default, or
in a shared store named by `RATE_LIMIT_STORAGE_URL` (e.g. `redis://host:6379/0`) so that
every worker and replica draws on one budget. Memory is bounded (old entries expire) and
each request costs a few constant-time counter updates.

The client is the API key that authenticates the request (its id, however the header
is spelled, whether it came as `Authorization: Bearer` or as a signed-in page's session);
a missing, malformed, unknown or revoked credential, and the cookie of a page session that
ended (signed out, idle, or its key revoked), count as the client's address. The
API under `/v1` and the pages (including `/signin`) share one budget; the probes under
`/health` and the static files are not limited. Limited responses carry
`X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` (epoch seconds);
over a limit the answer is 429 with `Retry-After`.

The hourly write quota counts POSTs of a key, except those that only read (`READ_ONLY_POSTS`:
free-text matching, classification, need drafts, related recommendations) and signing in or out.

The brake counts failed authentications (401, and keys the sign-in form refuses) per
credential prefix and per address; once either passes `AUTH_FAILURES_PER_MINUTE`, further
requests carrying a credential that does not authenticate get 429 (the sign-in form too).
A request whose key is valid is never braked, so an attacker behind the same proxy or NAT
address cannot lock other users out.

The address is the TCP peer, or the first untrusted hop of `X-Forwarded-For` when the peer
is a proxy listed in uvicorn's `FORWARDED_ALLOW_IPS`; other peers cannot choose it.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, ClassVar

import anyio
from limits import RateLimitItemPerHour, RateLimitItemPerMinute
from limits.storage import MemoryStorage, Storage, StorageTypes, storage_from_string
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy.engine import Engine
from starlette.datastructures import MutableHeaders
from starlette.requests import Request, cookie_parser
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import RateLimited
from app.http.credentials import (
    SESSION_MAX_AGE_S,
    bearer_credential,
    credential_digest,
    credential_prefix,
    header,
    lookup_key_id,
    lookup_session_key_id,
)
from app.http.problems import problem_response

logger = logging.getLogger("app.ratelimit")

UNLIMITED_PREFIXES = ("/health/", "/static/", "/docs/assets/")
NO_WRITE_QUOTA_PATHS = ("/signin", "/signout")
# POSTs that only read (a query too large for a URL): they count as requests, never as writes.
READ_ONLY_POSTS = re.compile(
    r"^/v1/(match|classify|states/[^/]+/needs/draft|needs/draft-from-text|recommendations/related)$"
)
SIGN_IN_PATH = "/signin"
SESSION_COOKIE = "upr_session"
KEY_CACHE_SIZE = 4096
KEY_CACHE_TTL_S = 30.0
STORAGE_WARNING_EVERY_S = 60.0
STORE_TIMEOUT_S = 0.5


class _Unresolved:
    """No cached answer for a credential (distinct from a cached None: "it does not authenticate")."""


class KeyIdentities:
    """Which key id a presented credential belongs to (None: it does not authenticate), briefly cached.

    Bounded LRU keyed by a digest of the credential; an entry lives `ttl` seconds, so a
    revoked key stops counting as its key within that time (its requests get 401 at once).
    """

    _UNRESOLVED: ClassVar[_Unresolved] = _Unresolved()

    def __init__(self, *, size: int = KEY_CACHE_SIZE, ttl: float = KEY_CACHE_TTL_S) -> None:
        self.size = size
        self.ttl = ttl
        self._entries: OrderedDict[str, tuple[str | None, float]] = OrderedDict()
        self._lock = threading.Lock()

    def cached(self, digest: str, now: float) -> str | None | _Unresolved:
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

    def forget(self, digest: str) -> None:
        with self._lock:
            self._entries.pop(digest, None)

    async def resolve(self, engine: Engine, credential: str, now: float) -> str | None:
        """The key id, or None; raises when the database cannot tell (nothing is cached then)."""
        return await self.resolve_by(credential_digest(credential), now, lookup_key_id, engine, credential)

    async def resolve_by(self, digest: str, now: float, lookup: Callable[..., str | None], *args: Any) -> str | None:
        """The cached answer for `digest`, else `lookup(*args)` run in a thread (and cached)."""
        found = self.cached(digest, now)
        if not isinstance(found, _Unresolved):
            return found
        key_id = await anyio.to_thread.run_sync(lookup, *args)
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
        self.sessions = KeyIdentities()  # page sessions: live (their key id) or ended (None)
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
            key_id = await self._session_key_id(scope, now)
        else:
            failing = True  # an Authorization header that is not `Bearer <key>`
        writes = key_id is not None and scope["method"] == "POST" and _writes(scope["path"])
        if scope["method"] == "POST" and scope["path"] == SIGN_IN_PATH:
            # The form checks the pasted key itself; it reports a failure here (`failed_sign_in`).
            scope.setdefault("state", {})["auth_brake"] = _SignInBrake(self, address, now)
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
                if scope["path"] == "/signout" and message["status"] < 400:
                    self._forget_session(scope)  # its cookie counts as anonymous from now on
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _session_key_id(self, scope: Scope, now: float) -> str | None:
        """The key id of a signed-in page session that is still live; a signed-out or idle one counts as anonymous.

        The cookie's signature only proves it was issued here; whether the session still counts is in the
        database (`web_session`), looked up once per KEY_CACHE_TTL_S. Sign-out through this worker forgets
        it at once.
        """
        token = _session_token(scope)
        if token is None or token.kid is None:
            return None
        settings = scope["app"].state.settings
        idle = timedelta(minutes=settings.WEB_SESSION_IDLE_MINUTES)
        max_age = timedelta(seconds=SESSION_MAX_AGE_S)
        try:
            return await self.sessions.resolve_by(
                _session_digest(token.sid),
                now,
                lookup_session_key_id,
                scope["app"].state.engine,
                token.sid,
                token.kid,
                idle,
                max_age,
            )
        except Exception:  # the database cannot tell now: count the request as anonymous
            return None

    def _forget_session(self, scope: Scope) -> None:
        token = _session_token(scope)
        if token is not None:
            self.sessions.forget(_session_digest(token.sid))

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
        try:
            if self.in_memory:
                self._hit_failure(credential, address)
            else:
                await anyio.to_thread.run_sync(self._hit_failure, credential, address)
        except Exception:
            self._warn_storage(now)

    def _hit_failure(self, credential: str, address: str) -> None:
        self.limiter.hit(self.failures, f"prefix:{credential_prefix(credential)}")
        self.limiter.hit(self.failures, f"ip:{address}")

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
class _SignInBrake:
    """The failed-authentication brake, for the sign-in form that checks a pasted key after the middleware ran."""

    limits: RateLimitMiddleware
    address: str
    now: float

    def failed(self, credential: str) -> None:
        """Count a refused key; raise RateLimited instead when its prefix or this address is braked already."""
        limits = self.limits
        try:
            braked = limits._braked(credential_prefix(credential), self.address)
            if braked is None:
                limits._hit_failure(credential, self.address)
                return
            reset = limits.limiter.get_window_stats(limits.failures, braked).reset_time
        except Exception:
            limits._warn_storage(self.now)
            return
        retry_after = max(1, math.ceil(reset - limits.clock()))
        raise RateLimited(
            f"Too many failed sign-ins from this address or for this key. Retry in {retry_after} s.",
            headers={"Retry-After": str(retry_after)},
        )


def failed_sign_in(request_state: Any, credential: str) -> None:
    """Report a key the sign-in form refused to the failed-authentication brake (RateLimited once braked).

    Blocking with a shared store: call it from a route that runs in the thread pool.
    """
    brake = getattr(request_state, "auth_brake", None)
    if brake is not None and credential:
        brake.failed(credential)


@dataclass(frozen=True, slots=True)
class _Refusal:
    reset: float  # epoch seconds when the budget frees up
    detail: str


def _storage(url: str | None) -> StorageTypes:
    """The counters' store: each worker's memory, or the shared store `url` names (short socket timeouts)."""
    if not url:
        return MemoryStorage()
    if url.startswith(("redis://", "rediss://", "redis+unix://")):
        return storage_from_string(url, socket_timeout=STORE_TIMEOUT_S, socket_connect_timeout=STORE_TIMEOUT_S)
    return storage_from_string(url)


def _writes(path: str) -> bool:
    """Whether a POST to `path` counts against the hourly write quota."""
    return path not in NO_WRITE_QUOTA_PATHS and READ_ONLY_POSTS.match(path) is None


def _session_token(scope: Scope) -> Any:
    """The genuine (signed, unexpired) session token of the request's cookie, or None."""
    raw = header(scope, b"cookie")
    if raw is None:
        return None
    value = cookie_parser(raw.decode("latin-1")).get(SESSION_COOKIE)
    signer = getattr(scope["app"].state, "signer", None)
    if value is None or signer is None:
        return None
    return signer.loads(value)


def _session_digest(sid: str) -> str:
    return "session:" + credential_digest(sid)
