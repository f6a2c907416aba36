"""Conditional requests (RFC 9110): strong ETags from row versions, If-None-Match and If-Match.

Every provider, need and activity carries an integer `version` that increases on
each change; its ETag is that number in quotes (`"3"`). Anonymous callers see a
provider without its contact e-mail, a different representation, so that one is
tagged `"3.public"` and never equals the full one.

- GET with `If-None-Match` listing the current ETag (or `*`) answers 304, empty body.
- PATCH and DELETE **require** `If-Match` with a current ETag: missing (or `*`,
  which would skip the check) is 428, any other mismatch is 412. The service then
  writes with `UPDATE ... WHERE id = :id AND version = :read`, so of two writers
  holding the same ETag exactly one succeeds, whatever the database's isolation.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import Depends, Header, Request, Response
from sqlalchemy import delete, update
from sqlmodel import Session

from app.errors import PreconditionFailed, PreconditionRequired, UnprocessableEntity, field_error
from app.models.common import utcnow

_STRONG_VERSION = re.compile(r'^"(\d{1,18})"$')

IF_MATCH_DESCRIPTION = (
    '**Required.** The `ETag` from your last GET of this resource (e.g. `"3"`). '
    "Missing or `*` gives 428; a stale one gives 412 (someone changed it since: GET it again)."
)


def make_etag(version: int, *, public: bool = False) -> str:
    """The strong ETag of a row at `version` (the public variant when `public`)."""
    return f'"{version}.public"' if public else f'"{version}"'


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


def check_version(current: int, expected: frozenset[int], what: str) -> None:
    """Raise 412 unless the current version is one the client's If-Match named."""
    if current not in expected:
        raise PreconditionFailed(
            f"{what} has changed since you read it (current ETag {make_etag(current)}); GET it again and retry.",
            current_etag=make_etag(current),
        )


def if_match(
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


def conditional(request: Request, response: Response, *, etag: str, body: Any, vary: str | None = None) -> Any:
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
NOT_MODIFIED_DOC: dict[int | str, dict[str, Any]] = {
    304: {
        "description": "Not modified: your `If-None-Match` names the current ETag. Empty body.",
        "headers": ETAG_HEADER_DOC,
    }
}


# --- conditional writes (used by the services) -----------------------------------------


def versioned_update(
    session: Session, model: Any, *, row_id: str, read_version: int, values: dict[str, Any], what: str
) -> int:
    """`UPDATE ... SET ..., version = version + 1 WHERE id = :id AND version = :read`; 412 if it hit no row.

    On SQLite the request's transaction began IMMEDIATE, so writers are serialised; on
    PostgreSQL (READ COMMITTED) a second UPDATE waits for the first to commit, then
    re-checks `version` on the new row and matches nothing. Either way one writer wins.
    Returns the new version.
    """
    statement = (
        update(model)
        .where(model.id == row_id, model.version == read_version)
        .values(**values, version=read_version + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if session.exec(statement).rowcount != 1:  # type: ignore[call-overload, attr-defined]
        session.rollback()
        raise PreconditionFailed(f"{what} was changed by someone else just now; GET it again and retry.")
    return read_version + 1


def versioned_delete(session: Session, model: Any, *, row_id: str, read_version: int, what: str) -> None:
    """`DELETE ... WHERE id = :id AND version = :read`; 412 if someone changed it meanwhile."""
    statement = (
        delete(model)
        .where(model.id == row_id, model.version == read_version)
        .execution_options(synchronize_session=False)
    )
    if session.exec(statement).rowcount != 1:  # type: ignore[call-overload, attr-defined]
        session.rollback()
        raise PreconditionFailed(f"{what} was changed by someone else just now; GET it again and retry.")


def reject_nulls(changes: dict[str, Any], required: tuple[str, ...]) -> None:
    """A PATCH may clear optional fields with null, but not required ones: 422 naming each."""
    bad = [name for name in required if name in changes and changes[name] is None]
    if bad:
        raise UnprocessableEntity(
            f"{', '.join(bad)} may not be null.",
            errors=[
                field_error(["body", name], "may not be null; leave it out to keep the current value") for name in bad
            ],
        )
