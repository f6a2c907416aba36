"""`/v1/recommendations/related`: the recommendations a text speaks to (`POST` up to a page, `GET` a line)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.core import metrics
from app.http.auth import CurrentPrincipal
from app.http.deps import MatchIndexDep, SessionDep
from app.http.errors_doc import problems
from app.models.match import MAX_MATCHES
from app.models.recommendation import Response
from app.models.related import MAX_GET_TEXT, DraftFromText, NeedDraftFromText, RelatedQuery, RelatedRecommendations
from app.reference.vocab import Iso3
from app.services import related as related_service

#: Public: anyone may ask (`_caller` is read so that a bad or revoked key is still refused, 401).
router = APIRouter(prefix="/recommendations", tags=["recommendations"])


@router.post(
    "/related",
    response_model=RelatedRecommendations,
    operation_id="related_recommendations",
    responses=problems(400, 401, 413, 422, 503),
)
def post_related(
    query: RelatedQuery, session: SessionDep, index: MatchIndexDep, _caller: CurrentPrincipal
) -> RelatedRecommendations:
    """The recommendations a text (English, French or Spanish, up to a page) speaks to, best first.

    Ranked by the engine and on the index that rank matches; each with a score (`scale` says what it
    means) and its reasons: shared themes, shared terms in the text's own words, the same affected persons.
    """
    with metrics.timed_match("related"):
        return related_service.related_recommendations(session, index, query=query)


@router.get(
    "/related",
    response_model=RelatedRecommendations,
    operation_id="get_related_recommendations",
    responses=problems(401, 422, 503),
)
def get_related(
    session: SessionDep,
    index: MatchIndexDep,
    _caller: CurrentPrincipal,
    text: Annotated[
        str,
        Query(
            min_length=1,
            max_length=MAX_GET_TEXT,
            description="A short text (longer ones: POST).",
            examples=["Train prosecutors to investigate torture complaints"],
        ),
    ],
    state: Annotated[Iso3 | None, Query(description="Only this State under review.", examples=["MEX"])] = None,
    cycle: Annotated[int | None, Query(ge=1, le=20, description="Only this UPR cycle.")] = None,
    session_number: Annotated[
        int | None, Query(alias="session", ge=1, le=200, description="Only this Working Group session.")
    ] = None,
    response: Annotated[list[Response] | None, Query(max_length=3, description="Only these responses.")] = None,
    theme: Annotated[str | None, Query(min_length=1, max_length=255, description="Only this theme.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_MATCHES)] = 10,
    offset: Annotated[int, Query(ge=0, le=1000)] = 0,
    min_score: Annotated[float, Query(ge=0, le=1)] = 0.0,
) -> RelatedRecommendations:
    """The `POST` answer for a short text given in the query string."""
    query = RelatedQuery(
        text=text,
        state=state,
        cycle=cycle,
        session=session_number,
        response=response or [],
        theme=theme,
        limit=limit,
        offset=offset,
        min_score=min_score,
    )
    with metrics.timed_match("related"):
        return related_service.related_recommendations(session, index, query=query)


#: `/v1/needs/draft-from-text`: the same answer, for a State describing a need before it chooses.
drafting = APIRouter(prefix="/needs", tags=["needs"])


@drafting.post(
    "/draft-from-text",
    response_model=NeedDraftFromText,
    operation_id="draft_need_from_text",
    responses=problems(400, 401, 413, 422, 503),
)
def draft_from_text(
    draft: DraftFromText, session: SessionDep, index: MatchIndexDep, _caller: CurrentPrincipal
) -> NeedDraftFromText:
    """The State's supported recommendations a need's description speaks to, best first, with reasons, none
    chosen: pass the ones that fit as `recommendation_ids` of `POST /v1/needs` with the same description."""
    with metrics.timed_match("related"):
        return related_service.draft_from_text(session, index, draft=draft)
