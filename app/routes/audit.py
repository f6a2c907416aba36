"""The audit trail, for admins: /v1/audit (read only; nothing in the API changes or deletes a row)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from app.core.pagination import Page
from app.http.auth import AdminDep
from app.http.deps import PageParamsDep, SessionDep
from app.http.errors_doc import problems
from app.models.audit import AuditAction, AuditEventPublic, AuditResource
from app.services import audit as audit_service

router = APIRouter(prefix="/audit", tags=["admin"])


@router.get(
    "", response_model=Page[AuditEventPublic], operation_id="list_audit_events", responses=problems(401, 403, 422)
)
def list_audit_events(
    session: SessionDep,
    _admin: AdminDep,
    page: PageParamsDep,
    resource: Annotated[AuditResource | None, Query(description="Only changes of this kind of object.")] = None,
    resource_id: Annotated[str | None, Query(max_length=128, description="Only changes of this object.")] = None,
    actor_key_id: Annotated[str | None, Query(max_length=36, description="Only changes made with this key.")] = None,
    action: Annotated[AuditAction | None, Query(description="Only this kind of change.")] = None,
    since: Annotated[
        AwareDatetime | None, Query(description="Changes at or after this time, with its offset (…Z).")
    ] = None,
    until: Annotated[
        AwareDatetime | None, Query(description="Changes at or before this time, with its offset.")
    ] = None,
) -> Page[AuditEventPublic]:
    """Every write (keys, providers, needs, activities and their confirmations, imports): who, what, when.

    Newest first; every filter given must match.
    """
    filters = audit_service.AuditFilters(
        resource=resource,
        resource_id=resource_id,
        actor_key_id=actor_key_id,
        action=action,
        since=since,
        until=until,
    )
    rows, total = audit_service.list_events(session, filters=filters, page=page)
    return Page.build([AuditEventPublic.model_validate(r, from_attributes=True) for r in rows], total, page)
