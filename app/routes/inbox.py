"""The caller's inbox: /v1/inbox (what waits on you, what happened to yours) and /v1/inbox/read."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.http.auth import AuthenticatedDep
from app.http.deps import PageParamsDep, SessionDep
from app.http.errors_doc import problems
from app.models.events import InboxPage, InboxRead, InboxReadResult, InboxType
from app.services import inbox as inbox_service

router = APIRouter(prefix="/inbox", tags=["inbox"])


@router.get("", response_model=InboxPage, operation_id="list_inbox", responses=problems(401, 422))
def list_inbox(
    session: SessionDep,
    principal: AuthenticatedDep,
    page: PageParamsDep,
    unread: Annotated[bool | None, Query(description="true: unread items only; false: read ones only.")] = None,
    type: Annotated[InboxType | None, Query(description="One kind of item, e.g. engagement.proposed.")] = None,
) -> InboxPage:
    """Your State's or provider's inbox, newest first: engagements to answer, activities to confirm, alerts, news.

    Every key of a State (or of a provider) reads the same inbox; admins have none.
    """
    return inbox_service.list_inbox(session, principal=principal, page=page, unread=unread, type=type)


@router.post(
    "/read", response_model=InboxReadResult, operation_id="mark_inbox_read", responses=problems(400, 401, 413, 422)
)
def mark_inbox_read(body: InboxRead, session: SessionDep, principal: AuthenticatedDep) -> InboxReadResult:
    """Mark items read: `{"ids": [...]}` or `{"all": true}`. An id not in your inbox is a 422 naming it."""
    return inbox_service.mark_read(session, principal=principal, data=body)
