"""What the engine reads of a database row: a provider's, a need's or a recommendation's text and facts."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from app.models.need import Need, NeedRecommendation
from app.models.provider import Provider
from app.models.recommendation import Recommendation
from app.reference.themes import ranking_themes
from matching.persons import affected_in
from matching.ranking import NeedFacts, ProviderFacts, RecommendationFacts
from matching.texts import need_text as engine_need_text
from matching.texts import provider_text as engine_provider_text


def provider_text(row: Provider) -> str:
    """What the engine reads for a provider (its declared themes as the ranking reads them)."""
    return engine_provider_text(row.name, row.acronym, row.description, ranking_themes(row.themes))


def need_text(row: Need, recommendation_texts: Sequence[str]) -> str:
    """What the engine reads for a need: its words and the recommendations it cites."""
    return engine_need_text(row.title, row.description, recommendation_texts, row.themes)


def provider_facts(row: Provider) -> ProviderFacts:
    return ProviderFacts(
        id=row.id,
        kind=row.kind,
        themes=tuple(ranking_themes(row.themes)),
        languages=frozenset(row.languages),
        countries=frozenset(row.countries),
        regions=frozenset(row.regions),
        modalities=frozenset(row.modalities),
    )


def need_facts(row: Need) -> NeedFacts:
    return NeedFacts(
        id=row.id,
        state=row.state,
        status=row.status,
        visibility=row.visibility,
        themes=tuple(row.themes),
        languages=frozenset(row.languages),
        modalities=frozenset(row.modalities),
    )


def recommendation_texts(session: Session, need_ids: Sequence[str]) -> dict[str, list[str]]:
    """The texts of the recommendations each need cites, in the need's order."""
    out: dict[str, list[str]] = {}
    for chunk_start in range(0, len(need_ids), 500):
        chunk = list(need_ids[chunk_start : chunk_start + 500])
        rows = session.exec(
            select(NeedRecommendation.need_id, Recommendation.text)
            .join(Recommendation, col(Recommendation.id) == col(NeedRecommendation.recommendation_id))
            .where(col(NeedRecommendation.need_id).in_(chunk))
            .order_by(col(NeedRecommendation.need_id), col(NeedRecommendation.position))
        ).all()
        for need_id, text in rows:
            out.setdefault(need_id, []).append(text)
    return out


def recommendation_facts(row: Recommendation) -> RecommendationFacts:
    """A recommendation's facts: its human labels as the ranking reads them (none when predicted), and the
    affected persons its source names or its words do."""
    return RecommendationFacts(
        id=row.id,
        state=row.state_under_review,
        cycle=row.cycle,
        session=row.session,
        response=row.response,
        themes=() if row.themes_predicted else tuple(ranking_themes(row.themes)),
        affected=frozenset(row.affected_groups) | affected_in(row.text),
    )
