"""The ranking: how well a provider fits a need (or free text), and a need a provider.

This is the one place where scores are fused (:func:`fuse`, :func:`weighted_mean`). The service
(``app/match_index/index.py``) and the quality harness (``evaluation/``) both rank through
:class:`Ranker`, so what the harness measures is what the service answers.

``score = sum(weight_c * value_c) / sum(weight_c)`` over the components ``c`` that apply, each
value in ``[0, 1]``:

* ``text``: TF-IDF cosine of the two texts (:class:`~matching.matcher.TfidfMatcher`);
* ``theme``: similarity of the two theme vectors (:class:`~matching.theme_space.ThemeSpace`, half
  their cosine, half the best shared theme): declared themes count 1, otherwise predicted; without
  a tagger, the cosine of the two declared theme sets;
* ``language``, ``presence``, ``modality``, ``history``: structured signals, applied only when
  the asking side names something to compare (a need without languages has no language signal).

A component that does not apply neither helps nor hurts. A candidate that shares no word with
the query (text 0) and whose theme similarity is under :data:`THEME_FLOOR` is not ranked at all.
Ties break by id.

Everything a ranking reads is passed in: a :class:`Corpus` (one side of the matching, frozen),
the :class:`Weights`, the theme space and the UN regional group of each State.

*Speed.* Every candidate is scored at once, with NumPy over the corpus's columns
(:mod:`matching.columns`): one text scoring pass, one matrix-vector product for the theme cosines,
one mask per wanted language, State or modality. Only the candidates that can reach the top
``limit`` (with a margin for float rounding, :mod:`matching.scoring`) are then scored one by one
with their explanation (``Ranker._provider_one``, ``Ranker._need_one``), and those exact scores
decide the order: the answer is the same as scoring every candidate one by one.

Examples
--------
>>> from matching import TfidfMatcher
>>> providers = Corpus(
...     matcher=TfidfMatcher().fit(["Prevention of torture in prisons", "Girls' education"], ids=["apt", "edu"]),
...     facts={"apt": ProviderFacts("apt"), "edu": ProviderFacts("edu")},
... )
>>> [top] = Ranker().rank_providers(providers, "torture in detention", Preferences())
>>> top.id, round(top.signals["text"].value, 3), round(top.score, 3)  # no tagger, no shared theme: 0.447 * 0.45 / 1
('apt', 0.447, 0.201)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar, overload

import numpy as np

from matching.columns import Columns, Mask
from matching.facts import (
    EVERY_RECOMMENDATION,
    FACT_COLUMNS,
    NO_FILTERS,
    Corpus,
    NeedAudience,
    NeedFacts,
    Preferences,
    ProviderFacts,
    ProviderFilters,
    RecommendationFacts,
    RecommendationFilters,
    allowed_recommendations,
    allowed_rows,
    fact_values,
    rows_in_regions,
    visible_needs,
)
from matching.facts import fold as _fold
from matching.matcher import Match
from matching.persons import affected_in
from matching.preprocessing import fold_accents
from matching.scoring import (
    SLACK,
    Candidates,
    best,
    fuse_columns,
    history_values,
    hit,
    overlap_values,
    presence_values,
    score_all,
    text_values,
)
from matching.theme_space import (
    BRIDGE_MIN,
    EXPANSION_MIN,
    EXPANSION_TOP,
    PROBA_FLOOR,
    PROTOTYPE_SHARE,
    ProbaModel,
    ThemeSpace,
    Vector,
    best_covered_themes,
    best_shared_themes,
)
from matching.weights import Weights

__all__ = [
    "BRIDGE_MIN",
    "EVERY_RECOMMENDATION",
    "EXPANSION_MIN",
    "EXPANSION_TOP",
    "FACT_COLUMNS",
    "PROBA_FLOOR",
    "PROTOTYPE_SHARE",
    "NO_FILTERS",
    "THEME_FLOOR",
    "Corpus",
    "NeedAudience",
    "NeedFacts",
    "Preferences",
    "ProbaModel",
    "ProviderFacts",
    "ProviderFilters",
    "Ranked",
    "RecommendationFacts",
    "RecommendationFilters",
    "Ranker",
    "Signal",
    "ThemeSpace",
    "Vector",
    "Weights",
    "fact_values",
    "fuse",
    "visible_needs",
    "weighted_mean",
]

#: Per provider: (cooperation with the asking State, cooperation on the asked themes). The service counts
#: completed confirmed activities and accepted engagements, both agreed by the two parties.
History = Mapping[str, tuple[bool, bool]]

#: With predicted (dense) theme vectors every pair has some similarity; below this a candidate
#: that shares no words is not ranked at all.
THEME_FLOOR = 0.15


@dataclass(frozen=True, slots=True)
class Signal:
    """One component of a score: its value in [0, 1], its weight, and what it found in words."""

    value: float
    weight: float
    detail: str


@dataclass(frozen=True, slots=True)
class Ranked:
    """One ranked object with why it ranks there."""

    id: str
    score: float
    terms: tuple[tuple[str, float], ...]
    themes: tuple[str, ...]
    signals: dict[str, Signal]
    summary: str


F = TypeVar("F", ProviderFacts, NeedFacts, RecommendationFacts)


@overload
def weighted_mean(parts: Iterable[tuple[float, float]]) -> float: ...
@overload
def weighted_mean(parts: Iterable[tuple[Vector, float]]) -> Vector: ...
def weighted_mean(parts: Iterable[tuple[float | Vector, float]]) -> float | Vector:
    """``sum(value * weight) / sum(weight)`` over ``(value, weight)`` parts; values may be arrays of one shape.

    Raises ``ValueError`` when the weights sum to 0 or less.

    Examples
    --------
    (0.2 * 0.45 + 0.8 * 0.55) / 1.0 = 0.53.

    >>> round(weighted_mean([(0.2, 0.45), (0.8, 0.55)]), 4)
    0.53
    >>> weighted_mean([(np.array([0.0, 1.0]), 1.0), (np.array([1.0, 1.0]), 3.0)]).tolist()
    [0.75, 1.0]
    """
    pairs = list(parts)
    total_weight = sum(weight for _, weight in pairs)
    if total_weight <= 0:
        raise ValueError("the weights must sum to more than 0")
    return sum((value * weight for value, weight in pairs), start=0.0) / total_weight


def fuse(parts: Iterable[tuple[float, float]]) -> float:
    """A score: the weighted mean of the components that apply, clipped to [0, 1] (0 when no weight).

    Examples
    --------
    >>> round(fuse([(0.2, 0.45), (0.8, 0.55)]), 4)
    0.53
    >>> fuse([])
    0.0
    """
    pairs = list(parts)
    if sum(weight for _, weight in pairs) <= 0:
        return 0.0
    return min(1.0, max(0.0, weighted_mean(pairs)))


def _identity(code: str) -> str:
    return code


@dataclass(frozen=True, slots=True)
class Ranker:
    """Ranks one side of the matching for the other.

    Parameters
    ----------
    weights : Weights
    themes : ThemeSpace
    regions : mapping of ISO3 to UN regional group slug (``"africa"``...), for presence and filters
    language_name : callable turning an ISO 639-1 code into a name for explanations
    region_name : callable turning a regional group slug into a name for explanations
    """

    weights: Weights = Weights()
    themes: ThemeSpace = ThemeSpace()
    regions: Mapping[str, str] = field(default_factory=dict)
    language_name: Callable[[str], str] = _identity
    region_name: Callable[[str], str] = _identity

    def region_of(self, state: str | None) -> str | None:
        return self.regions.get(state or "")

    # --- providers for a need or a text -------------------------------------------------------

    def rank_providers(
        self,
        providers: Corpus[ProviderFacts],
        query: str,
        prefs: Preferences,
        *,
        filters: ProviderFilters = NO_FILTERS,
        history: History | None = None,
        exclude: frozenset[str] = frozenset(),
        limit: int = 10,
        min_score: float = 0.0,
        theme_vector: Vector | None = None,
    ) -> list[Ranked]:
        """Providers ranked for a need (or free text), best first.

        ``exclude`` names providers never to suggest for this query (the service passes those that
        declined the need as out of their scope). ``theme_vector`` is the query's theme vector when
        the caller already has it (the service keeps each need's); otherwise the tagger reads ``query``.
        """
        found = self._provider_candidates(providers, query, prefs, filters, history or {}, exclude, theme_vector)
        return best(found, limit, min_score)

    def provider_scores(
        self,
        providers: Corpus[ProviderFacts],
        query: str,
        prefs: Preferences,
        *,
        history: History | None = None,
        exclude: frozenset[str] = frozenset(),
        theme_vector: Vector | None = None,
    ) -> dict[str, float]:
        """The score of every provider :meth:`rank_providers` would rank, without ordering them."""
        found = self._provider_candidates(providers, query, prefs, NO_FILTERS, history or {}, exclude, theme_vector)
        rows = np.flatnonzero(found.allowed)
        return {r.id: r.score for row in rows if (r := found.exact(int(row))) is not None}

    def _provider_candidates(
        self,
        providers: Corpus[ProviderFacts],
        query: str,
        prefs: Preferences,
        filters: ProviderFilters,
        history: History,
        exclude: frozenset[str],
        theme_vector: Vector | None,
    ) -> Candidates[Ranked]:
        """Every provider's score at once, and how to score one exactly with its explanation."""
        query = self.themes.english(query)  # French and Spanish read in English; English as written
        table = providers.table
        weights = self.weights
        if theme_vector is not None:
            q_vec: Vector | None = theme_vector
        else:
            q_vec = self.themes.vector(query, prefs.themes, parts=prefs.parts or None)
        # A query without declared themes borrows its most probable theme's description for the text score.
        text_scores = score_all(providers.matcher, self.themes.expand(query, q_vec, prefs.themes))
        words = _words_of(query)
        text = text_values(text_scores, providers.text_positions)
        theme = self._theme_values(table, q_vec, prefs.themes)
        allowed = allowed_rows(table, filters, self.regions) & ~table.mask_of(exclude) & _passes_floor(text, theme)
        parts = [(text, weights.text), (theme, weights.theme)]
        if prefs.languages:
            parts.append((table.any_of("languages", prefs.languages).astype(np.float64), weights.language))
        if prefs.state:
            in_country = table.any_of("countries", [prefs.state])
            in_region = table.any_of("regions", [r] if (r := self.region_of(prefs.state)) else [])
            presence = presence_values(in_country, in_region, table.any_of("regions", ["global"]))
            parts.append((presence, weights.presence))
        if prefs.modalities:
            offered = table.count_of("modalities", prefs.modalities)
            parts.append((offered / len(prefs.modalities), weights.modality))
        need_themes = _fold(prefs.themes)
        any_history = any(a or b for a, b in history.values())
        with_history = any_history and bool(prefs.state or need_themes)
        if with_history:
            parts.append((history_values(table, history), weights.history))

        def exact(row: int) -> Ranked | None:
            pid = table.id_of(row)
            return self._provider_one(
                providers.facts[pid],
                hit(text_scores, providers.text_positions[row]),
                q_vec,
                providers.vectors.get(pid),
                prefs,
                history if with_history else None,
                words,
            )

        return Candidates(allowed, fuse_columns(parts), exact)

    def _provider_one(
        self,
        facts: ProviderFacts,
        hit: Match | None,
        q_vec: Vector | None,
        d_vec: Vector | None,
        prefs: Preferences,
        history: History | None,
        words: str | None = None,
    ) -> Ranked | None:
        """One provider's score and explanation (None when it shares neither words nor enough themes).

        With ``words`` (the query as spelt by :func:`_words_of`), the explanation names only the terms it contains.
        """
        weights = self.weights
        found = self._text_and_theme(hit, q_vec, d_vec, prefs.themes, facts.themes)
        if found is None:
            return None
        signals, shared = found
        if prefs.languages:
            signals["language"] = self._language(prefs.languages, facts.languages)
        if prefs.state:
            signals["presence"] = self._presence(prefs.state, facts.countries, facts.regions)
        if prefs.modalities:
            signals["modality"] = _modality(prefs.modalities, facts.modalities, weights.modality)
        if history is not None:
            signals["history"] = _history(history.get(facts.id, (False, False)), prefs.state, weights.history)
        return _finish(facts.id, hit, shared, signals, words)

    # --- needs for a provider -------------------------------------------------------------------

    def rank_needs(
        self,
        needs: Corpus[NeedFacts],
        query: str,
        provider: ProviderFacts,
        *,
        visible: Sequence[str] | NeedAudience,
        exclude: frozenset[str] = frozenset(),
        limit: int = 10,
        min_score: float = 0.0,
        theme_vector: Vector | None = None,
    ) -> list[Ranked]:
        """Open needs (those ``visible`` names or allows, none of ``exclude``) ranked for a provider, best first.

        ``theme_vector`` is the provider's profile vector when the caller already has it (the service keeps
        each provider's); otherwise the profile ``query`` is read (:meth:`ThemeSpace.profile_vector`).
        """
        query = self.themes.english(query)  # French and Spanish read in English; English as written
        table = needs.table
        weights = self.weights
        p_vec = theme_vector if theme_vector is not None else self.themes.profile_vector(query, provider.themes)
        text_scores = score_all(needs.matcher, query)
        text = text_values(text_scores, needs.text_positions)
        theme = self._theme_values(table, p_vec, provider.themes, rows_ask=True)
        allowed = visible_needs(needs, visible) & ~table.mask_of(exclude) & _passes_floor(text, theme)
        in_region = rows_in_regions(table, provider.regions, self.regions)
        presence = presence_values(
            table.any_of("state", provider.countries), in_region, np.full(table.n, "global" in provider.regions)
        )
        # Language and modality apply to the needs that ask for some.
        asks_languages, asks_modalities = table.counts("languages") > 0, table.counts("modalities")
        speaks = table.any_of("languages", provider.languages).astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            modality = table.count_of("modalities", provider.modalities) / asks_modalities
        parts: list[tuple[Vector, float | Vector]] = [
            (text, weights.text),
            (theme, weights.theme),
            (presence, weights.presence),
            (speaks, np.where(asks_languages, weights.language, 0.0)),
            (np.where(asks_modalities > 0, modality, 0.0), np.where(asks_modalities > 0, weights.modality, 0.0)),
        ]

        def exact(row: int) -> Ranked | None:
            nid = table.id_of(row)
            return self._need_one(
                needs.facts[nid], hit(text_scores, needs.text_positions[row]), needs.vectors.get(nid), p_vec, provider
            )

        return best(Candidates(allowed, fuse_columns(parts), exact), limit, min_score)

    def _need_one(
        self, facts: NeedFacts, hit: Match | None, n_vec: Vector | None, p_vec: Vector | None, provider: ProviderFacts
    ) -> Ranked | None:
        """One need's score and explanation for a provider (None when they share neither words nor enough themes)."""
        found = self._text_and_theme(hit, n_vec, p_vec, facts.themes, provider.themes)
        if found is None:
            return None
        signals, shared = found
        signals["presence"] = self._presence(facts.state, provider.countries, provider.regions)
        if facts.languages:
            signals["language"] = self._language(facts.languages, provider.languages)
        if facts.modalities:
            signals["modality"] = _modality(facts.modalities, provider.modalities, self.weights.modality)
        return _finish(facts.id, hit, shared, signals)

    # --- recommendations for a text -------------------------------------------------------------

    def rank_recommendations(
        self,
        recommendations: Corpus[RecommendationFacts],
        query: str,
        *,
        filters: RecommendationFilters = EVERY_RECOMMENDATION,
        limit: int = 10,
        offset: int = 0,
        min_score: float = 0.0,
        theme_vector: Vector | None = None,
    ) -> tuple[list[Ranked], int]:
        """The recommendations a text speaks to, best first (the page ``[offset, offset + limit)``), and how many score
        ``min_score`` or more: text and theme as for free text, and the persons both name (``matching.persons``)."""
        query = self.themes.english(query)  # French and Spanish read in English; English as written
        table = recommendations.table
        q_vec = theme_vector if theme_vector is not None else self.themes.vector(query, ())
        text_scores = score_all(recommendations.matcher, self.themes.expand(query, q_vec, ()))
        text = text_values(text_scores, recommendations.text_positions)
        wanted = allowed_recommendations(table, filters)
        theme = self._theme_values(table, q_vec, (), only=wanted if 2 * wanted.sum() < table.n else None)
        allowed = wanted & _passes_floor(text, theme)
        persons, words = affected_in(query), _words_of(query)
        parts = [(text, self.weights.text), (theme, self.weights.theme)]
        if persons:
            parts.append((table.any_of("affected", persons).astype(np.float64), self.weights.affected))
        scores = fuse_columns(parts)

        def exact(row: int) -> Ranked | None:
            rid, found_hit = table.id_of(row), hit(text_scores, recommendations.text_positions[row])
            facts = recommendations.facts[rid]
            found = self._text_and_theme(found_hit, q_vec, recommendations.vectors.get(rid), (), facts.themes)
            if found is None:
                return None
            signals, shared = found
            if persons:
                common = sorted(persons & facts.affected)
                detail = "both concern " + ", ".join(common) if common else "concerns other persons"
                signals["affected"] = Signal(1.0 if common else 0.0, self.weights.affected, detail)
            return _finish(rid, found_hit, shared, signals, words)

        total = int(np.count_nonzero(allowed & (scores >= max(min_score, SLACK) - SLACK)))
        return best(Candidates(allowed, scores, exact), offset + limit, min_score)[offset:], total

    # --- the components over every row -----------------------------------------------------------

    def _theme_values(
        self,
        table: Columns,
        q_vec: Vector | None,
        wanted: Sequence[str],
        *,
        rows_ask: bool = False,
        only: Mask | None = None,
    ) -> Vector:
        """The theme similarity of every row with the query (as :meth:`ThemeSpace.similarity`); with ``only``, of
        those rows alone (the others 0: a filter left few). The best shared theme is read from the asking side's
        themes: the query's (a need or a text for providers), or each row's when ``rows_ask`` (needs for a provider).
        """
        overlap = overlap_values(table, _fold(wanted))
        if q_vec is None or table.unit is None:
            return overlap
        at = slice(None) if only is None else np.flatnonzero(only)
        q_unit = q_vec / float(np.linalg.norm(q_vec)) if np.any(q_vec) else np.zeros_like(q_vec)
        similarity: Vector = table.unit[: table.n][at] @ q_unit
        share = self.themes.best_share
        if share > 0:
            assert table.unit_t is not None and table.peak_t is not None  # kept along with `unit`
            if rows_ask:
                best_theme = best_covered_themes(table.peak_t[:, at], q_unit)
            else:
                best_theme = best_shared_themes(q_vec, table.unit_t[:, at])
            similarity = (1.0 - share) * similarity + share * best_theme
        found: Vector = np.where(table.has_vector[at], similarity, overlap[at])
        out = found if only is None else np.zeros(table.n)
        out[at] = found  # a no-op without `only`
        return out

    # --- signals --------------------------------------------------------------------------------

    def _text_and_theme(
        self,
        hit: Match | None,
        need_vec: Vector | None,
        provider_vec: Vector | None,
        need_themes: Sequence[str],
        provider_themes: Sequence[str],
    ) -> tuple[dict[str, Signal], list[str]] | None:
        """The text and theme signals of one pair, or None when it shares neither words nor enough themes."""
        text = hit.score if hit else 0.0
        theme, shared = self.themes.similarity(need_vec, provider_vec, need_themes, provider_themes)
        if text <= 0 and theme < THEME_FLOOR:
            return None
        weights = self.weights
        signals = {
            "text": Signal(text, weights.text, "shared words"),
            "theme": Signal(
                theme, weights.theme, "shared themes: " + ", ".join(shared) if shared else "no shared theme"
            ),
        }
        return signals, shared

    def _language(self, wanted: frozenset[str], offered: frozenset[str]) -> Signal:
        common = sorted(self.language_name(code) for code in wanted & offered)
        return Signal(
            1.0 if common else 0.0,
            self.weights.language,
            "works in " + ", ".join(common) if common else "none of the requested languages",
        )

    def _presence(self, state: str, countries: frozenset[str], regions: frozenset[str]) -> Signal:
        weight = self.weights.presence
        region = self.region_of(state)
        if state in countries:
            return Signal(1.0, weight, f"works in {state}")
        if region and region in regions:
            return Signal(0.6, weight, f"works in the region ({self.region_name(region)})")
        if "global" in regions:
            return Signal(0.3, weight, "works worldwide")
        return Signal(0.0, weight, "no presence recorded in the State or its region")


def _passes_floor(text: Vector, theme: Vector) -> Mask:
    """Rows that share a word, or enough themes (with the margin: the exact score decides)."""
    passed: Mask = (text > 0) | (theme >= THEME_FLOOR - SLACK)
    return passed


def _modality(wanted: frozenset[str], offered: frozenset[str], weight: float) -> Signal:
    common = sorted(wanted & offered)
    detail = (
        "offers " + ", ".join(m.replace("_", " ") for m in common) if common else "offers none of the modalities asked"
    )
    return Signal(len(common) / len(wanted), weight, detail)


def _history(found: tuple[bool, bool], state: str | None, weight: float) -> Signal:
    with_state, on_themes = found
    value = 1.0 if with_state else 0.5 if on_themes else 0.0
    detail = (
        f"has cooperated with {state}"
        if with_state
        else "has cooperated on these themes"
        if on_themes
        else "no cooperation recorded"
    )
    return Signal(value, weight, detail)


def _words_of(query: str) -> str:
    """The query as the matcher spells explanation terms (lower case, accents folded)."""
    return fold_accents(query).lower()


def _finish(
    obj_id: str, hit: Match | None, shared: Sequence[str], signals: dict[str, Signal], words: str | None = None
) -> Ranked:
    """The fused score and explanation; with ``words``, only terms the query itself contains are named
    (the words a query borrowed from its themes' descriptions count in the score, not in the explanation)."""
    score = fuse((s.value, s.weight) for s in signals.values())
    found = hit.terms if hit else ()
    terms = tuple((t.term, round(t.weight, 4)) for t in found if words is None or t.term in words)
    return Ranked(obj_id, score, terms, tuple(shared), signals, _summary(terms, shared, signals))


def _summary(terms: Sequence[tuple[str, float]], shared: Sequence[str], signals: Mapping[str, Signal]) -> str:
    """The explanation in words, e.g. 'shares: detention, torture; works in the region (Africa); offers training'."""
    parts = []
    words = [t for t, _ in terms[:4]]
    if shared or words:
        parts.append(
            "shares: " + ", ".join([*shared[:4], *[w for w in words if w.casefold() not in _fold(shared)]][:6])
        )
    for name in ("presence", "language", "modality", "history", "affected"):
        signal = signals.get(name)
        if signal is not None and signal.value > 0:
            parts.append(signal.detail)
    return "; ".join(parts)
