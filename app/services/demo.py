"""What the demo loader reads and marks: its rows found again by their natural keys, and the demo flag.

The loader (`app.demo.loader`) files the demo data through the resource services; the look-ups that
make it safe to run again (a provider by its slug, a need by its State and title, an activity by its
provider, State and title) and the `is_demo` flag are here, so the loader runs no SQL itself.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import Session, col, select

from app.models.activity import Activity
from app.models.need import Need
from app.models.provider import Provider
from app.models.recommendation import Recommendation


def providers_by_slug(session: Session) -> dict[str, Provider]:
    """Every provider that has a slug, by slug."""
    return {
        p.slug: p for p in session.exec(select(Provider).where(col(Provider.slug).is_not(None))) if p.slug is not None
    }


def supported_recommendations(session: Session, state: str) -> list[Recommendation]:
    """A State's supported recommendations, by id."""
    return list(
        session.exec(
            select(Recommendation)
            .where(col(Recommendation.state_under_review) == state, col(Recommendation.response) == "supported")
            .order_by(col(Recommendation.id))
        ).all()
    )


def need_titled(session: Session, state: str, title: str) -> Need | None:
    return session.exec(select(Need).where(col(Need.state) == state, col(Need.title) == title)).first()


def activity_titled(session: Session, provider_id: str, state: str, title: str) -> Activity | None:
    return session.exec(
        select(Activity).where(
            col(Activity.provider_id) == provider_id,
            col(Activity.state) == state,
            col(Activity.title) == title,
        )
    ).first()


def first_demo_need(session: Session) -> str | None:
    """The id of the first demo need (by State and title), for the printed examples."""
    need = session.exec(select(Need).where(col(Need.is_demo)).order_by(col(Need.state), col(Need.title))).first()
    return need.id if need is not None else None


def flag_demo(session: Session, model: type[Provider] | type[Need], row_id: str) -> None:
    """Mark a provider or a need as demo data (listed apart, removable), and commit."""
    session.exec(update(model).where(col(model.id) == row_id).values(is_demo=True))
    session.commit()


__all__ = [
    "activity_titled",
    "first_demo_need",
    "flag_demo",
    "need_titled",
    "providers_by_slug",
    "supported_recommendations",
]
