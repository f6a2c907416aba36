"""Needs filed by States: /v1/needs.

A need the caller may not see (a `state_only` need of another State, a `providers`
need for an anonymous caller) answers 404 exactly like a missing one, so its
existence does not leak.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from app.core.pagination import Page
from app.http.auth import AuthenticatedDep, CurrentPrincipal
from app.http.deps import PageParamsDep, SessionDep, ThemeSpaceDep
from app.http.errors_doc import problems
from app.http.etag import ETAG_HEADER_DOC, NOT_MODIFIED_DOC, IfMatchDep, conditional, make_etag
from app.models.need import NeedCreate, NeedPublic, NeedUpdate
from app.reference.vocab import NeedStatus, Priority
from app.services import needs as need_service

router = APIRouter(prefix="/needs", tags=["needs"])


@router.get(
    "",
    response_model=Page[NeedPublic],
    operation_id="list_needs",
    responses=problems(401, 422),
)
def list_needs(
    session: SessionDep,
    principal: CurrentPrincipal,
    page: PageParamsDep,
    state: Annotated[str | None, Query(min_length=3, max_length=3, description="ISO3 code.")] = None,
    status: NeedStatus | None = None,
    theme: Annotated[str | None, Query(max_length=120, description="Exact theme, case-insensitive.")] = None,
    priority: Priority | None = None,
    recommendation_id: Annotated[str | None, Query(max_length=128, description="Needs citing it.")] = None,
) -> Page[NeedPublic]:
    """List the needs you may see (public ones; more with a key), oldest first."""
    rows, total = need_service.list_needs(
        session,
        principal=principal,
        page=page,
        state=state,
        status=status,
        theme=theme,
        priority=priority,
        recommendation_id=recommendation_id,
    )
    return Page.build(need_service.present_needs(session, rows), total, page)


@router.get(
    "/{need_id}",
    response_model=NeedPublic,
    operation_id="get_need",
    responses={200: {"headers": ETAG_HEADER_DOC}, **NOT_MODIFIED_DOC, **problems(401, 404)},
)
def get_need(
    need_id: str, request: Request, response: Response, session: SessionDep, principal: CurrentPrincipal
) -> NeedPublic | Response:
    """Get one need with its `ETag` (404 also when it is not visible to you); `If-None-Match` gives 304."""
    row = need_service.get_need(session, principal=principal, need_id=need_id)
    body = need_service.present_needs(session, [row])[0]
    return conditional(request, response, etag=make_etag(row.version), body=body)


@router.post(
    "",
    response_model=NeedPublic,
    status_code=status.HTTP_201_CREATED,
    operation_id="create_need",
    responses={201: {"headers": ETAG_HEADER_DOC}, **problems(400, 401, 403, 409, 413, 422)},
)
def create_need(
    body: NeedCreate, response: Response, session: SessionDep, principal: AuthenticatedDep, themes: ThemeSpaceDep
) -> NeedPublic:
    """File a need citing supported recommendations of the State (a State key: its own; 409 on an exact duplicate).

    The answer's `themes_predicted` are the themes read in the recommendations: show them to the State to
    confirm or correct (`PATCH` with `themes`).
    """
    row = need_service.create_need(session, principal=principal, data=body, theme_space=themes)
    response.headers["ETag"] = make_etag(row.version)
    response.headers["Location"] = f"/v1/needs/{row.id}"
    return need_service.present_needs(session, [row])[0]


@router.patch(
    "/{need_id}",
    response_model=NeedPublic,
    operation_id="update_need",
    responses={200: {"headers": ETAG_HEADER_DOC}, **problems(400, 401, 403, 404, 409, 412, 413, 422, 428)},
)
def update_need(
    need_id: str,
    body: NeedUpdate,
    response: Response,
    session: SessionDep,
    principal: AuthenticatedDep,
    expected: IfMatchDep,
    themes: ThemeSpaceDep,
) -> NeedPublic:
    """Change the fields sent. Requires `If-Match` (428 without, 412 when stale); answers the new `ETag`.

    New recommendations are read again for `themes_predicted`.
    """
    row = need_service.update_need(
        session, principal=principal, need_id=need_id, data=body, expected=expected, theme_space=themes
    )
    response.headers["ETag"] = make_etag(row.version)
    return need_service.present_needs(session, [row])[0]


@router.delete(
    "/{need_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="delete_need",
    responses=problems(401, 403, 404, 409, 412, 428),
)
def delete_need(need_id: str, session: SessionDep, principal: AuthenticatedDep, expected: IfMatchDep) -> Response:
    """Delete a need no activity depends on (else 409). Requires `If-Match`."""
    need_service.delete_need(session, principal=principal, need_id=need_id, expected=expected)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
