"""The ranking: how well a provider fits a need (or free text), and a need a provider.

This is the one place where scores are fused (:func:`fuse`, :func:`weighted_mean`). The service
(``app/services/match_index.py``) and the quality harness (``evaluation/``) both rank through
:class:`Ranker`, so what the harness measures is what the service answers.

``score = sum(weight_c * value_c) / sum(weight_c)`` over the components ``c`` that apply, each
value in ``[0, 1]``:

* ``text``: TF-IDF cosine of the two texts (:class:`~matching.matcher.TfidfMatcher`);
* ``theme``: cosine of the two theme vectors (:class:`ThemeSpace`): declared themes count 1,
  otherwise the tagger's probabilities, those under :data:`PROBA_FLOOR` dropped; without a
  tagger, the cosine of the two declared theme sets;
* ``language``, ``presence``, ``modality``, ``history``: structured signals, applied only when
  the asking side names something to compare (a need without languages has no language signal).

A component that does not apply neither helps nor hurts. A candidate that shares no word with
the query (text 0) and whose theme similarity is under :data:`THEME_FLOOR` is not ranked at all.
Ties break by id.

Everything a ranking reads is passed in: a :class:`Corpus` (one side of the matching, frozen),
the :class:`Weights`, the theme space and the UN regional group of each State.

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
from typing import Generic, TypeVar, overload

from matching.matcher import Match, TfidfMatcher
from matching.preprocessing import fold_accents
from matching.theme_space import (
    BRIDGE_MIN,
    EXPANSION_MIN,
    EXPANSION_TOP,
    PROBA_FLOOR,
    PROTOTYPE_SHARE,
    ProbaModel,
    ThemeSpace,
    Vector,
    _fold,
)

__all__ = [
    "BRIDGE_MIN",
    "EXPANSION_MIN",
    "EXPANSION_TOP",
    "PROBA_FLOOR",
    "PROTOTYPE_SHARE",
    "REGION_LABELS",
    "NO_FILTERS",
    "THEME_FLOOR",
    "Corpus",
    "NeedFacts",
    "Preferences",
    "ProbaModel",
    "ProviderFacts",
    "ProviderFilters",
    "Ranked",
    "Ranker",
    "Signal",
    "ThemeSpace",
    "Vector",
    "Weights",
    "fuse",
    "need_text",
    "provider_text",
    "weighted_mean",
]

#: Per provider: (completed cooperation with the asking State, completed cooperation on the asked themes).
History = Mapping[str, tuple[bool, bool]]

#: With predicted (dense) theme vectors every pair has some similarity; below this a candidate
#: that shares no words is not ranked at all.
THEME_FLOOR = 0.15
#: Names of the UN regional groups (and "global") in explanations.
REGION_LABELS: Mapping[str, str] = {
    "africa": "Africa",
    "asia_pacific": "Asia-Pacific",
    "eastern_europe": "Eastern Europe",
    "latin_america_caribbean": "Latin America and the Caribbean",
    "western_europe_others": "Western Europe and others",
    "global": "worldwide",
}


@dataclass(frozen=True, slots=True)
class Weights:
    """The weight of each component in a score (the service reads them from its settings).

    Examples
    --------
    >>> Weights().as_dict()["theme"]
    0.55
    """

    text: float = 0.45
    theme: float = 0.55
    language: float = 0.05
    presence: float = 0.08
    modality: float = 0.07
    history: float = 0.05

    def as_dict(self) -> dict[str, float]:
        return {
            "text": self.text,
            "theme": self.theme,
            "language": self.language,
            "presence": self.presence,
            "modality": self.modality,
            "history": self.history,
        }


@dataclass(frozen=True, slots=True)
class ProviderFacts:
    """What the ranking knows of a provider besides its text."""

    id: str
    kind: str = ""
    themes: tuple[str, ...] = ()
    languages: frozenset[str] = frozenset()
    countries: frozenset[str] = frozenset()
    regions: frozenset[str] = frozenset()
    modalities: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class NeedFacts:
    """What the ranking knows of a need besides its text."""

    id: str
    state: str
    status: str = "open"
    visibility: str = "public"
    themes: tuple[str, ...] = ()
    languages: frozenset[str] = frozenset()
    modalities: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Preferences:
    """What the asking side wants, for the signals."""

    state: str | None = None
    themes: tuple[str, ...] = ()
    languages: frozenset[str] = frozenset()
    modalities: frozenset[str] = frozenset()
    #: The texts the query is made of (a need's cited recommendations): its predicted themes are
    #: the maximum over them. Empty: the query text is tagged whole.
    parts: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ProviderFilters:
    """Hard filters on providers: a provider must satisfy every one given."""

    kinds: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()
    countries: frozenset[str] = frozenset()
    regions: frozenset[str] = frozenset()
    modalities: frozenset[str] = frozenset()


#: No hard filter: every provider is a candidate.
NO_FILTERS = ProviderFilters()


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


F = TypeVar("F", ProviderFacts, NeedFacts)


@dataclass(frozen=True, slots=True)
class Corpus(Generic[F]):
    """One side of the matching (providers or needs) as it stood at one moment.

    Never changed once built: the service publishes a new one after each change, so a ranking
    in progress reads one consistent state. ``matcher`` must not be changed either (the service
    passes :meth:`TfidfMatcher.view`).
    """

    matcher: TfidfMatcher | None
    facts: Mapping[str, F]
    vectors: Mapping[str, Vector] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.facts)


def provider_text(name: str, acronym: str | None, description: str, themes: Sequence[str]) -> str:
    """What the engine reads for a provider: name, acronym, description and declared themes.

    Examples
    --------
    >>> provider_text("Rights Lab", None, "Trains judges.", [])
    'Rights Lab\\nTrains judges.'
    """
    parts = [name, acronym or "", description, ". ".join(themes)]
    return "\n".join(p for p in parts if p)


def need_text(title: str, description: str, recommendation_texts: Sequence[str], themes: Sequence[str]) -> str:
    """What the engine reads for a need: its title, description, the recommendations it cites, its themes.

    Examples
    --------
    >>> need_text("Prisons", "", ["Ratify OPCAT"], ["Detention"])
    'Prisons\\nRatify OPCAT\\nDetention'
    """
    return "\n".join(p for p in [title, description, *recommendation_texts, ". ".join(themes)] if p)


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
    >>> import numpy as np
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
    """

    weights: Weights = Weights()
    themes: ThemeSpace = ThemeSpace()
    regions: Mapping[str, str] = field(default_factory=dict)
    language_name: Callable[[str], str] = _identity

    def region_of(self, state: str | None) -> str | None:
        return self.regions.get(state or "")

    # --- providers for a need or a text -------------------------------------------------------

    def allowed_providers(self, providers: Corpus[ProviderFacts], filters: ProviderFilters) -> list[str]:
        """Ids of the providers passing every hard filter."""
        out = []
        # A provider "present in" a State works there, in its region, or worldwide.
        wanted_regions = set(filters.regions) | {r for c in filters.countries if (r := self.region_of(c))} | {"global"}
        for facts in providers.facts.values():
            if filters.kinds and facts.kind not in filters.kinds:
                continue
            if filters.languages and not (facts.languages & filters.languages):
                continue
            if filters.modalities and not (facts.modalities & filters.modalities):
                continue
            if filters.countries or filters.regions:
                countries_ok = bool(facts.countries & filters.countries)
                regions_ok = bool(facts.regions & wanted_regions)
                if not (countries_ok or regions_ok):
                    continue
            out.append(facts.id)
        return out

    def rank_providers(
        self,
        providers: Corpus[ProviderFacts],
        query: str,
        prefs: Preferences,
        *,
        filters: ProviderFilters = NO_FILTERS,
        history: History | None = None,
        limit: int = 10,
        min_score: float = 0.0,
    ) -> list[Ranked]:
        """Providers ranked for a need (or free text), best first."""
        allowed = self.allowed_providers(providers, filters)
        q_vec = self.themes.vector(query, prefs.themes, parts=prefs.parts or None)
        text_hits = _text_hits(providers.matcher, self.themes.expand(query, q_vec, prefs.themes), allowed)
        history = history or {}
        weights = self.weights
        need_themes = _fold(prefs.themes)
        any_history = any(a or b for a, b in history.values())
        words = _words_of(query)
        ranked = []
        for pid in allowed:
            facts = providers.facts[pid]
            hit = text_hits.get(pid)
            found = self._text_and_theme(hit, q_vec, providers.vectors.get(pid), prefs.themes, facts.themes)
            if found is None:
                continue
            signals, shared = found
            if prefs.languages:
                signals["language"] = self._language(prefs.languages, facts.languages)
            if prefs.state:
                signals["presence"] = self._presence(prefs.state, facts.countries, facts.regions)
            if prefs.modalities:
                signals["modality"] = _modality(prefs.modalities, facts.modalities, weights.modality)
            if any_history and (prefs.state or need_themes):
                signals["history"] = _history(history.get(pid, (False, False)), prefs.state, weights.history)
            ranked.append(_finish(pid, hit, shared, signals, words))
        return _top(ranked, limit, min_score)

    # --- needs for a provider -------------------------------------------------------------------

    def rank_needs(
        self,
        needs: Corpus[NeedFacts],
        query: str,
        provider: ProviderFacts,
        *,
        visible: Sequence[str],
        limit: int = 10,
        min_score: float = 0.0,
    ) -> list[Ranked]:
        """Open needs (among ``visible``) ranked for a provider, best first."""
        allowed = [nid for nid in visible if nid in needs.facts and needs.facts[nid].status != "closed"]
        text_hits = _text_hits(needs.matcher, query, allowed)
        weights = self.weights
        found_vec = self.themes.vectors([query], [provider.themes], by_sentence=True)
        p_vec = found_vec[0] if found_vec else None
        ranked = []
        for nid in allowed:
            facts = needs.facts[nid]
            hit = text_hits.get(nid)
            found = self._text_and_theme(hit, needs.vectors.get(nid), p_vec, facts.themes, provider.themes)
            if found is None:
                continue
            signals, shared = found
            signals["presence"] = self._presence(facts.state, provider.countries, provider.regions)
            if facts.languages:
                signals["language"] = self._language(facts.languages, provider.languages)
            if facts.modalities:
                signals["modality"] = _modality(facts.modalities, provider.modalities, weights.modality)
            ranked.append(_finish(nid, hit, shared, signals))
        return _top(ranked, limit, min_score)

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
            return Signal(0.6, weight, f"works in the region ({REGION_LABELS.get(region, region)})")
        if "global" in regions:
            return Signal(0.3, weight, "works worldwide")
        return Signal(0.0, weight, "no presence recorded in the State or its region")


def _text_hits(matcher: TfidfMatcher | None, query: str, allowed: Sequence[str]) -> dict[str, Match]:
    """The text score of every allowed document sharing a term with the query, with its terms."""
    if matcher is None or not query.strip():
        return {}
    top_k = max(1, len(matcher))
    return {m.id: m for m in matcher.match(query, top_k=top_k, allowed_ids=allowed)}


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
        f"has completed cooperation with {state}"
        if with_state
        else "has completed cooperation on these themes"
        if on_themes
        else "no completed cooperation recorded"
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


def _top(ranked: list[Ranked], limit: int, min_score: float) -> list[Ranked]:
    kept = [r for r in ranked if r.score >= min_score]
    kept.sort(key=lambda r: (-r.score, r.id))
    return kept[:limit]


def _summary(terms: Sequence[tuple[str, float]], shared: Sequence[str], signals: Mapping[str, Signal]) -> str:
    """The explanation in words, e.g. 'shares: detention, torture; works in the region (Africa); offers training'."""
    parts = []
    words = [t for t, _ in terms[:4]]
    if shared or words:
        parts.append(
            "shares: " + ", ".join([*shared[:4], *[w for w in words if w.casefold() not in _fold(shared)]][:6])
        )
    for name in ("presence", "language", "modality", "history"):
        signal = signals.get(name)
        if signal is not None and signal.value > 0:
            parts.append(signal.detail)
    return "; ".join(parts)
