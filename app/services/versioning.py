"""Versioned writes: every provider, need and activity carries a `version`, and a write names the one it read.

The HTTP side (`app.http.etag`) turns `If-Match` headers into the set of versions a client
read; services check it (`check_version`) and write with `versioned_update` /
`versioned_delete`, so of two writers holding the same version exactly one succeeds.
A row's strong ETag is its version in quotes (`make_etag`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, update
from sqlmodel import Session

from app.core.errors import PreconditionFailed, UnprocessableEntity, field_error
from app.core.jsontypes import JsonObject
from app.models.common import utcnow


def make_etag(version: int, *, public: bool = False) -> str:
    """The strong ETag of a row at `version` (the public variant when `public`)."""
    return f'"{version}.public"' if public else f'"{version}"'


def check_version(current: int, expected: frozenset[int], what: str) -> None:
    """Raise 412 unless the current version is one the client's If-Match named."""
    if current not in expected:
        raise PreconditionFailed(
            f"{what} has changed since you read it (current ETag {make_etag(current)}); GET it again and retry.",
            current_etag=make_etag(current),
        )


def versioned_update(
    session: Session, model: Any, *, row_id: str, read_version: int, values: JsonObject, what: str
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
    if session.exec(statement).rowcount != 1:
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
    if session.exec(statement).rowcount != 1:
        session.rollback()
        raise PreconditionFailed(f"{what} was changed by someone else just now; GET it again and retry.")


def reject_nulls(changes: JsonObject, required: tuple[str, ...]) -> None:
    """A PATCH may clear optional fields with null, but not required ones: 422 naming each."""
    bad = [name for name in required if name in changes and changes[name] is None]
    if bad:
        raise UnprocessableEntity(
            f"{', '.join(bad)} may not be null.",
            errors=[
                field_error(["body", name], "may not be null; leave it out to keep the current value") for name in bad
            ],
        )
