"""A slice of the data: which States, themes, SDGs and cycles a measure is computed over.

Values of one dimension are alternatives (any of them); dimensions combine (all of them).
`state`, `region` and `group` (LDC, SIDS) all select States: the slice's States are those in
every one given. `theme` is a controlled theme (`app/reference/themes.py`): its code, its label or any
source's label mapped to it, held as the codes (a label that maps to none as itself); `sdg` reaches a
recommendation through its SDG labels or its themes (`theme_sdg.json`); `cycle` is the UPR cycle.
A need is in the slice when its State is, and, for `theme`, `sdg` and `cycle`, when one of its
themes matches or it cites a recommendation that does.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, exists, or_, select
from sqlmodel import col

from app.core.i18n import N_, current_language, gettext
from app.models.common import table_of
from app.models.need import Need, NeedRecommendation, NeedTheme
from app.models.recommendation import Recommendation, RecommendationSdg, RecommendationTheme
from app.reference.regions import regional_groups
from app.reference.themes import resolve_theme, spellings_of, theme_index_values, theme_name, translated_label
from app.services.analytics.reference import folded_theme_sdgs, group_members, themes_on_sdgs

R = table_of(Recommendation)


@dataclass(frozen=True, slots=True)
class Slice:
    """The query parameters of every analytics measure, normalised (sorted, deduplicated)."""

    states: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    themes: tuple[str, ...] = ()
    sdgs: tuple[int, ...] = ()
    cycles: tuple[int, ...] = ()

    @classmethod
    def of(
        cls,
        *,
        states: Iterable[str] | None = None,
        regions: Iterable[str] | None = None,
        groups: Iterable[str] | None = None,
        themes: Iterable[str] | None = None,
        sdgs: Iterable[int] | None = None,
        cycles: Iterable[int] | None = None,
    ) -> Slice:
        return cls(
            states=tuple(sorted({s.strip().upper() for s in states or ()})),
            regions=tuple(sorted(set(regions or ()))),
            groups=tuple(sorted({g.lower() for g in groups or ()})),
            themes=tuple(sorted({v for t in themes or () if t.strip() for v in resolve_theme(t)})),
            sdgs=tuple(sorted(set(sdgs or ()))),
            cycles=tuple(sorted(set(cycles or ()))),
        )

    def state_set(self) -> frozenset[str] | None:
        """The States selected by `state`, `region` and `group` together (None: every State)."""
        selected: frozenset[str] | None = None
        if self.states:
            selected = frozenset(self.states)
        if self.regions:
            wanted = set(self.regions)
            members = frozenset(code for code, group in regional_groups().items() if group in wanted)
            selected = members if selected is None else selected & members
        if self.groups:
            members = frozenset().union(*(group_members(g) for g in self.groups))
            selected = members if selected is None else selected & members
        return selected

    def describe(self) -> str:
        """The slice in words, for reports and exports."""
        parts = []
        language = current_language()
        for name, values in (
            (N_("State %(values)s"), self.states),
            (N_("regional group %(values)s"), self.regions),
            (N_("group %(values)s"), tuple(g.upper() for g in self.groups)),
            (N_("theme %(values)s"), tuple(translated_label(theme_name(t), language) for t in self.themes)),
            (N_("SDG %(values)s"), self.sdgs),
            (N_("cycle %(values)s"), self.cycles),
        ):
            if values:
                parts.append(gettext(name) % {"values": gettext(" or ").join(str(v) for v in values)})
        return "; ".join(parts) if parts else gettext("every State")


def _in(column: Any, values: frozenset[str] | tuple[Any, ...]) -> ColumnElement[bool]:
    return column.in_(sorted(values)) if values else col(Recommendation.id).is_(None)


def recommendation_conditions(piece: Slice) -> list[ColumnElement[bool]]:
    """The slice's conditions on `recommendation` (States, cycles, themes, SDGs)."""
    conds: list[ColumnElement[bool]] = []
    states = piece.state_set()
    if states is not None:
        conds.append(_in(R.c.state_under_review, states))
    if piece.cycles:
        conds.append(R.c.cycle.in_(piece.cycles))
    if piece.themes:
        conds.append(
            exists().where(
                col(RecommendationTheme.recommendation_id) == R.c.id, col(RecommendationTheme.theme).in_(piece.themes)
            )
        )
    if piece.sdgs:
        linked = theme_index_values(themes_on_sdgs(piece.sdgs))
        by_label = exists().where(
            col(RecommendationSdg.recommendation_id) == R.c.id, col(RecommendationSdg.sdg).in_(piece.sdgs)
        )
        by_theme = exists().where(
            col(RecommendationTheme.recommendation_id) == R.c.id, col(RecommendationTheme.theme).in_(linked)
        )
        conds.append(or_(by_label, by_theme) if linked else by_label)
    return conds


def _cites(piece: Slice) -> ColumnElement[bool]:
    """The need cites a recommendation of this (theme / SDG / cycle) slice."""
    return exists(
        select(col(NeedRecommendation.recommendation_id))
        .join(Recommendation, col(Recommendation.id) == col(NeedRecommendation.recommendation_id))
        .where(col(NeedRecommendation.need_id) == col(Need.id), *recommendation_conditions(piece))
    )


def _has_theme(folded: list[str]) -> ColumnElement[bool]:
    return exists().where(col(NeedTheme.need_id) == col(Need.id), col(NeedTheme.theme).in_(folded))


def need_conditions(piece: Slice) -> list[ColumnElement[bool]]:
    """The slice's conditions on `need`: its State, and its themes or the recommendations it cites."""
    conds: list[ColumnElement[bool]] = []
    states = piece.state_set()
    if states is not None:
        conds.append(col(Need.state).in_(sorted(states)) if states else col(Need.id).is_(None))
    if piece.themes:
        own = _has_theme(sorted(spellings_of(piece.themes)))
        conds.append(or_(own, _cites(Slice(themes=piece.themes))))
    if piece.sdgs:
        folded = [t for t, sdgs in folded_theme_sdgs().items() if set(sdgs) & set(piece.sdgs)]
        by_citation = _cites(Slice(sdgs=piece.sdgs))
        conds.append(or_(_has_theme(folded), by_citation) if folded else by_citation)
    if piece.cycles:
        conds.append(_cites(Slice(cycles=piece.cycles)))
    return conds


__all__ = ["Slice", "need_conditions", "recommendation_conditions"]
