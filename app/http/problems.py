"""Problems as responses: the FastAPI handlers that render every error as `application/problem+json`.

The exceptions are `app.core.errors` (framework-free, raised by services); this module turns them,
and the framework's own errors (unknown route, wrong method, request validation, database outages,
anything unexpected), into the same shape. A 500 never carries a traceback, SQL or a path.
"""

from __future__ import annotations

import logging
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.core.errors import (
    PROBLEM_MEDIA_TYPE,
    DatabaseUnavailable,
    InsufficientStorage,
    MalformedJson,
    Problem,
    ServiceUnavailable,
    UnprocessableEntity,
    field_error,
)
from app.core.i18n import gettext
from app.core.logtext import escape_control
from app.http.api_language import api_language, translate

logger = logging.getLogger("app.errors")


def problem_response(problem: Problem, request: Request | None = None) -> JSONResponse:
    """Render a Problem as an `application/problem+json` response."""
    instance = request.url.path if request is not None else None
    body = problem.body(instance)
    code = api_language(request)
    if code is not None:
        # A detail raised with gettext() is already in the request's language; a constant one is looked up.
        for key in ("title", "detail"):
            if isinstance(body.get(key), str):
                body[key] = translate(str(body[key]), code)
    return JSONResponse(
        body,
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
    return UnprocessableEntity(
        gettext("%(count)s invalid field(s): %(names)s.") % {"count": len(items), "names": names}, errors=items
    )


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
            detail = gettext("No resource at %(path)s.") % {"path": request.url.path}
        elif exc.status_code == 405 and detail is None:
            detail = gettext("%(method)s is not allowed on %(path)s.") % {
                "method": request.method,
                "path": request.url.path,
            }
        elif exc.status_code == 413 and detail is None:
            detail = gettext("The request body is larger than this endpoint accepts.")
        code = api_language(request)
        body = {
            "type": "about:blank",
            # The catalogue holds titles in sentence case ("Not found"), as the API's own problems write them.
            "title": translate(phrase[:1] + phrase[1:].lower(), code) if code else phrase,
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
