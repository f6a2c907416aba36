"""Match endpoints: providers for a need, needs for a provider, providers for free text."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.core import metrics
from app.http.auth import CurrentPrincipal
from app.http.deps import MatchIndexDep, SessionDep
from app.http.errors_doc import problems
from app.models.match import MAX_MATCHES, MatchQuery, NeedMatches, ProviderMatches
from app.reference.vocab import Iso3, LanguageCode, Modality, ProviderKind, Region
from app.services import matching as matching_service

router = APIRouter(tags=["matching"])


@router.get(
    "/needs/{need_id}/matches",
    response_model=ProviderMatches,
    response_model_exclude_none=False,
    operation_id="get_need_matches",
    responses=problems(401, 404, 422, 503),
)
def get_need_matches(
    need_id: str,
    session: SessionDep,
    index: MatchIndexDep,
    principal: CurrentPrincipal,
    limit: Annotated[int, Query(ge=1, le=MAX_MATCHES, description="How many providers (1-50).")] = 10,
    min_score: Annotated[float, Query(ge=0, le=1, description="Drop matches scoring below this.")] = 0.0,
    kind: Annotated[list[ProviderKind] | None, Query(max_length=8, description="Only these provider kinds.")] = None,
    language: Annotated[
        list[LanguageCode] | None,
        Query(max_length=20, description="Only providers working in one of these ISO 639-1 languages."),
    ] = None,
    country: Annotated[
        list[Iso3] | None,
        Query(
            max_length=50, description="Only providers present in one of these States (or their region, or worldwide)."
        ),
    ] = None,
    region: Annotated[
        list[Region] | None,
        Query(max_length=6, description="Only providers present in one of these regions (or worldwide)."),
    ] = None,
    modality: Annotated[
        list[Modality] | None, Query(max_length=8, description="Only providers offering one of these.")
    ] = None,
) -> ProviderMatches:
    """Rank providers for a need, with the terms, themes and signals behind each score."""
    filters = matching_service.ProviderFilters(
        kinds=frozenset(kind or ()),
        languages=frozenset(language or ()),
        countries=frozenset(country or ()),
        regions=frozenset(region or ()),
        modalities=frozenset(modality or ()),
    )
    with metrics.timed_match("need"):
        return matching_service.match_providers_for_need(
            session,
            index,
            principal=principal,
            need_id=need_id,
            filters=filters,
            limit=limit,
            min_score=min_score,
        )


@router.get(
    "/providers/{provider_id}/matches",
    response_model=NeedMatches,
    operation_id="get_provider_matches",
    responses=problems(401, 404, 422, 503),
)
def get_provider_matches(
    provider_id: str,
    session: SessionDep,
    index: MatchIndexDep,
    principal: CurrentPrincipal,
    limit: Annotated[int, Query(ge=1, le=MAX_MATCHES, description="How many needs (1-50).")] = 10,
    min_score: Annotated[float, Query(ge=0, le=1, description="Drop matches scoring below this.")] = 0.0,
) -> NeedMatches:
    """Rank the open needs this caller may see for a provider."""
    with metrics.timed_match("provider"):
        return matching_service.match_needs_for_provider(
            session, index, principal=principal, provider_id=provider_id, limit=limit, min_score=min_score
        )


@router.post(
    "/match",
    response_model=ProviderMatches,
    operation_id="match_text",
    responses=problems(400, 401, 413, 422, 503),
)
def match_text(
    body: MatchQuery, session: SessionDep, index: MatchIndexDep, principal: CurrentPrincipal
) -> ProviderMatches:
    """Rank providers for free text, for a State exploring before it files a need."""
    with metrics.timed_match("text"):
        return matching_service.match_providers_for_text(session, index, principal=principal, query=body)
