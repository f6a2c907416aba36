"""The snapshot readers rank on: providers and needs as the index held them at one log position.

A snapshot is never changed once published: a match reads one and ranks on it to the end,
whatever writers do meanwhile.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypedDict

from matching.ranking import (
    NO_FILTERS,
    Corpus,
    NeedAudience,
    NeedFacts,
    Preferences,
    ProviderFacts,
    ProviderFilters,
    Ranked,
    Ranker,
    RecommendationFacts,
    RecommendationFilters,
    Vector,
    visible_needs,
)


class EngineInfo(TypedDict):
    version: str
    documents: int
    log_position: int


@dataclass(frozen=True, slots=True)
class IndexSnapshot:
    """Providers and needs as the index held them at one log position; never changed once published."""

    providers: Corpus[ProviderFacts]
    needs: Corpus[NeedFacts]
    ranker: Ranker
    applied_seq: int = 0
    provider_version: int = 0
    need_version: int = 0
    #: What the engine read for each need (its words and the recommendations it cites).
    need_texts: Mapping[str, str] = field(default_factory=dict)
    #: The recommendations that count (no copy, none withdrawn), once a request asked for them.
    recommendations: Corpus[RecommendationFacts] = field(default_factory=lambda: Corpus(None, {}))
    recommendation_version: int = 0

    def rank_recommendations(
        self,
        query: str,
        *,
        filters: RecommendationFilters,
        limit: int,
        offset: int = 0,
        min_score: float = 0.0,
        theme_vector: Vector | None = None,
    ) -> tuple[list[Ranked], int]:
        """The recommendations a text speaks to, best first (one page), and how many there are."""
        return self.ranker.rank_recommendations(
            self.recommendations,
            query,
            filters=filters,
            limit=limit,
            offset=offset,
            min_score=min_score,
            theme_vector=theme_vector,
        )

    def rank_providers(
        self,
        query: str,
        prefs: Preferences,
        *,
        filters: ProviderFilters = NO_FILTERS,
        history: Mapping[str, tuple[bool, bool]] | None = None,
        exclude: frozenset[str] = frozenset(),
        limit: int = 10,
        min_score: float = 0.0,
        theme_vector: Vector | None = None,
    ) -> list[Ranked]:
        """Providers ranked for a need (or free text), best first, none of `exclude`."""
        return self.ranker.rank_providers(
            self.providers,
            query,
            prefs,
            filters=filters,
            history=history,
            exclude=exclude,
            limit=limit,
            min_score=min_score,
            theme_vector=theme_vector,
        )

    def provider_scores(
        self,
        query: str,
        prefs: Preferences,
        *,
        history: Mapping[str, tuple[bool, bool]] | None = None,
        exclude: frozenset[str] = frozenset(),
        theme_vector: Vector | None = None,
    ) -> dict[str, float]:
        """Every provider's score for a need, as `rank_providers` scores them (unordered)."""
        return self.ranker.provider_scores(
            self.providers, query, prefs, history=history, exclude=exclude, theme_vector=theme_vector
        )

    def rank_needs(
        self,
        query: str,
        provider: ProviderFacts,
        *,
        visible: Sequence[str] | NeedAudience,
        exclude: frozenset[str] = frozenset(),
        limit: int = 10,
        min_score: float = 0.0,
    ) -> list[Ranked]:
        """Open needs (those `visible` names or allows, none of `exclude`) ranked for a provider, best first.

        The provider's theme vector is the one the index keeps for it (computed from the same text).
        """
        return self.ranker.rank_needs(
            self.needs,
            query,
            provider,
            visible=visible,
            exclude=exclude,
            limit=limit,
            min_score=min_score,
            theme_vector=self.providers.vectors.get(provider.id),
        )

    def count_open_needs(self, audience: NeedAudience) -> int:
        """How many needs that are not closed the audience may see."""
        return int(visible_needs(self.needs, audience).sum())

    def engine_info(self, kind: str) -> EngineInfo:
        """Which index answered: log position, engine version and how many documents it holds."""
        corpus_version, documents = {
            "provider": (self.provider_version, len(self.providers)),
            "need": (self.need_version, len(self.needs)),
            "recommendation": (self.recommendation_version, len(self.recommendations)),
        }[kind]
        return {
            "version": f"{self.applied_seq}.{corpus_version}",
            "documents": documents,
            "log_position": self.applied_seq,
        }
