"""A confirmed activity's proposals and versions: /v1/activities/{activity_id}/proposals and /versions.

A party's `PATCH` or `DELETE` of a confirmed activity makes a proposal (202); the other
party accepts or rejects it here, the proposer may withdraw it. Only the two parties and
admins see proposals and versions (403 to others who may read the activity, 404 if not).
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from app.core.pagination import Page
from app.http.auth import AuthenticatedDep
from app.http.deps import PageParamsDep, SessionDep
from app.http.errors_doc import problems
from app.http.etag import ETAG_HEADER_DOC, NOT_MODIFIED_DOC, IfMatchDep, conditional, make_etag
from app.models.activity_history import (
    ActivityProposalPublic,
    ActivityVersionPublic,
    ProposalAnswer,
    ProposalStatus,
)
from app.services import activity_proposals as proposal_service

router = APIRouter(prefix="/activities/{activity_id}", tags=["activities"])


@router.get(
    "/proposals",
    response_model=Page[ActivityProposalPublic],
    operation_id="list_activity_proposals",
    responses=problems(401, 403, 404, 422),
)
def list_proposals(
    activity_id: str,
    session: SessionDep,
    principal: AuthenticatedDep,
    page: PageParamsDep,
    status: ProposalStatus | None = None,
) -> Page[ActivityProposalPublic]:
    """The changes and deletions proposed on an activity, newest first (its parties and admins)."""
    items, total = proposal_service.list_proposals(
        session, principal=principal, activity_id=activity_id, page=page, status=status
    )
    return Page.build(items, total, page)


@router.get(
    "/proposals/{proposal_id}",
    response_model=ActivityProposalPublic,
    operation_id="get_activity_proposal",
    responses={200: {"headers": ETAG_HEADER_DOC}, **NOT_MODIFIED_DOC, **problems(401, 403, 404)},
)
def get_proposal(
    activity_id: str,
    proposal_id: str,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: AuthenticatedDep,
) -> ActivityProposalPublic | Response:
    """One proposal with its `ETag` (its parties and admins)."""
    row = proposal_service.get_proposal(session, principal=principal, activity_id=activity_id, proposal_id=proposal_id)
    body = proposal_service.present_proposal(session, principal, row)
    return conditional(request, response, etag=make_etag(row.version), body=body)


ANSWER_RESPONSES = {200: {"headers": ETAG_HEADER_DOC}, **problems(400, 401, 403, 404, 409, 412, 413, 422, 428)}
ANSWERS: tuple[tuple[str, proposal_service.Outcome, str], ...] = (
    (
        "accept",
        "accepted",
        """Accept the other party's proposal (or any, as an admin). Requires the proposal's `If-Match`.

        A change is written to the activity as a new version (recorded by the proposer, confirmed by
        you); a deletion deletes the activity. A proposal no longer pending is 409.
        """,
    ),
    (
        "reject",
        "rejected",
        "Reject the other party's proposal, optionally saying why: the activity stays as confirmed.",
    ),
    ("withdraw", "withdrawn", "Withdraw a proposal you made while it is pending: the activity stays as confirmed."),
)


def _answer_route(verb: str, outcome: proposal_service.Outcome, doc: str) -> None:
    """Declare `POST .../proposals/{proposal_id}/{verb}`."""

    def answer(
        activity_id: str,
        proposal_id: str,
        response: Response,
        session: SessionDep,
        principal: AuthenticatedDep,
        expected: IfMatchDep,
        body: ProposalAnswer | None = None,
    ) -> ActivityProposalPublic:
        result = proposal_service.answer_proposal(
            session,
            principal=principal,
            activity_id=activity_id,
            proposal_id=proposal_id,
            outcome=outcome,
            data=body or ProposalAnswer(),
            expected=expected,
        )
        response.headers["ETag"] = make_etag(result.version)
        return result

    answer.__doc__ = doc
    answer.__name__ = f"{verb}_proposal"
    router.post(
        f"/proposals/{{proposal_id}}/{verb}",
        response_model=ActivityProposalPublic,
        operation_id=f"{verb}_activity_proposal",
        responses=ANSWER_RESPONSES,
    )(answer)


for _verb, _outcome, _doc in ANSWERS:
    _answer_route(_verb, _outcome, _doc)


@router.get(
    "/versions",
    response_model=Page[ActivityVersionPublic],
    operation_id="list_activity_versions",
    responses=problems(401, 403, 404, 422),
)
def list_versions(
    activity_id: str, session: SessionDep, principal: AuthenticatedDep, page: PageParamsDep
) -> Page[ActivityVersionPublic]:
    """Every content the activity has had, oldest first: who recorded it, what changed, who accepted it."""
    items, total = proposal_service.list_versions(session, principal=principal, activity_id=activity_id, page=page)
    return Page.build(items, total, page)
