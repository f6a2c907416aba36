"""The audit trail: `record` one row per write, in the write's own transaction; admins list them.

Every write service (keys, providers, needs, activities and their confirmations,
recommendation imports) calls `record` before it commits, so the change and its row
are committed together or not at all. A refused or failed write leaves no row.
There is no update or delete here, nor any route that could do either; the database
refuses both too (triggers of migration 0008).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import ColumnElement
from sqlmodel import Session, col, func, select

from app.core.errors import UnprocessableEntity, field_error
from app.core.pagination import PageParams
from app.models.audit import AuditAction, AuditEvent, AuditResource

__all__ = [
    "COMMAND_LINE",
    "Actor",
    "AuditAction",
    "AuditFilters",
    "AuditResource",
    "SystemActor",
    "changed_fields",
    "list_events",
    "record",
]


class Actor(Protocol):
    """Who makes a change: an authenticated key, or the command line (role `system`, no key)."""

    @property
    def role(self) -> str: ...

    @property
    def key_id(self) -> str | None: ...

    @property
    def name(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class SystemActor:
    """The command line and other operator tools: no key, role `system`."""

    name: str = "command line"
    role: str = "system"
    key_id: str | None = None


COMMAND_LINE = SystemActor()


def record(
    session: Session,
    actor: Actor,
    *,
    resource: AuditResource,
    resource_id: str,
    action: AuditAction,
    version_before: int | None = None,
    version_after: int | None = None,
    detail: Mapping[str, object] | None = None,
) -> None:
    """Add the row describing one write to the session; the caller's commit writes both."""
    session.add(
        AuditEvent(
            actor_key_id=actor.key_id,
            actor_role=actor.role,
            actor_name=actor.name[:120] if actor.name else None,
            resource=resource,
            resource_id=resource_id,
            action=action,
            version_before=version_before,
            version_after=version_after,
            detail=dict(detail or {}),
        )
    )


def changed_fields(changes: Iterable[str]) -> dict[str, list[str]]:
    """The `detail` of an update: the names of the fields it sent, sorted."""
    return {"fields": sorted(changes)}


@dataclass(frozen=True, slots=True)
class AuditFilters:
    resource: str | None = None
    resource_id: str | None = None
    actor_key_id: str | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = []
        for column, value in (
            (AuditEvent.resource, self.resource),
            (AuditEvent.resource_id, self.resource_id),
            (AuditEvent.actor_key_id, self.actor_key_id),
            (AuditEvent.action, self.action),
        ):
            if value is not None:
                found.append(col(column) == value)
        if self.since is not None:
            found.append(col(AuditEvent.at) >= self.since)
        if self.until is not None:
            found.append(col(AuditEvent.at) <= self.until)
        return found


def list_events(session: Session, *, filters: AuditFilters, page: PageParams) -> tuple[list[AuditEvent], int]:
    """Rows matching every filter given, newest first."""
    if filters.since is not None and filters.until is not None and filters.since > filters.until:
        raise UnprocessableEntity(
            f"until ({filters.until.isoformat()}) is before since ({filters.since.isoformat()}).",
            errors=[field_error(["query", "until"], "must not be before `since`")],
        )
    conditions = filters.conditions()
    total = session.exec(select(func.count()).select_from(AuditEvent).where(*conditions)).one()
    rows = session.exec(
        select(AuditEvent).where(*conditions).order_by(col(AuditEvent.id).desc()).offset(page.offset).limit(page.limit)
    ).all()
    return list(rows), total
