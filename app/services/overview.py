"""Read-side summaries for the public pages: a State's coverage, and rows loaded by id in one query.

Each function is one or two queries whatever the number of rows, so a page that
lists twenty needs with their recommendations and providers stays at a handful
of statements (no N+1). Visibility follows `services.access`: a need or an
activity the caller may not read neither covers a recommendation nor is listed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pycountry
from sqlalchemy import ColumnElement, case, exists, func, select, union
from sqlmodel import Session, col

from app.core.errors import NotFound
from app.core.identity import Principal
from app.models.activity import Activity, ActivityRecommendation
from app.models.need import Need, NeedRecommendation
from app.models.provider import Provider
from app.models.recommendation import Recommendation, RecommendationTheme
from app.reference.validation import is_iso3, unknown_country
from app.services import access
from app.services.linking import counted_ids

NO_THEME = "No theme"


@dataclass(frozen=True, slots=True)
class ThemeCoverage:
    """Supported recommendations of one theme, and how many a need or an activity covers."""

    theme: str
    supported: int
    covered: int


@dataclass(frozen=True, slots=True)
class StateCoverage:
    """A State's supported recommendations, covered or not, overall and per theme (largest first)."""

    state: str
    name: str
    supported: int
    covered: int
    themes: list[ThemeCoverage]


def _covered_clause(principal: Principal, state: str) -> ColumnElement[bool]:
    """Cited by a need or an activity the caller may see, directly or through another source's copy of it."""
    by_need = (
        select(col(NeedRecommendation.recommendation_id))
        .join(Need, col(Need.id) == col(NeedRecommendation.need_id))
        .where(col(Need.state) == state, access.need_read_clause(principal))
    )
    by_activity = (
        select(col(ActivityRecommendation.recommendation_id))
        .join(Activity, col(Activity.id) == col(ActivityRecommendation.activity_id))
        .where(col(Activity.state) == state, access.activity_read_clause(principal))
    )
    return col(Recommendation.id).in_(counted_ids(union(by_need, by_activity)))


def get_state_coverage(session: Session, *, principal: Principal, state: str) -> StateCoverage:
    """Count a State's supported recommendations per theme and how many are covered; 404 for a non-ISO3 code."""
    code = state.strip().upper()
    if len(code) != 3 or not is_iso3(code):
        raise NotFound(unknown_country(state) + ".")
    covered = _covered_clause(principal, code)
    covered_count = func.coalesce(func.sum(case((covered, 1), else_=0)), 0)
    # Each recommendation once: other sources' copies of it (canonical_id set) are not counted, nor
    # records withdrawn from their source's export.
    supported = (
        col(Recommendation.state_under_review) == code,
        col(Recommendation.response) == "supported",
        col(Recommendation.canonical_id).is_(None),
        col(Recommendation.withdrawn_at).is_(None),
    )
    theme = col(RecommendationTheme.theme)
    per_theme = session.execute(
        select(theme, func.count(), covered_count)
        .join(Recommendation, col(Recommendation.id) == col(RecommendationTheme.recommendation_id))
        .where(*supported)
        .group_by(theme)
    ).all()
    unthemed = ~exists().where(col(RecommendationTheme.recommendation_id) == col(Recommendation.id))
    total, total_covered, no_theme, no_theme_covered = session.execute(
        select(
            func.count(),
            covered_count,
            func.coalesce(func.sum(case((unthemed, 1), else_=0)), 0),
            func.coalesce(func.sum(case((unthemed & covered, 1), else_=0)), 0),
        ).where(*supported)
    ).one()
    name = session.execute(
        select(col(Recommendation.state_under_review_name))
        .where(col(Recommendation.state_under_review) == code, col(Recommendation.state_under_review_name) != "")
        .limit(1)
    ).scalar_one_or_none()
    themes = [ThemeCoverage(theme=t, supported=int(n), covered=int(c)) for t, n, c in per_theme]
    if no_theme:
        themes.append(ThemeCoverage(theme=NO_THEME, supported=int(no_theme), covered=int(no_theme_covered)))
    themes.sort(key=lambda t: (-t.supported, t.theme))
    return StateCoverage(
        state=code, name=name or _country_name(code), supported=int(total), covered=int(total_covered), themes=themes
    )


def _country_name(code: str) -> str:
    country = pycountry.countries.get(alpha_3=code)
    return str(getattr(country, "common_name", None) or getattr(country, "name", None) or code)


def get_recommendations_by_ids(session: Session, *, ids: Sequence[str]) -> list[Recommendation]:
    """The recommendations with these ids, in the order given (missing ids are skipped)."""
    if not ids:
        return []
    rows = session.execute(select(Recommendation).where(col(Recommendation.id).in_(set(ids)))).scalars()
    found = {r.id: r for r in rows}
    return [found[i] for i in ids if i in found]


def get_providers_by_ids(session: Session, *, ids: Sequence[str]) -> dict[str, Provider]:
    """Providers by id, in one query (for lists of activities that name their provider)."""
    if not ids:
        return {}
    rows = session.execute(select(Provider).where(col(Provider.id).in_(set(ids)))).scalars()
    return {p.id: p for p in rows}
