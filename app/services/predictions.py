"""Read every profile and need again with the current tagger (after `upr-match train`, or after migration 0014).

`themes_predicted` is set on every write that changes what the tagger reads; a new tagger reads the
same texts differently, so this refreshes them all. A row whose predictions change gets a new
version (its ETag changes with its body) and its theme filter rows follow.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from app.models.common import utcnow
from app.models.need import Need, NeedRecommendation
from app.models.provider import Provider
from app.models.recommendation import Recommendation
from app.services import needs as need_service
from app.services import providers as provider_service
from matching.theme_space import ThemeSpace

__all__ = ["refresh_predictions"]


def refresh_predictions(session: Session, space: ThemeSpace) -> tuple[int, int]:
    """Predict the themes of every provider and need again; return how many of each changed."""
    providers_changed = 0
    for provider in session.exec(select(Provider).order_by(col(Provider.id))).all():
        found = provider_service.predicted_themes(space, provider.name, provider.acronym, provider.description)
        if found != provider.themes_predicted:
            provider.themes_predicted, provider.version, provider.updated_at = found, provider.version + 1, utcnow()
            session.add(provider)
            provider_service.write_facets(session, provider)
            providers_changed += 1
    needs_changed = 0
    for need in session.exec(select(Need).order_by(col(Need.id))).all():
        recs = session.exec(
            select(Recommendation)
            .join(NeedRecommendation, col(NeedRecommendation.recommendation_id) == col(Recommendation.id))
            .where(col(NeedRecommendation.need_id) == need.id)
            .order_by(col(NeedRecommendation.position))
        ).all()
        found = need_service.predicted_themes(space, recs, need.title)
        if found != need.themes_predicted:
            need.themes_predicted, need.version, need.updated_at = found, need.version + 1, utcnow()
            session.add(need)
            need_service.write_theme_index(session, need)
            needs_changed += 1
    session.commit()
    return providers_changed, needs_changed
