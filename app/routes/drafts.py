"""Drafted needs for a State: POST /v1/states/{iso3}/needs/draft."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path

from app.http.auth import CurrentPrincipal
from app.http.deps import MatchIndexDep, SessionDep
from app.http.errors_doc import problems
from app.models.draft import DraftNeeds, DraftRequest
from app.reference.validation import normalise_iso3
from app.services import drafts as draft_service

router = APIRouter(tags=["needs"])


@router.post(
    "/states/{iso3}/needs/draft",
    response_model=DraftNeeds,
    operation_id="draft_needs",
    responses=problems(400, 401, 413, 422, 503),
)
def draft_needs(
    iso3: Annotated[str, Path(min_length=3, max_length=3, description="ISO 3166-1 alpha-3 of the State.")],
    session: SessionDep,
    index: MatchIndexDep,
    principal: CurrentPrincipal,
    options: Annotated[DraftRequest | None, Body()] = None,
) -> DraftNeeds:
    """Propose needs from the State's supported recommendations that no need covers yet; nothing is saved."""
    state = normalise_iso3(iso3, loc=["path", "iso3"])
    return draft_service.draft_needs(
        session, index, principal=principal, state=state, options=options or DraftRequest()
    )
