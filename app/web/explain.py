"""Ranked partners, ranked needs and drafted needs for the pages, from the match and draft services.

The ranking and the structured explanation (shared themes, shared terms, one
signal per component) are the services' (`app.services.matching`,
`app.services.drafts`), the same the API answers with; this module only picks
what a page shows and turns the explanation into words (`app.web.reasons`).
While the matching index cannot be built (503 from the service) the pages say
so instead of failing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from app.core.errors import ServiceUnavailable
from app.core.identity import Principal
from app.models.draft import DraftRequest
from app.models.match import Explanation
from app.models.need import Need, NeedPublic
from app.models.provider import Provider
from app.models.recommendation import Recommendation
from app.services import drafts as draft_service
from app.services import matching as matching_service
from app.web.reasons import Reasons, reasons

TOP_PARTNERS = 10
TOP_NEEDS = 10
MAX_DRAFTS = 50


@dataclass(frozen=True, slots=True)
class PartnerView:
    """One ranked provider as the need page shows it."""

    provider_id: str
    name: str
    kind: str
    reasons: Reasons


@dataclass(frozen=True, slots=True)
class NeedView:
    """One ranked need as the provider page shows it."""

    need: NeedPublic
    reasons: Reasons


@dataclass(frozen=True, slots=True)
class DraftView:
    """A drafted need for one theme: a title and the recommendations it would cite."""

    theme: str
    title: str
    recommendation_ids: tuple[str, ...]


def need_source(need: Need | NeedPublic, recommendations: Sequence[Recommendation]) -> str:
    """The text a need is matched on: its title, description, cited recommendations and themes."""
    return "\n".join([need.title, need.description, *(r.text for r in recommendations), ". ".join(need.themes)])


def provider_source(provider: Provider) -> str:
    """The text a provider is matched on: its name, acronym, description and themes."""
    parts = [provider.name, provider.acronym or "", provider.description, ". ".join(provider.themes)]
    return "\n".join(p for p in parts if p)


def _values(explanation: Explanation) -> dict[str, float]:
    return {name: signal.value for name, signal in explanation.signals.items()}


def partners_for(
    session: Session,
    app_state: Any,
    *,
    principal: Principal,
    need: Need,
    recommendations: Sequence[Recommendation],
) -> list[PartnerView] | None:
    """The providers ranked for a need, best first, with reasons in words; None while matching is unavailable."""
    try:
        result = matching_service.match_providers_for_need(
            session,
            app_state.match_index,
            principal=principal,
            need_id=need.id,
            limit=TOP_PARTNERS,
            min_score=0.0,
        )
    except ServiceUnavailable:
        return None
    source = need_source(need, recommendations)
    return [
        PartnerView(
            provider_id=item.provider.id,
            name=item.provider.name,
            kind=item.provider.kind,
            reasons=reasons(
                score=item.score,
                themes=item.explanation.themes,
                terms=[t.term for t in item.explanation.terms],
                signals=_values(item.explanation),
                source=source,
                state=need.state,
                wanted_languages=need.languages,
                offered_languages=item.provider.languages,
                wanted_modalities=need.modalities,
                offered_modalities=item.provider.modalities,
            ),
        )
        for item in result.items
    ]


def needs_for(session: Session, app_state: Any, *, principal: Principal, provider: Provider) -> list[NeedView] | None:
    """The open needs the caller may see, ranked for a provider, with reasons; None while matching is unavailable."""
    try:
        result = matching_service.match_needs_for_provider(
            session, app_state.match_index, principal=principal, provider_id=provider.id, limit=TOP_NEEDS, min_score=0.0
        )
    except ServiceUnavailable:
        return None
    return [
        NeedView(
            need=item.need,
            reasons=reasons(
                score=item.score,
                themes=item.explanation.themes,
                terms=[t.term for t in item.explanation.terms],
                signals=_values(item.explanation),
                source=provider_source(provider),
                state=item.need.state,
                wanted_languages=item.need.languages,
                offered_languages=provider.languages,
                wanted_modalities=item.need.modalities,
                offered_modalities=provider.modalities,
            ),
        )
        for item in result.items
    ]


def drafts_for(session: Session, app_state: Any, *, principal: Principal, state: str) -> list[DraftView]:
    """The State's drafted needs (largest first) from its uncovered supported recommendations."""
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
