"""What the ranking knows of each side besides the texts: facts, filters, and a side as a :class:`Corpus`.

A :class:`Corpus` holds one side of the matching (providers or needs) as it stood at one moment:
its text index, the facts and theme vectors of every object, and the same as columns
(:mod:`matching.columns`) for scoring every candidate at once. :mod:`matching.ranking` re-exports
everything here.

Examples
--------
>>> corpus = Corpus(None, {"apt": ProviderFacts("apt", languages=frozenset({"en"}))})
>>> len(corpus), corpus.table.any_of("languages", ["en"]).tolist()
(1, [True])
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import numpy as np
import numpy.typing as npt

from matching.columns import Columns, ColumnsWriter, Mask
from matching.matcher import TfidfMatcher

__all__ = [
    "FACT_COLUMNS",
    "EVERY_RECOMMENDATION",
    "NO_FILTERS",
    "Corpus",
    "NeedAudience",
    "NeedFacts",
    "Preferences",
    "RecommendationFacts",
    "RecommendationFilters",
    "ProviderFacts",
    "ProviderFilters",
    "allowed_recommendations",
    "allowed_rows",
    "fact_values",
    "fold",
    "rows_in_regions",
    "visible_needs",
]

Vector = npt.NDArray[np.float64]
#: The facts a :class:`Corpus` keeps as columns (:func:`fact_values`).
FACT_COLUMNS = (
    *("kind", "languages", "countries", "regions", "modalities", "themes", "state", "status", "visibility"),
    *("cycle", "session", "response", "affected"),
)


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
class RecommendationFacts:
    """What the ranking knows of a recommendation besides its text (``affected``: the persons it concerns)."""

    id: str
    state: str
    cycle: int = 0
    session: int = 0
    response: str = ""
    themes: tuple[str, ...] = ()
    affected: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class RecommendationFilters:
    """Hard filters on recommendations: one must satisfy every one given (themes: any of them)."""

    states: frozenset[str] = frozenset()
    cycles: frozenset[int] = frozenset()
    sessions: frozenset[int] = frozenset()
    responses: frozenset[str] = frozenset()
    themes: frozenset[str] = frozenset()


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
#: No hard filter: every recommendation is a candidate.
EVERY_RECOMMENDATION = RecommendationFilters()


F = TypeVar("F", ProviderFacts, NeedFacts, RecommendationFacts)


def fold(values: Iterable[str]) -> frozenset[str]:
    """The values case-folded, as a set."""
    return frozenset(v.casefold() for v in values)


@dataclass(frozen=True, slots=True)
class NeedAudience:
    """Which needs the asking side may see: every one, or those of these visibilities or States."""

    everything: bool = False
    visibilities: frozenset[str] = frozenset({"public"})
    states: frozenset[str] = frozenset()

    def allows(self, facts: NeedFacts) -> bool:
        return self.everything or facts.visibility in self.visibilities or facts.state in self.states


def fact_values(facts: ProviderFacts | NeedFacts | RecommendationFacts) -> dict[str, Iterable[str]]:
    """The set-valued facts of a provider, a need or a recommendation, by column name (:data:`FACT_COLUMNS`);
    themes case-folded."""
    if isinstance(facts, RecommendationFacts):
        return {
            "state": (facts.state,),
            "cycle": (str(facts.cycle),),
            "session": (str(facts.session),),
            "response": (facts.response,),
            "themes": fold(facts.themes),
            "affected": facts.affected,
        }
    if isinstance(facts, ProviderFacts):
        return {
            "kind": (facts.kind,),
            "languages": facts.languages,
            "countries": facts.countries,
            "regions": facts.regions,
            "modalities": facts.modalities,
            "themes": fold(facts.themes),
        }
    return {
        "state": (facts.state,),
        "status": (facts.status,),
        "visibility": (facts.visibility,),
        "languages": facts.languages,
        "modalities": facts.modalities,
        "themes": fold(facts.themes),
    }


@dataclass(frozen=True, slots=True)
class Corpus(Generic[F]):
    """One side of the matching (providers or needs) as it stood at one moment.

    Never changed once built: the service publishes a new one after each change, so a ranking
    in progress reads one consistent state. ``matcher`` must not be changed either (the service
    passes :meth:`TfidfMatcher.view`). ``columns`` are the facts and vectors as columns; the
    service keeps them current with a :class:`~matching.columns.ColumnsWriter`, otherwise they
    are built here from ``facts`` and ``vectors``.
    """

    matcher: TfidfMatcher | None
    facts: Mapping[str, F]
    vectors: Mapping[str, Vector] = field(default_factory=dict)
    columns: Columns | None = None
    #: ``columns``, built when not given.
    table: Columns = field(init=False, repr=False, compare=False)
    #: Per row of ``table``: the matcher's position of its id, -1 when not indexed.
    text_positions: npt.NDArray[np.intp] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        table = self.columns
        if table is None:
            n_themes = len(next(iter(self.vectors.values()))) if self.vectors else None
            writer = ColumnsWriter(FACT_COLUMNS, n_themes)
            for obj_id, facts in self.facts.items():
                writer.put(obj_id, fact_values(facts), self.vectors.get(obj_id))
            table = writer.freeze()
        object.__setattr__(self, "table", table)
        ids = table.ids_of(range(table.n))
        positions = self.matcher.positions(ids) if self.matcher is not None else np.full(table.n, -1, dtype=np.intp)
        object.__setattr__(self, "text_positions", positions)

    def __len__(self) -> int:
        return len(self.facts)


def visible_needs(needs: Corpus[NeedFacts], visible: Sequence[str] | NeedAudience) -> Mask:
    """The open needs (not closed) among ``visible``: the ids named, or those the audience may see."""
    table = needs.table
    if isinstance(visible, NeedAudience):
        seen = table.alive.copy()
        if not visible.everything:
            seen &= table.any_of("visibility", visible.visibilities) | table.any_of("state", visible.states)
    else:
        seen = table.mask_of(visible)
    open_needs: Mask = seen & ~table.any_of("status", ["closed"])
    return open_needs


def allowed_rows(table: Columns, filters: ProviderFilters, regions: Mapping[str, str]) -> Mask:
    """The live provider rows passing every hard filter (``regions``: ISO3 -> UN regional group).

    A provider "present in" a State works there, in its region, or worldwide.
    """
    ok = table.alive.copy()
    if filters.kinds:
        ok &= table.any_of("kind", filters.kinds)
    if filters.languages:
        ok &= table.any_of("languages", filters.languages)
    if filters.modalities:
        ok &= table.any_of("modalities", filters.modalities)
    if filters.countries or filters.regions:
        wanted_regions = set(filters.regions) | {r for c in filters.countries if (r := regions.get(c))}
        ok &= table.any_of("countries", filters.countries) | table.any_of("regions", wanted_regions | {"global"})
    return ok


def rows_in_regions(table: Columns, wanted: Iterable[str | None], regions: Mapping[str, str]) -> Mask:
    """Need rows whose State is in one of the ``wanted`` UN regional groups."""
    groups = {r for r in wanted if r}
    return table.any_of("state", [state for state, region in regions.items() if region in groups])


def allowed_recommendations(table: Columns, filters: RecommendationFilters) -> Mask:
    """The live recommendation rows passing every hard filter."""
    ok = table.alive.copy()
    if filters.states:
        ok &= table.any_of("state", filters.states)
    if filters.cycles:
        ok &= table.any_of("cycle", [str(c) for c in filters.cycles])
    if filters.sessions:
        ok &= table.any_of("session", [str(s) for s in filters.sessions])
    if filters.responses:
        ok &= table.any_of("response", filters.responses)
    if filters.themes:
        ok &= table.any_of("themes", fold(filters.themes))
    return ok
