"""Errors as RFC 9457 problem details (`application/problem+json`).

Every error the API returns is one of these, so clients key on the stable
`type` (a relative URI `/problems/<slug>`) and `code` (UPPER_SNAKE_CASE)::

    Problem                         500 internal-error
    ├── BadRequest                  400 bad-request
    │   └── MalformedJson           400 malformed-json
    ├── Unauthorized                401 unauthorized
    ├── Forbidden                   403 forbidden
    ├── NotFound                    404 not-found
    ├── Conflict                    409 conflict
    ├── PreconditionFailed          412 precondition-failed   (stale If-Match)
    ├── PayloadTooLarge             413 payload-too-large
    ├── UnprocessableEntity         422 validation-error       (carries `errors`)
    ├── PreconditionRequired        428 precondition-required (If-Match missing)
    ├── RateLimited                 429 rate-limited           (carries Retry-After)
    ├── ServiceUnavailable          503 service-unavailable
    │   └── DatabaseUnavailable     503 database-unavailable
    └── InsufficientStorage         507 insufficient-storage

Framework errors (unknown route, wrong method, request validation, database
outages, anything unexpected) are rendered into the same shape by
`install_error_handlers(app)`; a 500 never carries a traceback, SQL or a path.
"""

from __future__ import annotations

import logging
import re
from http import HTTPStatus
from typing import ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.core.jsontypes import JsonObject
from app.core.logtext import escape_control

logger = logging.getLogger("app.errors")

PROBLEM_MEDIA_TYPE = "application/problem+json"


def _slug(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


class Problem(Exception):
    """Base of every error the API reports on purpose.

    Args:
        detail: human-readable explanation of this occurrence.
        headers: extra response headers (e.g. `Retry-After`).
        **extensions: extra members of the problem body (e.g. `errors`).
    """

    status: ClassVar[int] = 500
    title: ClassVar[str] = "Internal server error"
    slug: ClassVar[str] = "internal-error"

    def __init__(self, detail: str, *, headers: dict[str, str] | None = None, **extensions: object) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}
        self.extensions: JsonObject = extensions

    @classmethod
    def type_uri(cls) -> str:
        return f"/problems/{cls.slug}"

    @classmethod
    def code(cls) -> str:
        return cls.slug.replace("-", "_").upper()

    def body(self, instance: str | None = None) -> JsonObject:
        body: JsonObject = {
            "type": self.type_uri(),
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "code": self.code(),
        }
        if instance:
            body["instance"] = instance
        body.update(self.extensions)
        return body


class BadRequest(Problem):
    status, title, slug = 400, "Bad request", "bad-request"


class MalformedJson(BadRequest):
    title, slug = "Malformed JSON body", "malformed-json"


class Unauthorized(Problem):
    status, title, slug = 401, "Authentication required", "unauthorized"

    def __init__(self, detail: str, **extensions: object) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="upr-match"'}, **extensions)


class Forbidden(Problem):
    status, title, slug = 403, "Forbidden", "forbidden"


class NotFound(Problem):
    status, title, slug = 404, "Not found", "not-found"


class Conflict(Problem):
    status, title, slug = 409, "Conflict", "conflict"


class PreconditionFailed(Problem):
    status, title, slug = 412, "Precondition failed", "precondition-failed"


class PayloadTooLarge(Problem):
    status, title, slug = 413, "Payload too large", "payload-too-large"


class UnprocessableEntity(Problem):
    status, title, slug = 422, "Validation error", "validation-error"


class PreconditionRequired(Problem):
    status, title, slug = 428, "Precondition required", "precondition-required"


class RateLimited(Problem):
    status, title, slug = 429, "Too many requests", "rate-limited"


class ServiceUnavailable(Problem):
    status, title, slug = 503, "Service unavailable", "service-unavailable"


class DatabaseUnavailable(ServiceUnavailable):
    title, slug = "Database unavailable", "database-unavailable"


class InsufficientStorage(Problem):
    status, title, slug = 507, "Insufficient storage", "insufficient-storage"


def field_error(loc: list[str | int], detail: str, kind: str = "value_error") -> JsonObject:
    """Build one entry of a validation problem's `errors` list."""
    return {
        "loc": loc,
        "pointer": "/" + "/".join(str(part) for part in loc),
        "field": ".".join(str(part) for part in loc[1:] if not isinstance(part, int)) or str(loc[-1]),
        "detail": detail,
        "type": kind,
    }


def problem_response(problem: Problem, request: Request | None = None) -> JSONResponse:
    """Render a Problem as an `application/problem+json` response."""
    instance = request.url.path if request is not None else None
    return JSONResponse(
        problem.body(instance),
        status_code=problem.status,
        headers=problem.headers or None,
        media_type=PROBLEM_MEDIA_TYPE,
    )


def problem_from_validation(exc: RequestValidationError) -> Problem:
    """Turn FastAPI's validation errors into a 400 (bad JSON) or a 422 listing every field."""
    errors = list(exc.errors())
    for err in errors:
        if err.get("type") == "json_invalid":
            ctx = err.get("ctx") or {}
            reason = ctx.get("error", "invalid JSON")
            return MalformedJson(f"The request body is not valid JSON: {reason}.")
    items = []
    for err in errors:
        loc = [part for part in err.get("loc", ()) if part is not None]
        message = str(err.get("msg", "invalid value"))
        if err.get("type") == "extra_forbidden":
            message = "unknown field; this resource does not accept it"
        items.append(field_error(loc, message, str(err.get("type", "value_error"))))
    names = ", ".join(sorted({e["pointer"] for e in items}))
    return UnprocessableEntity(f"{len(items)} invalid field(s): {names}.", errors=items)


def _is_disk_full(exc: BaseException) -> bool:
    text = str(getattr(exc, "orig", exc)).lower()
    return "disk is full" in text or "no space left" in text or "could not extend file" in text


def install_error_handlers(app: FastAPI) -> None:
    """Render every error, expected or not, as problem+json."""

    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Problem)
        return problem_response(exc, request)

    async def on_http_exception(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        phrase = HTTPStatus(exc.status_code).phrase if exc.status_code in HTTPStatus._value2member_map_ else "Error"
        detail = exc.detail if isinstance(exc.detail, str) and exc.detail != phrase else None
        if exc.status_code == 404 and detail is None:
            detail = f"No resource at {request.url.path}."
        elif exc.status_code == 405 and detail is None:
            detail = f"{request.method} is not allowed on {request.url.path}."
        elif exc.status_code == 413 and detail is None:
            detail = "The request body is larger than this endpoint accepts."
        body = {
            "type": "about:blank",
            "title": phrase,
            "status": exc.status_code,
            "detail": detail or phrase,
            "instance": request.url.path,
        }
        return JSONResponse(
            body, status_code=exc.status_code, headers=getattr(exc, "headers", None), media_type=PROBLEM_MEDIA_TYPE
        )

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return problem_response(problem_from_validation(exc), request)

    async def on_database_error(request: Request, exc: Exception) -> JSONResponse:
        if _is_disk_full(exc):
            logger.error("storage full while handling %s %s", request.method, escape_control(request.url.path))
            return problem_response(
                InsufficientStorage("The database has no space left; nothing was written. Try again later."), request
            )
        if isinstance(exc, PoolTimeout):
            # Every pooled connection is busy: the client should come back, not see a 500.
            logger.warning(
                "database connection pool exhausted on %s %s", request.method, escape_control(request.url.path)
            )
            return problem_response(
                ServiceUnavailable(
                    "The service is busy (no database connection free); nothing was written. Try again shortly.",
                    headers={"Retry-After": "2"},
                ),
                request,
            )
        if isinstance(exc, DBAPIError) and (exc.connection_invalidated or _is_connection_error(exc)):
            logger.error("database unavailable: %s", type(exc.orig).__name__ if exc.orig else type(exc).__name__)
            return problem_response(
                DatabaseUnavailable(
                    "The database is not answering; nothing was written. Try again shortly.",
                    headers={"Retry-After": "5"},
                ),
                request,
            )
        logger.exception("database error on %s %s", request.method, escape_control(request.url.path))
        return problem_response(Problem("An unexpected error occurred; it has been logged."), request)

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error on %s %s", request.method, escape_control(request.url.path))
        return problem_response(Problem("An unexpected error occurred; it has been logged."), request)

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(StarletteHTTPException, on_http_exception)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(SQLAlchemyError, on_database_error)
    app.add_exception_handler(Exception, on_unexpected)


_CONNECTION_MARKERS = (
    "connection refused",
    "could not connect",
    "server closed the connection",
    "terminating connection",
    "connection is closed",
    "connection timeout",
    "timeout expired",
    "the database system is",
    "consuming input failed",
    "canceling statement due to statement timeout",
    "database is locked",
    "unable to open database",
)


def _is_connection_error(exc: DBAPIError) -> bool:
    text = str(exc.orig or exc).lower()
    return any(marker in text for marker in _CONNECTION_MARKERS)
