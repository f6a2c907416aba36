"""Drafted needs: proposals for a State from its supported recommendations no need covers yet."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from app.core.identity import Principal
from app.match_index.index import MatchIndex
from app.models.draft import DraftAsk, DraftNeed, DraftNeeds, DraftRequest
from app.models.match import ProviderMatch
from app.models.need import Need, NeedRecommendation
from app.models.recommendation import Recommendation
from app.services import access
from app.services import matching as matching_service
from app.services.linking import counted_ids
from matching import DraftInput, draft_groups
from matching.ranking import Preferences


def draft_inputs(recs: Sequence[Recommendation]) -> list[DraftInput]:
    """What drafts are grouped on: the sources' own theme labels, as before they were normalised, so the
    drafts and their suggested partners stay what the ranking gave (pages show the controlled themes)."""
    return [DraftInput(r.id, r.text, tuple(r.themes_source or r.themes), r.cycle) for r in recs]


def draft_needs(
    session: Session, index: MatchIndex, *, principal: Principal, state: str, options: DraftRequest
) -> DraftNeeds:
    """Group the State's uncovered supported recommendations by theme, with suggested providers."""
    covered = (
        select(NeedRecommendation.recommendation_id)
        .join(Need, col(Need.id) == col(NeedRecommendation.need_id))
        .where(col(Need.state) == state, access.need_read_clause(principal))
    )
    # Each recommendation once (copies from other sources left out), none withdrawn from its
    # source, and covered when a need cites it or any copy of it.
    query = select(Recommendation).where(
        col(Recommendation.state_under_review) == state,
        col(Recommendation.response) == "supported",
        col(Recommendation.canonical_id).is_(None),
        col(Recommendation.withdrawn_at).is_(None),
        col(Recommendation.id).not_in(counted_ids(covered)),
    )
    if options.cycle is not None:
        query = query.where(col(Recommendation.cycle) == options.cycle)
    recs = session.exec(query.order_by(col(Recommendation.id))).all()
    groups = draft_groups(draft_inputs(recs))
    snapshot = index.current(session) if options.suggestions else None
    items = []
    for group in groups[: options.max_drafts]:
        suggested: list[ProviderMatch] = []
        if snapshot is not None:
            prefs = Preferences(state=state, themes=(group.theme,))
            ranked = snapshot.rank_providers(
                "\n".join(item.text for item in group.items), prefs, limit=options.suggestions
            )
            suggested = matching_service.present_provider_matches(session, ranked, principal)
        items.append(
            DraftNeed(
                theme=group.theme,
                title=group.title,
                recommendation_ids=list(group.recommendation_ids),
                asks=[DraftAsk(ids=list(item.ids), text=item.text) for item in group.items],
                suggested_providers=suggested,
            )
        )
    return DraftNeeds(state=state, uncovered_recommendations=len(recs), total_drafts=len(groups), items=items)
