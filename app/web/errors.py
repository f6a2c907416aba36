"""HTML error pages for the web routes; the API (`/v1`, probes, docs) keeps problem+json.

`install_html_error_handlers(app)` wraps the handlers `app.http.problems` installed: each
still builds its problem, and only for a page path is that problem shown as HTML
(same status, title and detail). A page that needs a signed-in visitor answers
303 to the sign-in page instead of 401.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Awaitable, Callable
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from app.core.errors import Problem, Unauthorized
from app.core.jsontypes import JsonObject
from app.reference.validation import unknown_country
from app.web.templating import redirect, render

# Paths that are not pages: they keep their problem+json errors untouched.
API_PREFIXES = ("/v1", "/health", "/metrics", "/openapi.json", "/docs", "/redoc")

UNKNOWN_COUNTRY = re.compile(re.escape(unknown_country("X")[:-1]) + r"'?([^'\s.(]+)")

Handler = Callable[[Request, Exception], Awaitable[Response]]
# What FastAPI keeps in `app.exception_handlers` (a handler may also be a plain function).
ApiHandler = Callable[[Request, Exception], Response | Awaitable[Response]]


def unknown_countries(detail: object, errors: object) -> list[str]:
    """The country codes a problem says we do not know (its detail and its errors'), for the page to offer the list."""
    listed = errors if isinstance(errors, list) else []
    texts = [str(detail or "")] + [str(e.get("detail", "")) for e in listed if isinstance(e, dict)]
    return sorted({m.group(1) for t in texts for m in UNKNOWN_COUNTRY.finditer(t)})


def is_page_path(path: str) -> bool:
    """True for the web pages (and /static), False for the API, probes and API docs."""
    return not any(path == prefix or path.startswith(prefix + "/") for prefix in API_PREFIXES)


def _html_from_problem(request: Request, problem_response: Response) -> Response:
    try:
        body: JsonObject = json.loads(bytes(problem_response.body))
    except ValueError:
        body = {}
    status = problem_response.status_code
    errors = body.get("errors") or []
    # A country code we do not know: the page says so in the visitor's language and offers the list of States.
    unknown = unknown_countries(body.get("detail"), errors)
    response = render(
        request,
        "error.html",
        {
            "status": status,
            "title": body.get("title") or "Error",
            "detail": body.get("detail") or "",
            "errors": [] if unknown else errors,
            "unknown_countries": unknown,
        },
        status_code=status,
    )
    retry_after = problem_response.headers.get("retry-after")
    if retry_after:
        response.headers["Retry-After"] = retry_after
    return response


def page_errors(request: Request, problem_response: Response) -> Response:
    """A problem answered outside the exception handlers (by a middleware), as an HTML page on a page path."""
    return _html_from_problem(request, problem_response) if is_page_path(request.scope["path"]) else problem_response


def _wrap(api_handler: ApiHandler) -> Handler:
    async def handler(request: Request, exc: Exception) -> Response:
        if is_page_path(request.url.path) and isinstance(exc, Unauthorized):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return redirect(request, "/signin?next=" + quote(target, safe="/"))
        answer = api_handler(request, exc)
        problem = await answer if inspect.isawaitable(answer) else answer
        if not is_page_path(request.url.path):
            return problem
        return _html_from_problem(request, problem)

    return handler


def install_html_error_handlers(app: FastAPI) -> None:
    """Show errors on page paths as HTML pages; call after `app.http.problems.install_error_handlers`."""
    for exc_class in (Problem, StarletteHTTPException, RequestValidationError, SQLAlchemyError, Exception):
        api_handler = app.exception_handlers[exc_class]
        app.add_exception_handler(exc_class, _wrap(api_handler))
