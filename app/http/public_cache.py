"""Public reads that cost nothing the second time: ETag from the data version, 304, Cache-Control.

An anonymous GET or HEAD (no `Authorization`, no page session cookie) of the API or a page gets
a strong `ETag` derived from the database's data version (`app.models.data_version`, moved by
triggers on every write to public data, so every replica on one database agrees), the release
(service and tagger versions), the path and query, the language the answer is in, and the hour
(for the few answers that read the clock). A request whose `If-None-Match` names it is answered
`304 Not Modified` here, after one read of the version and before any route, query or ranking.

`Cache-Control` per family:
- anonymous `200` answers: `public, max-age=<PUBLIC_MAX_AGE_S>, stale-while-revalidate=<...>`,
  with `Vary: Accept-Language` (API) or `Vary: Accept-Language, Cookie` (pages: `upr_lang`);
- anything a key or a session sees, and any answer that sets a cookie: `private, no-store`, no
  public ETag, never a 304 from here.
An answer that already carries its own `ETag` (a provider, need or activity: the version a write's
`If-Match` names) or `Cache-Control` keeps them; it only gains what it lacks.

Each worker also keeps the last anonymous `200` answers it rendered (`RenderedAnswers`, an LRU
bounded in entries and bytes), keyed by that ETag: a repeat of the same read with the same data
version is sent from memory without running the route. Since the key holds the data version, a
write anywhere makes every kept answer unreachable at once (they age out of the LRU).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from starlette.datastructures import MutableHeaders
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.i18n import LANGUAGE_COOKIE, accepted_language, valid_language
from app.http.credentials import header

PRIVATE = "private, no-store"
# Paths whose answers are never shared: probes, metrics, the API keys and a visitor's own pages.
UNCACHED_PREFIXES = (
    "/health",
    "/metrics",
    "/v1/keys",
    "/v1/inbox",
    "/v1/audit",
    "/inbox",
    "/signin",
    "/signout",
    "/unsubscribe",
    "/language/",
)
SESSION_COOKIE = b"upr_session"
VERSION_SQL = "SELECT COALESCE(SUM(version), 0) FROM data_version"


MAX_KEPT_BODY = 256 * 1024  # bytes: larger answers (exports, big pages) are rendered every time


@dataclass(frozen=True, slots=True)
class Rendered:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    route: object = None  # the route that rendered it: answers given again are counted under it (metrics)


class RenderedAnswers:
    """The last anonymous answers a worker rendered, by public ETag: at most `entries` and `max_bytes`."""

    def __init__(self, *, entries: int, max_bytes: int) -> None:
        self.entries = entries
        self.max_bytes = max_bytes
        self.size = 0
        self._kept: OrderedDict[bytes, Rendered] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, etag: bytes) -> Rendered | None:
        with self._lock:
            found = self._kept.get(etag)
            if found is not None:
                self._kept.move_to_end(etag)
            return found

    def put(self, etag: bytes, answer: Rendered) -> None:
        if self.entries <= 0 or len(answer.body) > min(MAX_KEPT_BODY, self.max_bytes):
            return
        with self._lock:
            old = self._kept.pop(etag, None)
            self.size -= len(old.body) if old else 0
            self._kept[etag] = answer
            self.size += len(answer.body)
            while len(self._kept) > self.entries or self.size > self.max_bytes:
                _, dropped = self._kept.popitem(last=False)
                self.size -= len(dropped.body)


def read_data_version(engine: Engine) -> int:
    """The data version, one query on a pooled connection (no ORM session)."""
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        try:
            cursor.execute(VERSION_SQL)
            row = cursor.fetchone()
        finally:
            cursor.close()
        connection.rollback()  # ends the read transaction the driver may have opened
    finally:
        connection.close()
    return int(row[0]) if row else 0


def _cookie_value(scope: Scope, name: str) -> str | None:
    raw = header(scope, b"cookie")
    if raw is None:
        return None
    return cookie_parser(raw.decode("latin-1")).get(name)


def is_anonymous(scope: Scope) -> bool:
    """No credential at all: no `Authorization` header and no page session cookie."""
    if header(scope, b"authorization") is not None:
        return False
    raw = header(scope, b"cookie")
    return raw is None or SESSION_COOKIE not in raw


def language_key(scope: Scope, *, page: bool) -> str:
    """What decides the answer's language: `Accept-Language`, and for pages the `upr_lang` cookie.

    (A page's `?lang=` is in the query, which the ETag covers already.)
    """
    raw = header(scope, b"accept-language")
    spoken = accepted_language(raw.decode("latin-1")) if raw else None
    if not page:
        return spoken or "-"
    chosen = valid_language(_cookie_value(scope, LANGUAGE_COOKIE))
    return f"{chosen or '-'}/{spoken or '-'}"


def _matches(if_none_match: bytes, etag: bytes) -> bool:
    tags = [tag.strip().removeprefix(b"W/") for tag in if_none_match.split(b",")]
    return b"*" not in tags and etag in tags


class PublicCacheMiddleware:
    """ETag, 304 and Cache-Control for public reads; `private, no-store` for everything a credential sees."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_age_s: int,
        stale_s: int,
        release: Callable[[Scope], str],
        engine: Callable[[Scope], Engine | None],
        clock: Callable[[], float] = time.time,
        kept_entries: int = 0,
        kept_bytes: int = 0,
    ) -> None:
        self.app = app
        self.kept = RenderedAnswers(entries=kept_entries, max_bytes=kept_bytes)
        self.public = f"public, max-age={max_age_s}, stale-while-revalidate={stale_s}".encode("latin-1")
        self.release = release
        self.engine = engine
        self.clock = clock

    def public_etag(self, scope: Scope, engine: Engine, *, page: bool) -> bytes:
        hour = int(self.clock() // 3600)
        material = "\n".join(
            (
                str(read_data_version(engine)),
                self.release(scope),
                scope["path"],
                scope.get("query_string", b"").decode("latin-1"),
                language_key(scope, page=page),
                str(hour),
            )
        )
        return b'"d' + hashlib.blake2b(material.encode("utf-8"), digest_size=12).hexdigest().encode("ascii") + b'"'

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path.startswith(UNCACHED_PREFIXES) or not is_anonymous(scope):
            await self.app(scope, receive, self._private(send))
            return
        engine = self.engine(scope)
        if engine is None:
            await self.app(scope, receive, send)
            return
        page = not path.startswith("/v1/")
        vary = b"Accept-Language" if not page else b"Accept-Language, Cookie"
        try:
            etag = self.public_etag(scope, engine, page=page)
        except Exception:  # noqa: BLE001 - no version (database down or not migrated): the route answers as usual
            await self.app(scope, receive, send)
            return
        asked = header(scope, b"if-none-match")
        kept = self.kept.get(etag) if scope["method"] == "GET" else None
        if kept is not None and kept.route is not None:
            scope["route"] = kept.route  # the request is counted under its route, as if the route had answered
        if asked is not None and _matches(asked, etag):
            await send(
                {
                    "type": "http.response.start",
                    "status": 304,
                    "headers": [(b"etag", etag), (b"cache-control", self.public), (b"vary", vary)],
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return
        if kept is not None:
            await send({"type": "http.response.start", "status": kept.status, "headers": list(kept.headers)})
            await send({"type": "http.response.body", "body": kept.body})
            return
        await self.app(scope, receive, self._public(scope, send, etag, vary, keep=scope["method"] == "GET"))

    def _private(self, send: Send) -> Send:
        async def send_private(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Cache-Control"] = PRIVATE
            await send(message)

        return send_private

    def _public(self, scope: Scope, send: Send, etag: bytes, vary: bytes, *, keep: bool) -> Send:
        start: Message | None = None

        async def send_public(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                _decorate(message, etag, self.public, vary)
                headers = MutableHeaders(scope=message)
                # Kept only a plain public 200 whose ETag is this request's (not an item's own version).
                if keep and message["status"] == 200 and headers.get("etag") == etag.decode("ascii"):
                    start = message
            elif start is not None and message["type"] == "http.response.body":
                if not message.get("more_body", False):  # the whole answer in one message: keep it
                    body = message.get("body", b"")
                    self.kept.put(etag, Rendered(start["status"], list(start["headers"]), body, scope.get("route")))
                start = None
            await send(message)

        return send_public


def _decorate(message: Message, etag: bytes, public: bytes, vary: bytes) -> None:
    """Headers of an anonymous answer: public ETag and Cache-Control on a plain 200, private when it sets a cookie."""
    headers = MutableHeaders(scope=message)
    if "set-cookie" in headers:
        headers["Cache-Control"] = PRIVATE
        return
    if message["status"] not in (200, 304):
        return
    if "cache-control" not in headers:
        headers.append("Cache-Control", public.decode("latin-1"))
    if "etag" not in headers and message["status"] == 200:
        headers.append("ETag", etag.decode("ascii"))
    names = [v.strip() for v in headers.get("vary", "").split(",") if v.strip()]
    names += [v for v in vary.decode("latin-1").split(", ") if v not in names]
    headers["Vary"] = ", ".join(names)
