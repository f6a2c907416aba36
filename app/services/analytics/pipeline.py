"""The implementation pipeline of supported recommendations, and the funding context per SDG.

Each supported recommendation (other sources' copies aside: each counts once) is at the furthest
stage it reached, so the stages add up to the supported count:

- **requested**: cited by an open, matched or in-progress need the caller may see;
- **under way**: cited by a confirmed planned or ongoing activity the caller may see;
- **done**: cited by a confirmed completed activity the caller may see;
- **not started**: none of these.

A need or activity citing another source's copy of a recommendation counts for the record that
counts (`linking.counted_ids`). The funding context sets, per SDG, the USD required and available
in the UN country teams' cooperation frameworks next to the supported recommendations and the
open needs on that SDG (a recommendation reaches an SDG through its labels or its themes).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Select, Subquery, case, func, literal, select, union_all
from sqlmodel import Session, col

from app.core import i18n
from app.core.i18n import N_, gettext
from app.core.identity import Principal
from app.core.pagination import PageParams
from app.models.activity import Activity, ActivityRecommendation
from app.models.analytics import FundingPage, FundingResource, FundingRow, PipelinePage, PipelineRow
from app.models.common import table_of
from app.models.need import Need, NeedRecommendation
from app.models.recommendation import Recommendation
from app.reference.countries import display_name
from app.reference.regions import REGIONAL_GROUPS
from app.reference.themes import theme_index_values, theme_name
from app.reference.vocab import SDG_NAMES
from app.services import access
from app.services.analytics.cache import cached
from app.services.analytics.reference import folded_theme_sdgs, region_of, sdgs_of
from app.services.analytics.slices import Slice, need_conditions, recommendation_conditions

R = table_of(Recommendation)
PipelineBy = Literal["theme", "state", "region", "sdg"]
REQUESTING = ("open", "matched", "in_progress")
NOT_STARTED, REQUESTED, UNDER_WAY, DONE = 0, 1, 2, 3
NO_THEME = "No theme"
NO_SDG = "No SDG"


def sdg_label(sdg: int) -> str:
    return f"SDG {sdg}: {SDG_NAMES.get(sdg, '')}".rstrip(": ")


@dataclass(frozen=True, slots=True)
class RecommendationStage:
    """One supported recommendation of the slice and the furthest stage it reached."""

    id: str
    state: str
    themes: tuple[str, ...]
    sdgs: frozenset[int]
    stage: int


@dataclass(slots=True)
class _Tally:
    supported: int = 0
    stages: list[int] = field(default_factory=lambda: [0, 0, 0, 0])

    def add(self, stage: int) -> None:
        self.supported += 1
        self.stages[stage] += 1

    def row(self, key: str, label: str) -> PipelineRow:
        return PipelineRow(
            key=key,
            label=label,
            supported=self.supported,
            not_started=self.stages[NOT_STARTED],
            requested=self.stages[REQUESTED],
            under_way=self.stages[UNDER_WAY],
            done=self.stages[DONE],
        )


def _stages(principal: Principal, states: frozenset[str] | None) -> Subquery:
    """(rid, stage): the furthest stage of each recommendation cited by what the caller may see."""
    nr, ar = table_of(NeedRecommendation), table_of(ActivityRecommendation)
    by_need = (
        select(nr.c.recommendation_id.label("rid"), literal(REQUESTED).label("stage"))
        .join(Need, col(Need.id) == nr.c.need_id)
        .where(col(Need.status).in_(REQUESTING), access.need_read_clause(principal))
    )
    by_activity = (
        select(
            ar.c.recommendation_id.label("rid"),
            case((col(Activity.status) == "completed", DONE), else_=UNDER_WAY).label("stage"),
        )
        .join(Activity, col(Activity.id) == ar.c.activity_id)
        .where(col(Activity.confirmation) == "confirmed", access.activity_read_clause(principal))
    )
    if states is not None:
        by_need = by_need.where(col(Need.state).in_(sorted(states)))
        by_activity = by_activity.where(col(Activity.state).in_(sorted(states)))
    cited = union_all(by_need, by_activity).subquery("cited")
    copy = R.alias("cited_copy")
    counted = (
        select(func.coalesce(copy.c.canonical_id, copy.c.id).label("rid"), cited.c.stage)
        .join_from(cited, copy, copy.c.id == cited.c.rid)
        .subquery("counted")
    )
    return select(counted.c.rid, func.max(counted.c.stage).label("stage")).group_by(counted.c.rid).subquery("stages")


def recommendation_stages(session: Session, *, principal: Principal, piece: Slice) -> list[RecommendationStage]:
    """Every supported recommendation of the slice (each once) with its stage.

    The stages of the cited recommendations are read first (a few rows per need and activity),
    then the slice's recommendations: joining the grouped stages to every recommendation in SQL
    made SQLite evaluate the grouping once per recommendation.
    """
    stages_of = {rid: int(stage) for rid, stage in session.execute(select(_stages(principal, piece.state_set())))}
    query: Select[Any] = select(R.c.id, R.c.state_under_review, R.c.themes, R.c.sdgs).where(
        R.c.response == "supported",
        R.c.canonical_id.is_(None),
        R.c.withdrawn_at.is_(None),
        *recommendation_conditions(piece),
    )
    return [
        RecommendationStage(
            rid,
            state,
            tuple(themes or ()),
            frozenset(sdgs_of(themes or (), sdgs or ())),
            stages_of.get(rid, NOT_STARTED),
        )
        for rid, state, themes, sdgs in session.execute(query)
    ]


def _keys(item: RecommendationStage, by: PipelineBy, piece: Slice) -> Iterable[tuple[str, str]]:
    """The groups (key, label) a recommendation counts in."""
    if by == "state":
        return [(item.state, display_name(item.state))]
    if by == "region":
        region = region_of(item.state)
        return [(region, REGIONAL_GROUPS[region])] if region else [("none", "Not in a UN regional group")]
    if by == "sdg":
        sdgs = [s for s in sorted(item.sdgs) if not piece.sdgs or s in piece.sdgs]
        return [(str(s), sdg_label(s)) for s in sdgs] or [("none", NO_SDG)]
    # The controlled themes of its labels (a code and its label; a label mapping to none, itself).
    themes = [t for t in theme_index_values(item.themes) if not piece.themes or t in piece.themes]
    return [(t, theme_name(t)) for t in themes] or [("none", NO_THEME)]


def pipeline_rows(
    items: Sequence[RecommendationStage], *, by: PipelineBy, piece: Slice
) -> tuple[list[PipelineRow], PipelineRow]:
    """The pipeline per group, largest first, and the totals (each recommendation once)."""
    groups: dict[tuple[str, str], _Tally] = defaultdict(_Tally)
    total = _Tally()
    for item in items:
        total.add(item.stage)
        for key in _keys(item, by, piece):
            groups[key].add(item.stage)
    rows = [tally.row(key, label) for (key, label), tally in groups.items()]
    rows.sort(key=lambda r: (-r.supported, r.label))
    return rows, total.row("all", piece.describe())


def get_pipeline(
    session: Session, *, principal: Principal, piece: Slice, by: PipelineBy = "theme", page: PageParams | None = None
) -> PipelinePage:
    """`GET /v1/analytics/pipeline`: one page of groups and the slice's totals."""
    page = page or PageParams(limit=100, offset=0)

    def compute() -> tuple[list[PipelineRow], PipelineRow]:
        return pipeline_rows(recommendation_stages(session, principal=principal, piece=piece), by=by, piece=piece)

    rows, totals = cached(session, principal, ("pipeline", piece, by), compute)
    return PipelinePage(
        items=rows[page.offset : page.offset + page.limit],
        total=len(rows),
        limit=page.limit,
        offset=page.offset,
        by=by,
        # The slice in words in this answer's language: the cache is shared by every language.
        totals=totals.model_copy(update={"label": piece.describe()}),
    )


# --- funding ---------------------------------------------------------------------------------


def _open_needs_by_sdg(session: Session, *, principal: Principal, piece: Slice) -> dict[int, set[str]]:
    """Open needs of the slice per SDG: through the recommendations they cite, or their own themes."""
    nr = table_of(NeedRecommendation)
    visible = (col(Need.status) == "open", access.need_read_clause(principal), *need_conditions(piece))
    found: dict[int, set[str]] = defaultdict(set)
    cited = (
        select(col(Need.id), R.c.themes, R.c.sdgs)
        .join(nr, nr.c.need_id == col(Need.id))
        .join(R, R.c.id == nr.c.recommendation_id)
        .where(*visible)
    )
    for need_id, themes, sdgs in session.execute(cited):
        for sdg in sdgs_of(themes or (), sdgs or ()):
            found[sdg].add(need_id)
    folded = folded_theme_sdgs()
    for need_id, themes in session.execute(select(col(Need.id), col(Need.themes)).where(*visible)):
        for theme in themes or ():
            for sdg in folded.get(str(theme).casefold(), ()):
                found[sdg].add(need_id)
    return found


def funding_rows(session: Session, *, principal: Principal, piece: Slice) -> tuple[list[FundingRow], int]:
    """Per SDG: USD required, available and the gap, with the supported recommendations and open needs on it."""
    states = piece.state_set()
    query = select(FundingResource)
    if states is not None:
        query = query.where(col(FundingResource.state).in_(sorted(states)))
    required: dict[int, float] = defaultdict(float)
    available: dict[int, float] = defaultdict(float)
    stated: dict[int, set[str]] = defaultdict(set)
    counted: dict[int, set[str]] = defaultdict(set)
    with_data: set[str] = set()
    for row in session.scalars(query):
        if piece.sdgs and row.sdg not in piece.sdgs:
            continue
        with_data.add(row.state)
        stated[row.sdg].add(row.state)
        # Only a State stating both figures is summed, so that required - available = gap on every row:
        # a State stating one figure alone would add to one column and not to the other.
        if row.required is not None and row.available is not None:
            required[row.sdg] += row.required
            available[row.sdg] += row.available
            counted[row.sdg].add(row.state)
    recommendations: dict[int, int] = defaultdict(int)
    for item in recommendation_stages(session, principal=principal, piece=piece):
        for sdg in item.sdgs:
            recommendations[sdg] += 1
    needs = _open_needs_by_sdg(session, principal=principal, piece=piece)
    sdgs = sorted(
        s
        for s in set(stated) | set(recommendations) | set(needs)
        if 1 <= s <= 17 and (not piece.sdgs or s in piece.sdgs)
    )
    rows = [
        FundingRow(
            sdg=s,
            required=round(required[s], 2) if s in counted else None,
            available=round(available[s], 2) if s in counted else None,
            gap=round(required[s] - available[s], 2) if s in counted else None,
            states_with_data=len(stated.get(s, ())),
            states_counted=len(counted.get(s, ())),
            supported_recommendations=recommendations.get(s, 0),
            open_needs=len(needs.get(s, ())),
        )
        for s in sdgs
    ]
    rows.sort(key=lambda r: (r.gap is None, -(r.gap or 0.0), r.sdg))
    return rows, len(with_data)


# What the source says, and does not say, of the period a figure covers.
FRAMEWORK_YEARS = N_(
    "Each figure covers the whole cooperation framework a country had when UN INFO was read (1 February 2026), "
    "several years, not one: the data does not give each framework's years."
)


def funding_source(session: Session) -> tuple[str, datetime | None]:
    """Where the funding figures come from, in the current language (English words when none is asked)."""
    last = session.execute(select(func.max(col(FundingResource.imported_at)))).scalar()
    if last is None:
        return gettext("No funding figures imported yet: an administrator runs upr-match import-funding."), None
    english = i18n.current_language() == i18n.DEFAULT_LANGUAGE
    words = {"day": f"{last:%d %B %Y}" if english else i18n.day(last, "long"), "years": gettext(FRAMEWORK_YEARS)}
    return (
        gettext(
            "UN INFO: resources required and available in the UN country teams' cooperation frameworks, "
            "per country and SDG (imported %(day)s). %(years)s"
        )
        % words,
        last,
    )


def get_funding(session: Session, *, principal: Principal, piece: Slice, page: PageParams | None = None) -> FundingPage:
    """`GET /v1/analytics/funding`: one page of SDGs, largest funding gap first."""
    page = page or PageParams(limit=100, offset=0)
    rows, with_data = cached(
        session, principal, ("funding", piece), lambda: funding_rows(session, principal=principal, piece=piece)
    )
    source, imported_at = funding_source(session)
    return FundingPage(
        items=rows[page.offset : page.offset + page.limit],
        total=len(rows),
        limit=page.limit,
        offset=page.offset,
        states_with_data=with_data,
        source=source,
        imported_at=imported_at,
    )


__all__ = [
    "SDG_NAMES",
    "PipelineBy",
    "RecommendationStage",
    "funding_rows",
    "get_funding",
    "get_pipeline",
    "pipeline_rows",
    "recommendation_stages",
    "sdg_label",
]
