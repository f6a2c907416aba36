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

The exceptions know nothing of the web framework: services raise them, and
`app.http.problems` renders them (and the framework's own errors: unknown route,
wrong method, request validation, database outages, anything unexpected) into the
same shape; a 500 never carries a traceback, SQL or a path.
"""

from __future__ import annotations

from typing import ClassVar

from app.core.jsontypes import JsonObject

PROBLEM_MEDIA_TYPE = "application/problem+json"


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
