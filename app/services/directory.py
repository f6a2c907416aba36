"""Read-side summaries behind the directory pages: States with their counts, theme lists, what the data covers.

Each function is a fixed number of grouped queries, whatever the number of rows,
and counts needs and activities only as far as the caller may see them
(`services.access`), so a hidden need is neither listed nor counted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, case, distinct, func, select
from sqlmodel import Session, col

from app.core.identity import Principal
from app.models.activity import Activity
from app.models.need import Need
from app.models.provider import Provider
from app.models.recommendation import Recommendation
from app.reference.themes import theme_index_values, theme_name
from app.services import access


def counted() -> ColumnElement[bool]:
    """The recommendations every count shows (home, `/recommendations`, `/states`, a State's page).

    A recommendation counts once: another source's copy of it (`canonical_id` set) and a record
    withdrawn from its source's export are kept but not counted.
    """
    return and_(col(Recommendation.canonical_id).is_(None), col(Recommendation.withdrawn_at).is_(None))


@dataclass(frozen=True, slots=True)
class StateCounts:
    """One State: recommendations it received and supported, and the needs and activities the caller sees."""

    state: str
    recommendations: int
    supported: int
    needs: int
    activities: int


@dataclass(frozen=True, slots=True)
class CycleCoverage:
    """One UPR cycle in the data: how many recommendations, to how many States."""

    cycle: int
    recommendations: int
    states: int


@dataclass(frozen=True, slots=True)
class Coverage:
    """What the repository holds, for the front page."""

    recommendations: int
    records: int  # every stored record, copies and withdrawn ones included
    states: int
    cycles: list[CycleCoverage]
    providers: int
    needs: int
    activities: int


def list_state_counts(session: Session, *, principal: Principal) -> list[StateCounts]:
    """Every State with recommendations, needs or activities, with its counts (in code order)."""
    state = col(Recommendation.state_under_review)
    supported = func.coalesce(func.sum(case((col(Recommendation.response) == "supported", 1), else_=0)), 0)
    recs = {
        code: (int(total), int(ok))
        for code, total, ok in session.execute(
            select(state, func.count(), supported).where(counted()).group_by(state)
        ).all()
    }
    needs = _count_by_state(session, Need, access.need_read_clause(principal))
    activities = _count_by_state(session, Activity, access.activity_read_clause(principal))
    codes = sorted(set(recs) | set(needs) | set(activities))
    return [
        StateCounts(
            state=code,
            recommendations=recs.get(code, (0, 0))[0],
            supported=recs.get(code, (0, 0))[1],
            needs=needs.get(code, 0),
            activities=activities.get(code, 0),
        )
        for code in codes
    ]


def _count_by_state(
    session: Session, model: type[Need] | type[Activity], visible: ColumnElement[bool]
) -> dict[str, int]:
    column = col(model.state)
    rows = session.execute(select(column, func.count()).where(visible).group_by(column)).all()
    return {str(code): int(n) for code, n in rows}


def provider_names(session: Session) -> list[tuple[str, str]]:
    """(id, name) of every provider, by name: the choices of a form that names a provider."""
    rows = session.execute(select(col(Provider.id), col(Provider.name))).all()
    return sorted(((str(i), str(n)) for i, n in rows), key=lambda pair: (pair[1].casefold(), pair[0]))


def provider_themes(session: Session) -> list[tuple[str, int]]:
    """The controlled themes providers declare (codes), with how many declare each, most common first."""
    return _theme_counts(session.execute(select(col(Provider.themes))).scalars())


def need_themes(session: Session, *, principal: Principal) -> list[tuple[str, int]]:
    """The controlled themes of the needs the caller may see (codes), with how many needs have each, most first."""
    return _theme_counts(session.execute(select(col(Need.themes)).where(access.need_read_clause(principal))).scalars())


def _theme_counts(theme_lists: Iterable[list[str] | None]) -> list[tuple[str, int]]:
    """Per controlled theme (its code; a label outside the list as itself), how many lists have it, most first."""
    counts: Counter[str] = Counter()
    for themes in theme_lists:
        counts.update(theme_index_values(str(t) for t in themes or []))
    return sorted(counts.items(), key=lambda kv: (-kv[1], theme_name(kv[0])))


def need_status_counts(session: Session, *, principal: Principal, state: str | None = None) -> dict[str, int]:
    """How many needs the caller may see are in each status (of one State when given)."""
    conditions = [access.need_read_clause(principal)]
    if state:
        conditions.append(col(Need.state) == state)
    rows = session.execute(select(col(Need.status), func.count()).where(*conditions).group_by(col(Need.status))).all()
    return {str(status): int(n) for status, n in rows}


def coverage(session: Session, *, principal: Principal) -> Coverage:
    """Recommendations per cycle (and to how many States), providers, and the needs and activities visible."""
    cycle = col(Recommendation.cycle)
    per_cycle = session.execute(
        select(cycle, func.count(), func.count(distinct(col(Recommendation.state_under_review))))
        .where(counted())
        .group_by(cycle)
        .order_by(cycle)
    ).all()
    states = session.execute(
        select(func.count(distinct(col(Recommendation.state_under_review)))).where(counted())
    ).scalar_one()
    records = session.execute(select(func.count()).select_from(Recommendation)).scalar_one()
    providers = session.execute(select(func.count()).select_from(Provider)).scalar_one()
    needs = session.execute(
        select(func.count()).select_from(Need).where(access.need_read_clause(principal))
    ).scalar_one()
    activities = session.execute(
        select(func.count()).select_from(Activity).where(access.activity_read_clause(principal))
    ).scalar_one()
    cycles = [CycleCoverage(cycle=int(c), recommendations=int(n), states=int(s)) for c, n, s in per_cycle]
    return Coverage(
        recommendations=sum(c.recommendations for c in cycles),
        records=int(records),
        states=int(states),
        cycles=cycles,
        providers=int(providers),
        needs=int(needs),
        activities=int(activities),
    )
