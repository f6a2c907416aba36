"""Each need's best match score, stored when the need is scored, for the unserved-needs measure.

The best match of a need is the top of the ranking `GET /v1/needs/{id}/matches` answers
(`matching.scores_for_need`: the same index, preferences, history and declines), not a second
ranking. Ranking every open need on each read would cost one ranking per need (50,000 at the
benchmark's scale), so the score is stored instead:

- on every filing or change of a need, by the worker, which already scores the need for every
  provider to send alerts (`services/outbox.py`);
- for all open needs by `upr-match analytics refresh` (after providers change: a new provider
  can make a need's best match strong), which the demo loader runs too.

`below_strong_since` keeps when the best score fell below the strong band (the need's filing
time when it was never strong), so "below strong for 30 days or more" is one indexed comparison.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from sqlmodel import Session, col, select

from app.models.analytics import NeedBestScore
from app.models.common import utcnow
from app.models.need import Need
from app.services import matching as matching_service
from app.services.match_index import MatchIndex
from app.vocab import SCORE_STRONG


def record(session: Session, need: Need, scores: Mapping[str, float], *, now: datetime | None = None) -> NeedBestScore:
    """Store a need's best score from the ranking's scores of every provider (no commit)."""
    now = now or utcnow()
    best_provider, best = max(scores.items(), key=lambda item: (item[1], item[0]), default=(None, 0.0))
    row = session.get(NeedBestScore, need.id)
    if row is None:
        row = NeedBestScore(need_id=need.id, score=best, provider_id=best_provider, computed_at=now)
        row.below_strong_since = None if best >= SCORE_STRONG else min(need.created_at, now)
    else:
        was_strong = row.below_strong_since is None
        row.score, row.provider_id, row.computed_at = best, best_provider, now
        if best >= SCORE_STRONG:
            row.below_strong_since = None
        elif was_strong:
            row.below_strong_since = now
    session.add(row)
    return row


def refresh_need(session: Session, index: MatchIndex, need: Need) -> NeedBestScore:
    """Score one need with the service's ranking and store its best score (no commit)."""
    return record(session, need, matching_service.scores_for_need(session, index, need=need))


def refresh_open_needs(
    session: Session, index: MatchIndex, *, progress: Callable[[int, int], None] | None = None, batch: int = 200
) -> int:
    """Score every open need again and store each best score; commits every `batch` needs. Returns how many."""
    ids = list(session.exec(select(Need.id).where(col(Need.status) == "open").order_by(col(Need.id))))
    for done, need_id in enumerate(ids, start=1):
        need = session.get(Need, need_id)
        if need is not None:
            refresh_need(session, index, need)
        if done % batch == 0:
            session.commit()
        if progress is not None:
            progress(done, len(ids))
    session.commit()
    return len(ids)


__all__ = ["record", "refresh_need", "refresh_open_needs"]
