"""Conditional requests (RFC 9110), the HTTP side: ETag, If-None-Match and If-Match headers.

Every provider, need and activity carries an integer `version` that increases on
each change; its ETag is that number in quotes (`"3"`). Anonymous callers see a
provider without its contact e-mail, a different representation, so that one is
tagged `"3.public"` and never equals the full one.

- GET with `If-None-Match` listing the current ETag (or `*`) answers 304, empty body.
- PATCH and DELETE **require** `If-Match` with a current ETag: missing (or `*`,
  which would skip the check) is 428, any other mismatch is 412. The service then
  writes with `UPDATE ... WHERE id = :id AND version = :read`, so of two writers
  holding the same ETag exactly one succeeds, whatever the database's isolation
  (`app.services.versioning`).
"""

from __future__ import annotations

import re
from typing import Annotated, TypeVar

from fastapi import Depends, Header, Request, Response

from app.core.errors import PreconditionRequired
from app.core.jsontypes import JsonObject
from app.services.versioning import check_version, make_etag

__all__ = [
    "ETAG_HEADER_DOC",
    "NOT_MODIFIED_DOC",
    "IfMatchDep",
    "check_version",
    "conditional",
    "if_match",
    "make_etag",
    "none_match",
    "parse_if_match",
]

T = TypeVar("T")

_STRONG_VERSION = re.compile(r'^"(\d{1,18})"$')

IF_MATCH_DESCRIPTION = (
    '**Required.** The `ETag` from your last GET of this resource (e.g. `"3"`). '
    "Missing or `*` gives 428; a stale one gives 412 (someone changed it since: GET it again)."
)


def _split(header: str) -> list[str]:
    return [part.strip() for part in header.split(",") if part.strip()]


def parse_if_match(header: str | None) -> frozenset[int]:
    """The versions an `If-Match` header accepts; 428 when absent, empty or `*`."""
    if header is None or not header.strip():
        raise PreconditionRequired(
            "This write needs an `If-Match` header with the resource's current ETag; GET it first."
        )
    tags = _split(header)
    if "*" in tags:
        raise PreconditionRequired('`If-Match: *` is not accepted here; send the ETag you read, e.g. `If-Match: "3"`.')
    versions = set()
    for tag in tags:
        # Weak tags (W/"3") never match for If-Match: RFC 9110 requires the strong comparison.
        found = _STRONG_VERSION.match(tag)
        if found:
            versions.add(int(found.group(1)))
    return frozenset(versions)


async def if_match(
    value: Annotated[str | None, Header(alias="If-Match", description=IF_MATCH_DESCRIPTION)] = None,
) -> frozenset[int]:
    """Dependency: parse the required `If-Match` header (428 when missing)."""
    return parse_if_match(value)


def none_match(header: str | None, etag: str) -> bool:
    """True when an `If-None-Match` header matches `etag` (weak comparison, per RFC 9110)."""
    if header is None:
        return False
    tags = _split(header)
    if "*" in tags:
        return True
    bare = etag.removeprefix("W/")
    return any(tag.removeprefix("W/") == bare for tag in tags)


def conditional(request: Request, response: Response, *, etag: str, body: T, vary: str | None = None) -> T | Response:
    """Answer 304 when the client already has `etag`, else `body` with the ETag header set."""
    headers = {"ETag": etag}
    if vary:
        headers["Vary"] = vary
    if none_match(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    response.headers.update(headers)
    return body


IfMatchDep = Annotated[frozenset[int], Depends(if_match)]

ETAG_HEADER_DOC = {
    "ETag": {
        "description": "Strong entity tag of this version; send it back in `If-Match`.",
        "schema": {"type": "string"},
    }
}
NOT_MODIFIED_DOC: dict[int | str, JsonObject] = {
    304: {
        "description": "Not modified: your `If-None-Match` names the current ETag. Empty body.",
        "headers": ETAG_HEADER_DOC,
    }
}
