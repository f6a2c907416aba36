"""Ranked partners, ranked needs and drafted needs for the pages, from the match and draft services.

The ranking, the explanation in words ("shares: detention, torture prevention;
works in the region (Africa); offers training") and the drafting are the
services' (`app.services.matching`, `app.services.drafts`), the same the API
answers with; this module only picks what a page shows. While the matching
index cannot be built (503 from the service) the pages say so instead of failing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from app.errors import ServiceUnavailable
from app.identity import Principal
from app.models.draft import DraftRequest
from app.models.need import NeedPublic
from app.services import drafts as draft_service
from app.services import matching as matching_service
from matching.ranking import NO_FILTERS

TOP_PARTNERS = 10
TOP_NEEDS = 10
MAX_DRAFTS = 50


@dataclass(frozen=True, slots=True)
class PartnerView:
    """One ranked provider as the need page shows it."""

    provider_id: str
    name: str
    kind: str
    score: float
    because: str


@dataclass(frozen=True, slots=True)
class NeedView:
    """One ranked need as the provider page shows it."""

    need: NeedPublic
    score: float
    because: str


@dataclass(frozen=True, slots=True)
class DraftView:
    """A drafted need for one theme: a title and the recommendations it would cite."""

    theme: str
    title: str
    recommendation_ids: tuple[str, ...]


def partners_for(session: Session, app_state: Any, *, principal: Principal, need_id: str) -> list[PartnerView] | None:
    """The providers ranked for a need, best first; None while matching is unavailable."""
    try:
        result = matching_service.match_providers_for_need(
            session,
            app_state.match_index,
            principal=principal,
            need_id=need_id,
            filters=NO_FILTERS,
            limit=TOP_PARTNERS,
            min_score=0.0,
        )
    except ServiceUnavailable:
        return None
    return [
        PartnerView(
            provider_id=item.provider.id,
            name=item.provider.name,
            kind=item.provider.kind,
            score=item.score,
            because=item.explanation.summary or "a similar description",
        )
        for item in result.items
    ]


def needs_for(session: Session, app_state: Any, *, principal: Principal, provider_id: str) -> list[NeedView] | None:
    """The open needs the caller may see, ranked for a provider; None while matching is unavailable."""
    try:
        result = matching_service.match_needs_for_provider(
            session, app_state.match_index, principal=principal, provider_id=provider_id, limit=TOP_NEEDS, min_score=0.0
        )
    except ServiceUnavailable:
        return None
    return [
        NeedView(need=item.need, score=item.score, because=item.explanation.summary or "a similar description")
        for item in result.items
    ]


def drafts_for(session: Session, app_state: Any, *, principal: Principal, state: str) -> list[DraftView]:
    """The State's drafted needs (one per theme, largest first) from its uncovered supported recommendations."""
    try:
        drafts = draft_service.draft_needs(
            session,
            app_state.match_index,
            principal=principal,
            state=state,
            options=DraftRequest(max_drafts=MAX_DRAFTS, suggestions=0),
        )
    except ServiceUnavailable:
        return []
    return [
        DraftView(theme=d.theme, title=d.title, recommendation_ids=tuple(d.recommendation_ids)) for d in drafts.items
    ]
