"""Good practices: completed activities both parties confirmed, with what was achieved.

A good practice is an activity that is confirmed, completed, and says what was achieved
(`outcomes`); what was hard (`challenges`), the lessons and the documents come with it. It is
public like every confirmed activity that is not planned. The list filters on the themes and SDGs
of the recommendations it helped implement, the State and its UN regional group, the provider's
kind, and words of its text. The feeds list the newest confirmed public activities and the newest
public needs still open to providers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, exists, func, or_
from sqlmodel import Session, col, select

from app.core.errors import NotFound
from app.core.identity import ANONYMOUS
from app.core.pagination import PageParams
from app.models.activity import Activity, ActivityPublic, ActivityRecommendation
from app.models.need import Need
from app.models.provider import Provider
from app.models.recommendation import RecommendationSdg, RecommendationTheme
from app.reference.regions import regional_group_members
from app.reference.themes import resolve_theme
from app.services import access
from app.services import activities as activity_service

TEXT_FIELDS = ("title", "description", "outcomes", "challenges", "lessons")


@dataclass(frozen=True)
class PracticeFilters:
    """What the good-practices list is narrowed to (every value list: any of them)."""

    themes: Sequence[str] = ()
    states: Sequence[str] = ()
    regions: Sequence[str] = ()
    kinds: Sequence[str] = ()
    sdgs: Sequence[int] = ()
    q: str | None = None


def practice_clause() -> ColumnElement[bool]:
    """Confirmed, completed, and saying what was achieved."""
    return and_(
        col(Activity.confirmation) == "confirmed",
        col(Activity.status) == "completed",
        col(Activity.outcomes).is_not(None),
        col(Activity.outcomes) != "",
    )


def _linked(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    """The activity works on a recommendation meeting `condition` (on its index table, correlated)."""
    return exists(
        select(ActivityRecommendation.recommendation_id).where(
            col(ActivityRecommendation.activity_id) == col(Activity.id), condition
        )
    )


def _conditions(filters: PracticeFilters) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = [practice_clause()]
    if filters.themes:
        values = {value for theme in filters.themes for value in resolve_theme(theme)}
        found.append(
            _linked(
                col(ActivityRecommendation.recommendation_id).in_(
                    select(RecommendationTheme.recommendation_id).where(col(RecommendationTheme.theme).in_(values))
                )
            )
        )
    if filters.sdgs:
        found.append(
            _linked(
                col(ActivityRecommendation.recommendation_id).in_(
                    select(RecommendationSdg.recommendation_id).where(col(RecommendationSdg.sdg).in_(filters.sdgs))
                )
            )
        )
    states = {s.strip().upper() for s in filters.states}
    if filters.regions:
        members = set().union(*(regional_group_members(r) for r in filters.regions))
        states = states & members if states else members
        if not states:
            states = {"---"}  # a region without members, or States outside it: nothing
    if states:
        found.append(col(Activity.state).in_(states))
    if filters.kinds:
        found.append(
            col(Activity.provider_id).in_(select(Provider.id).where(col(Provider.kind).in_(list(filters.kinds))))
        )
    for word in (filters.q or "").split()[:10]:
        pattern = f"%{word.lower()[:100]}%"
        found.append(or_(*(func.lower(func.coalesce(getattr(Activity, f), "")).like(pattern) for f in TEXT_FIELDS)))
    return found


def list_practices(session: Session, *, filters: PracticeFilters, page: PageParams) -> tuple[list[ActivityPublic], int]:
    """Good practices, newest confirmation first, as the public sees them."""
    conditions = _conditions(filters)
    total = session.exec(select(func.count()).select_from(Activity).where(*conditions)).one()
    rows = session.exec(
        select(Activity)
        .where(*conditions)
        .order_by(col(Activity.confirmed_at).desc(), col(Activity.updated_at).desc(), col(Activity.id))
        .offset(page.offset)
        .limit(page.limit)
    ).all()
    return activity_service.present_activities(session, rows, ANONYMOUS), total


def get_practice(session: Session, *, activity_id: str) -> ActivityPublic:
    """One good practice (404 for any activity that is not one, or not public)."""
    row = session.exec(select(Activity).where(col(Activity.id) == activity_id, practice_clause())).first()
    if row is None:
        raise NotFound(f"Activity {activity_id} is not a good practice of the public record.")
    return activity_service.present_activities(session, [row], ANONYMOUS)[0]


def practice_states(session: Session) -> list[str]:
    """The States that have a good practice (the State filter's choices)."""
    return sorted(set(session.exec(select(Activity.state).where(practice_clause()).distinct()).all()))


def newest_public_activities(session: Session, *, limit: int = 50) -> list[tuple[ActivityPublic, bool]]:
    """The newest confirmed public activities, each with whether it is a good practice (the feed)."""
    rows = session.exec(
        select(Activity)
        .where(access.activity_read_clause(ANONYMOUS))
        .order_by(col(Activity.updated_at).desc(), col(Activity.id))
        .limit(limit)
    ).all()
    shown = activity_service.present_activities(session, rows, ANONYMOUS)
    return [(a, a.status == "completed" and bool(a.outcomes)) for a in shown]


def newest_open_needs(session: Session, *, limit: int = 50) -> list[Need]:
    """The newest public needs still open to providers (the feed)."""
    return list(
        session.exec(
            select(Need)
            .where(access.need_read_clause(ANONYMOUS), col(Need.status) == "open")
            .order_by(col(Need.created_at).desc(), col(Need.id))
            .limit(limit)
        ).all()
    )
