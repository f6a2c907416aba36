"""Recommendations a text speaks to: a need in a State's own words, a paragraph of a submission or a plan.

Ranked on the worker's index snapshot, through the same `matching.ranking.Ranker` as every match
(`IndexSnapshot.rank_recommendations`); this module reads the filters, presents the recommendations
and phrases the reasons, the shared terms in the words the text itself used.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session, col, select

from app.core.identity import Principal
from app.match_index.index import MatchIndex
from app.match_index.rows import provider_text
from app.models.match import MAX_MATCHES, EngineInfo
from app.models.need import Need, NeedRecommendation
from app.models.provider import Provider
from app.models.recommendation import Recommendation
from app.models.related import (
    MAX_RELATED_TEXT,
    DraftFromText,
    NeedDraftFromText,
    RelatedQuery,
    RelatedRecommendation,
    RelatedRecommendations,
)
from app.reference.themes import ranking_themes, theme_name
from app.services import access
from app.services import recommendations as recommendation_service
from app.services.matching import explanation_of
from matching.crosslingual import detect_language
from matching.persons import affected_in
from matching.ranking import Ranked, RecommendationFilters

__all__ = ["draft_from_text", "filters_of", "for_provider", "reasons_of", "related_recommendations", "rank_related"]


def filters_of(query: RelatedQuery) -> RecommendationFilters:
    """The query's filters as the ranking reads them (a theme as its label and as the ranking's labels)."""
    return RecommendationFilters(
        states=frozenset([query.state] if query.state else []),
        cycles=frozenset([query.cycle] if query.cycle else []),
        sessions=frozenset([query.session] if query.session else []),
        responses=frozenset(query.response),
        themes=frozenset([query.theme, *ranking_themes([query.theme])]) if query.theme else frozenset(),
    )


def rank_related(session: Session, index: MatchIndex, query: RelatedQuery) -> tuple[list[Ranked], int, EngineInfo, str]:
    """The ranked page, the total, which index answered and the text's language."""
    snapshot = index.with_recommendations(session)
    ranked, total = snapshot.rank_recommendations(
        query.text,
        filters=filters_of(query),
        limit=query.limit,
        offset=query.offset,
        min_score=query.min_score,
        theme_vector=index.theme_vector(query.text, ()),
    )
    reader = index.ranker.themes.reader
    language = reader.read(query.text)[0] if reader is not None else detect_language(query.text)
    return ranked, total, EngineInfo(**snapshot.engine_info("recommendation")), language or "en"


@dataclass(frozen=True, slots=True)
class Why:
    """Why a recommendation ranks, in parts: its shared themes, the shared terms as the text wrote them,
    the affected persons both concern."""

    themes: list[str]
    terms: list[str]
    persons: list[str]

    def sentences(self) -> list[str]:
        out = []
        if self.themes:
            out.append("Shared themes: " + ", ".join(self.themes) + ".")
        if self.terms:
            out.append("Shared terms: " + ", ".join(self.terms) + ".")
        if self.persons:
            out.append("Same affected persons: " + "; ".join(self.persons) + ".")
        return out


def why(index: MatchIndex, text: str, ranked: Ranked) -> Why:
    reader = index.ranker.themes.reader
    found = [t for t, _ in ranked.terms[:8]]
    # A word is named once: "detention conditions" says "detention" and "conditions" already.
    kept = [t for t in found if not any(t != o and f" {t} " in f" {o} " for o in found)][:6]
    terms = [reader.written(text, t) if reader is not None else t for t in kept]
    persons: list[str] = []
    affected = ranked.signals.get("affected")
    facts = index.snapshot.recommendations.facts.get(ranked.id)
    if affected is not None and affected.value > 0 and facts is not None:
        persons = sorted(affected_in(index.ranker.themes.english(text)) & facts.affected)
    return Why([theme_name(t) for t in ranked.themes], list(dict.fromkeys(terms)), persons)


def reasons_of(index: MatchIndex, text: str, ranked: Ranked) -> list[str]:
    """Why a recommendation ranks, in sentences a person can read."""
    return why(index, text, ranked).sentences()


def related_recommendations(session: Session, index: MatchIndex, *, query: RelatedQuery) -> RelatedRecommendations:
    """The recommendations `query.text` speaks to, best first, one page, each with its reasons."""
    ranked, total, engine, language = rank_related(session, index, query)
    items = present_related(session, index, query.text, ranked)
    return RelatedRecommendations(
        items=items, total=total, limit=query.limit, offset=query.offset, language=language, engine=engine
    )


def present_related(
    session: Session, index: MatchIndex, text: str, ranked: Sequence[Ranked]
) -> list[RelatedRecommendation]:
    """The ranked recommendations as the API shows them (one gone since the index was read: left out)."""
    wanted = [r.id for r in ranked]
    rows = {r.id: r for r in session.exec(select(Recommendation).where(col(Recommendation.id).in_(wanted)))}
    public = {p.id: p for p in recommendation_service.present(session, [rows[r.id] for r in ranked if r.id in rows])}
    out = []
    for r in ranked:
        if r.id not in public:
            continue
        parts = why(index, text, r)
        out.append(
            RelatedRecommendation(
                recommendation=public[r.id],
                score=round(r.score, 6),
                reasons=parts.sentences(),
                shared_themes=parts.themes,
                shared_terms=parts.terms,
                affected_persons=parts.persons,
                explanation=explanation_of(r),
            )
        )
    return out


def draft_from_text(session: Session, index: MatchIndex, *, draft: DraftFromText) -> NeedDraftFromText:
    """The State's supported recommendations a need's description speaks to, best first, none chosen."""
    query = RelatedQuery(text=draft.text, state=draft.state, response=["supported"], limit=draft.limit)
    found = related_recommendations(session, index, query=query)
    return NeedDraftFromText(
        state=draft.state,
        description=draft.text,
        recommendations=found.items,
        total=found.total,
        language=found.language,
    )


def for_provider(
    session: Session, index: MatchIndex, *, principal: Principal, provider: Provider, limit: int = 10
) -> list[tuple[RelatedRecommendation, list[str]]]:
    """The recommendations a provider's profile speaks to, each with the open needs (the caller may see) that
    cite it: those open needs cite first, then any State's; best first within each."""
    query = RelatedQuery(text=provider_text(provider)[:MAX_RELATED_TEXT], limit=MAX_MATCHES)
    items = related_recommendations(session, index, query=query).items
    wanted = [i.recommendation.id for i in items]
    cited: dict[str, list[str]] = {}
    rows = session.exec(
        select(NeedRecommendation.recommendation_id, Need.id)
        .join(Need, col(Need.id) == col(NeedRecommendation.need_id))
        .where(
            col(NeedRecommendation.recommendation_id).in_(wanted),
            col(Need.status) != "closed",
            access.need_read_clause(principal),
        )
    ).all()
    for rec_id, need_id in rows:
        cited.setdefault(rec_id, []).append(need_id)
    ordered = sorted(items, key=lambda i: i.recommendation.id not in cited)  # stable: best first within each
    return [(i, sorted(cited.get(i.recommendation.id, []))) for i in ordered[:limit]]
