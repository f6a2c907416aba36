"""Engagements: /v1/needs/{need_id}/engagements and /v1/engagements.

A State asks a provider for help with a need (or a provider offers it); the other party
accepts (a confirmed activity is recorded) or declines; the first party may withdraw.
Only the two parties and admins see an engagement (others get 404).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from app.core.pagination import Page
from app.http.auth import AuthenticatedDep
from app.http.deps import PageParamsDep, SessionDep
from app.http.errors_doc import problems
from app.http.etag import ETAG_HEADER_DOC, NOT_MODIFIED_DOC, IfMatchDep, conditional, make_etag
from app.models.engagement import (
    Direction,
    Engagement,
    EngagementAccept,
    EngagementCreate,
    EngagementDecline,
    EngagementPublic,
    EngagementStatus,
)
from app.services import engagements as engagement_service

router = APIRouter(tags=["engagements"])


def _answer(row: Engagement, response: Response) -> EngagementPublic:
    response.headers["ETag"] = make_etag(row.version)
    return engagement_service.present_engagements([row])[0]


@router.post(
    "/needs/{need_id}/engagements",
    response_model=EngagementPublic,
    status_code=status.HTTP_201_CREATED,
    operation_id="create_engagement",
    responses={201: {"headers": ETAG_HEADER_DOC}, **problems(400, 401, 403, 404, 409, 413, 422)},
)
def create_engagement(
    need_id: str, body: EngagementCreate, response: Response, session: SessionDep, principal: AuthenticatedDep
) -> EngagementPublic:
    """Ask a provider for help with a need (its State: `provider_id` and a message), or offer help (a provider key).

    One open engagement per need and provider: a second is 409, with `existing_id` naming the first.
    """
    row = engagement_service.create_engagement(session, principal=principal, need_id=need_id, data=body)
    response.headers["Location"] = f"/v1/engagements/{row.id}"
    return _answer(row, response)


@router.get(
    "/engagements",
    response_model=Page[EngagementPublic],
    operation_id="list_engagements",
    responses=problems(401, 422),
)
def list_engagements(
    session: SessionDep,
    principal: AuthenticatedDep,
    page: PageParamsDep,
    status: EngagementStatus | None = None,
    need_id: Annotated[str | None, Query(max_length=36)] = None,
    provider_id: Annotated[str | None, Query(max_length=36)] = None,
    direction: Annotated[
        Direction | None, Query(description="invitation (the State asked) or offer (the provider offered).")
    ] = None,
) -> Page[EngagementPublic]:
    """List the engagements you are a party to (all, for admins), newest first."""
    rows, total = engagement_service.list_engagements(
        session,
        principal=principal,
        page=page,
        status=status,
        need_id=need_id,
        provider_id=provider_id,
        direction=direction,
    )
    return Page.build(engagement_service.present_engagements(rows), total, page)


@router.get(
    "/engagements/{engagement_id}",
    response_model=EngagementPublic,
    operation_id="get_engagement",
    responses={200: {"headers": ETAG_HEADER_DOC}, **NOT_MODIFIED_DOC, **problems(401, 404)},
)
def get_engagement(
    engagement_id: str, request: Request, response: Response, session: SessionDep, principal: AuthenticatedDep
) -> EngagementPublic | Response:
    """Get one engagement with its `ETag` (its parties and admins only; 404 to others)."""
    row = engagement_service.get_engagement(session, principal=principal, engagement_id=engagement_id)
    body = engagement_service.present_engagements([row])[0]
    return conditional(request, response, etag=make_etag(row.version), body=body)


TRANSITION_PROBLEMS = {200: {"headers": ETAG_HEADER_DOC}, **problems(400, 401, 403, 404, 409, 412, 413, 422, 428)}


@router.post(
    "/engagements/{engagement_id}/accept",
    response_model=EngagementPublic,
    operation_id="accept_engagement",
    responses=TRANSITION_PROBLEMS,
)
def accept_engagement(
    engagement_id: str,
    response: Response,
    session: SessionDep,
    principal: AuthenticatedDep,
    expected: IfMatchDep,
    body: EngagementAccept | None = None,
) -> EngagementPublic:
    """Accept (the other party): a confirmed, planned activity is recorded and an open need goes in progress.

    Requires `If-Match`; a transition from any status but `proposed` is 409 naming the status.
    """
    row = engagement_service.accept_engagement(
        session, principal=principal, engagement_id=engagement_id, data=body or EngagementAccept(), expected=expected
    )
    return _answer(row, response)


@router.post(
    "/engagements/{engagement_id}/decline",
    response_model=EngagementPublic,
    operation_id="decline_engagement",
    responses=TRANSITION_PROBLEMS,
)
def decline_engagement(
    engagement_id: str,
    body: EngagementDecline,
    response: Response,
    session: SessionDep,
    principal: AuthenticatedDep,
    expected: IfMatchDep,
) -> EngagementPublic:
    """Decline (the other party) with a reason; `out_of_scope` stops suggesting the provider for this need.

    Requires `If-Match`. A decline is never shown publicly.
    """
    row = engagement_service.decline_engagement(
        session, principal=principal, engagement_id=engagement_id, data=body, expected=expected
    )
    return _answer(row, response)


@router.post(
    "/engagements/{engagement_id}/withdraw",
    response_model=EngagementPublic,
    operation_id="withdraw_engagement",
    responses={200: {"headers": ETAG_HEADER_DOC}, **problems(401, 403, 404, 409, 412, 428)},
)
def withdraw_engagement(
    engagement_id: str, response: Response, session: SessionDep, principal: AuthenticatedDep, expected: IfMatchDep
) -> EngagementPublic:
    """Withdraw a proposed engagement you started. Requires `If-Match`."""
    row = engagement_service.withdraw_engagement(
        session, principal=principal, engagement_id=engagement_id, expected=expected
    )
    return _answer(row, response)
