"""Cooperation activities: /v1/activities.

Activities are public once confirmed by both parties and under way (`ongoing`,
`completed`); `planned` and unconfirmed ones are visible only to their provider,
their State and admins (others get 404).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import JSONResponse

from app.core.pagination import Page
from app.http.auth import AuthenticatedDep, CurrentPrincipal
from app.http.deps import PageParamsDep, SessionDep
from app.http.errors_doc import problems
from app.http.etag import ETAG_HEADER_DOC, NOT_MODIFIED_DOC, IfMatchDep, conditional, make_etag
from app.models.activity import ActivityCreate, ActivityDecline, ActivityPublic, ActivityUpdate
from app.models.activity_history import ActivityProposal, ActivityProposalPublic
from app.reference.vocab import ActivityStatus, Confirmation
from app.services import activities as activity_service
from app.services import activity_proposals as proposal_service

router = APIRouter(prefix="/activities", tags=["activities"])


@router.get(
    "",
    response_model=Page[ActivityPublic],
    operation_id="list_activities",
    responses=problems(401, 422),
)
def list_activities(
    session: SessionDep,
    principal: CurrentPrincipal,
    page: PageParamsDep,
    state: Annotated[str | None, Query(min_length=3, max_length=3, description="ISO3 code.")] = None,
    provider_id: Annotated[str | None, Query(max_length=36)] = None,
    need_id: Annotated[str | None, Query(max_length=36)] = None,
    status: ActivityStatus | None = None,
    recommendation_id: Annotated[str | None, Query(max_length=128)] = None,
    confirmation: Annotated[
        Confirmation | None,
        Query(description="unconfirmed or declined ones are listed only to their parties and admins."),
    ] = None,
) -> Page[ActivityPublic]:
    """List the activities you may see, oldest first; every filter given must match."""
    items, total = activity_service.list_activities(
        session,
        principal=principal,
        page=page,
        state=state,
        provider_id=provider_id,
        need_id=need_id,
        status=status,
        recommendation_id=recommendation_id,
        confirmation=confirmation,
    )
    return Page.build(items, total, page)


@router.get(
    "/{activity_id}",
    response_model=ActivityPublic,
    operation_id="get_activity",
    responses={200: {"headers": ETAG_HEADER_DOC}, **NOT_MODIFIED_DOC, **problems(401, 404)},
)
def get_activity(
    activity_id: str, request: Request, response: Response, session: SessionDep, principal: CurrentPrincipal
) -> ActivityPublic | Response:
    """Get one activity with its `ETag` (404 also for a planned or unconfirmed one you are not party to)."""
    row = activity_service.get_activity(session, principal=principal, activity_id=activity_id)
    body = activity_service.present_activities(session, [row], principal)[0]
    return conditional(request, response, etag=make_etag(row.version), body=body)


@router.post(
    "",
    response_model=ActivityPublic,
    status_code=status.HTTP_201_CREATED,
    operation_id="create_activity",
    responses={201: {"headers": ETAG_HEADER_DOC}, **problems(400, 401, 403, 413, 422)},
)
def create_activity(
    body: ActivityCreate, response: Response, session: SessionDep, principal: AuthenticatedDep
) -> ActivityPublic:
    """Record an activity: a provider key for itself, a State key for its State, or an admin.

    A party's record is `unconfirmed` (seen only by the parties and admins) until the other
    party confirms it; an admin's is confirmed at once.
    """
    row = activity_service.create_activity(session, principal=principal, data=body)
    response.headers["ETag"] = make_etag(row.version)
    response.headers["Location"] = f"/v1/activities/{row.id}"
    return activity_service.present_activities(session, [row], principal)[0]


PROPOSAL_MADE = {
    "model": ActivityProposalPublic,
    "description": "The activity is confirmed by both parties: the other party must agree, so a proposal was made "
    "(see `Location`); the activity is unchanged until it is accepted.",
    "headers": {"Location": {"description": "The proposal.", "schema": {"type": "string"}}},
}


def _proposal_made(session: SessionDep, principal: AuthenticatedDep, proposal: ActivityProposal) -> JSONResponse:
    body = proposal_service.present_proposal(session, principal, proposal).model_dump(mode="json")
    location = f"/v1/activities/{proposal.activity_id}/proposals/{proposal.id}"
    return JSONResponse(body, status_code=status.HTTP_202_ACCEPTED, headers={"Location": location})


@router.patch(
    "/{activity_id}",
    response_model=ActivityPublic,
    operation_id="update_activity",
    responses={
        200: {"headers": ETAG_HEADER_DOC},
        202: PROPOSAL_MADE,
        **problems(400, 401, 403, 404, 409, 412, 413, 422, 428),
    },
)
def update_activity(
    activity_id: str,
    body: ActivityUpdate,
    response: Response,
    session: SessionDep,
    principal: AuthenticatedDep,
    expected: IfMatchDep,
) -> ActivityPublic | JSONResponse:
    """Change the fields sent (either party or an admin). Requires `If-Match`; answers the new `ETag`.

    A party's edit of an unconfirmed (or declined) activity is a new claim: it stays `unconfirmed`
    until the other party confirms it. A party's edit of a *confirmed* activity is a proposal
    (202, `Location` names it): the confirmed version stays public and unchanged until the other
    party accepts it (`POST .../proposals/{proposal_id}/accept`). One proposal is pending at a
    time (409 naming it). An admin's edit is confirmed at once.
    """
    row = proposal_service.edit_activity(
        session, principal=principal, activity_id=activity_id, data=body, expected=expected
    )
    if isinstance(row, ActivityProposal):
        return _proposal_made(session, principal, row)
    response.headers["ETag"] = make_etag(row.version)
    return activity_service.present_activities(session, [row], principal)[0]


@router.post(
    "/{activity_id}/confirm",
    response_model=ActivityPublic,
    operation_id="confirm_activity",
    responses={200: {"headers": ETAG_HEADER_DOC}, **problems(401, 403, 404, 409, 412, 428)},
)
def confirm_activity(
    activity_id: str, response: Response, session: SessionDep, principal: AuthenticatedDep, expected: IfMatchDep
) -> ActivityPublic:
    """Confirm an activity the other party recorded (or any, as an admin). Requires `If-Match`.

    The party that recorded the current content gets 403; an activity already confirmed is 409.
    """
    row = activity_service.confirm_activity(session, principal=principal, activity_id=activity_id, expected=expected)
    response.headers["ETag"] = make_etag(row.version)
    return activity_service.present_activities(session, [row], principal)[0]


@router.post(
    "/{activity_id}/decline",
    response_model=ActivityPublic,
    operation_id="decline_activity",
    responses={200: {"headers": ETAG_HEADER_DOC}, **problems(400, 401, 403, 404, 409, 412, 413, 422, 428)},
)
def decline_activity(
    activity_id: str,
    body: ActivityDecline,
    response: Response,
    session: SessionDep,
    principal: AuthenticatedDep,
    expected: IfMatchDep,
) -> ActivityPublic:
    """Decline an activity the other party recorded, with a reason. Requires `If-Match`.

    It stays visible to the parties and admins only; the recorder may edit it, which asks again.
    """
    row = activity_service.decline_activity(
        session, principal=principal, activity_id=activity_id, data=body, expected=expected
    )
    response.headers["ETag"] = make_etag(row.version)
    return activity_service.present_activities(session, [row], principal)[0]


@router.delete(
    "/{activity_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="delete_activity",
    responses={202: PROPOSAL_MADE, **problems(401, 403, 404, 409, 412, 428)},
)
def delete_activity(
    activity_id: str, session: SessionDep, principal: AuthenticatedDep, expected: IfMatchDep
) -> Response:
    """Delete an activity. Requires `If-Match`.

    An administrator may delete any activity; a party, one it recorded that the other party has
    not confirmed (it withdraws its claim; the other party declines it instead, 403). A confirmed
    activity is the shared record of both parties: a party's `DELETE` is a deletion proposal (202,
    `Location` names it), and the activity stays until the other party accepts it. Both parties are
    told (`activity.deleted`, or `activity.proposed`, in their inboxes and webhooks).
    """
    proposal = proposal_service.delete_activity(
        session, principal=principal, activity_id=activity_id, expected=expected
    )
    if proposal is not None:
        return _proposal_made(session, principal, proposal)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
