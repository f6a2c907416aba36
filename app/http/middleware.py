"""Pure ASGI middleware: security headers, write intent for SQLite, request logs."""

from __future__ import annotations

import email.message
import logging
import time
import uuid

from fastapi import HTTPException
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core import metrics
from app.core.db import write_intent
from app.core.errors import PayloadTooLarge, UnprocessableEntity, field_error
from app.core.i18n import LANGUAGE_COOKIE, language, request_language
from app.core.logtext import escape_control
from app.http.problems import problem_response

access_logger = logging.getLogger("app.access")

_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


HSTS = "max-age=31536000; includeSubDomains"


class RequestContextMiddleware:
    """Add a request id and security headers, mark write requests, log and count each request once.

    With `hsts` (production), every answer carries `Strict-Transport-Security`, so browsers
    that reached the service once over HTTPS never fall back to plain HTTP.
    """

    def __init__(self, app: ASGIApp, *, hsts: bool = False) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        request_id = _incoming_request_id(scope) or uuid.uuid4().hex
        token = write_intent.set(method not in _SAFE_METHODS)
        started = time.perf_counter()
        status_holder = {"status": 500}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                headers = MutableHeaders(scope=message)
                headers["X-Request-ID"] = request_id
                headers["X-Content-Type-Options"] = "nosniff"
                headers.setdefault("Referrer-Policy", "no-referrer")
                headers.setdefault("X-Frame-Options", "DENY")
                if self.hsts:
                    headers["Strict-Transport-Security"] = HSTS
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            write_intent.reset(token)
            elapsed = time.perf_counter() - started
            elapsed_ms = elapsed * 1000
            metrics.observe_request(method, metrics.route_template(scope), status_holder["status"], elapsed)
            access_logger.info(
                "%s %s %s %.1fms id=%s",
                escape_control(method),
                escape_control(scope["path"]),
                status_holder["status"],
                elapsed_ms,
                request_id,
            )


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            text: str = value.decode("latin-1")
            if 0 < len(text) <= 64 and text.replace("-", "").isalnum():
                return text
    return None


class BodyTooLarge(HTTPException):
    """Raised from `receive` when a streamed body passes its limit (rendered as 413).

    An HTTPException so that FastAPI's body parser lets it through unchanged.
    """

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is larger than the {limit} bytes this endpoint accepts.")


class BodyLimitMiddleware:
    """Refuse request bodies over a size limit with 413 problem+json.

    A declared `Content-Length` over the limit is refused before the app runs;
    a chunked body is counted as it streams and cut off at the limit. Paths in
    `large_paths` (bulk imports) get `large_limit` instead of `limit`.
    """

    def __init__(self, app: ASGIApp, *, limit: int, large_limit: int, large_paths: tuple[str, ...] = ()) -> None:
        self.app = app
        self.limit = limit
        self.large_limit = large_limit
        self.large_paths = large_paths

    def limit_for(self, path: str) -> int:
        return self.large_limit if path.startswith(self.large_paths) else self.limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared > limit:
                    await _send_413(scope, send, limit)
                    return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            # Raised where no exception handler sees it (a middleware reading the body): still a 413.
            if started:
                raise
            await _send_413(scope, send, limit)


async def _send_413(scope: Scope, send: Send, limit: int) -> None:
    response = problem_response(
        PayloadTooLarge(f"The request body is larger than the {limit} bytes this endpoint accepts.")
    )
    body = response.body
    headers = [(k, v) for k, v in response.raw_headers]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class NulCharacter(HTTPException):
    """Raised from `receive` when a JSON body carries a NUL character (rendered as 422).

    PostgreSQL text cannot hold U+0000 and SQLite would store it silently, so the
    API refuses it everywhere, before any work.
    """

    def __init__(self) -> None:
        super().__init__(422, "Text may not contain NUL characters (\\u0000).")


def parsed_as_json(content_type: str) -> bool:
    """True when the API's body parser reads a body of this Content-Type as JSON.

    The same rule as FastAPI's (media subtype `json` or `*+json`, parameters ignored), so
    a parameter or another type that merely contains "ndjson" changes nothing.
    """
    if not content_type:
        return False
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return subtype == "json" or subtype.endswith("+json")


class NulGuardMiddleware:
    """Refuse NUL characters in query strings and JSON bodies with a 422 problem."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        query = scope.get("query_string", b"")
        if b"%00" in query or b"\x00" in query or "\x00" in scope.get("path", ""):
            names = [
                part.split(b"=", 1)[0].decode("latin-1")
                for part in query.split(b"&")
                if b"%00" in part or b"\x00" in part
            ]
            problem = UnprocessableEntity(
                "Query parameters may not contain NUL characters.",
                errors=[field_error(["query", name or "?"], "contains a NUL character (%00)") for name in names]
                or [field_error(["path"], "contains a NUL character")],
            )
            response = problem_response(problem)
            await send({"type": "http.response.start", "status": 422, "headers": response.raw_headers})
            await send({"type": "http.response.body", "body": response.body})
            return
        content_type = next((v for k, v in scope.get("headers", []) if k == b"content-type"), b"")
        if not parsed_as_json(content_type.decode("latin-1")):
            await self.app(scope, receive, send)  # import files (JSON Lines, CSV) are checked row by row
            return
        tail = b""

        async def guarded_receive() -> Message:
            nonlocal tail
            message = await receive()
            if message["type"] == "http.request":
                chunk = tail + message.get("body", b"")
                if b"\x00" in chunk or b"\\u0000" in chunk:
                    raise NulCharacter()
                tail = chunk[-5:]
            return message

        await self.app(scope, guarded_receive, send)


class RequestLanguageMiddleware:
    """Run each request in its language (app/core/i18n.py `request_language`), so every message built while
    answering it (a form error, a notice, an explanation, a problem's detail) is in the words of the page or
    the client. English when nothing asks for another language: the API's answers are then unchanged."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        api = request.url.path.startswith("/v1/")
        code = request_language(
            api=api,
            lang=request.query_params.get("lang"),
            cookie=request.cookies.get(LANGUAGE_COOKIE),
            accept=request.headers.get("accept-language"),
        )
        if not api:
            with language(code):
                await self.app(scope, receive, send)
            return

        async def send_varying(message: Message) -> None:
            if message["type"] == "http.response.start":  # a cache keys the API's words on the language asked
                headers = MutableHeaders(scope=message)
                vary = [v.strip() for v in headers.get("vary", "").split(",") if v.strip()]
                if "accept-language" not in {v.lower() for v in vary}:
                    headers["Vary"] = ", ".join([*vary, "Accept-Language"])
            await send(message)

        with language(code):
            await self.app(scope, receive, send_varying)
