"""Each need's best match score, stored when the need is scored, for the unserved-needs measure.

The best match of a need is the top of the ranking `GET /v1/needs/{id}/matches` answers
(`matching.scores_for_need`: the same index, preferences, history and declines), not a second
ranking. Ranking every open need on each read would cost one ranking per need (50,000 at the
benchmark's scale), so the score is stored instead:

- on every filing or change of a need, by the worker, which already scores the need for every
  provider to send alerts (`worker/outbox.py`);
- after providers change (a new provider can make a need's best match strong), by the worker
  too: each round it scores again a batch of the open needs scored before the latest change of
  a provider, or whose best provider is gone (`refresh_stale`);
- for all open needs at once by `upr-match analytics refresh`, which the demo loader runs too.

`below_strong_since` keeps when the best score fell below the strong band (the need's filing
time when it was never strong), so "below strong for 30 days or more" is one indexed comparison.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, exists, or_
from sqlmodel import Session, col, func, select

from app.match_index.index import MatchIndex
from app.models.analytics import NeedBestScore
from app.models.common import utcnow
from app.models.need import Need
from app.models.provider import Provider
from app.reference.vocab import SCORE_STRONG
from app.services import matching as matching_service


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


#: A provider change is this old before the scores it may change are refreshed: time for its
#: transaction to commit and for the worker's index to read it (and for clocks of replicas to agree).
SETTLE = timedelta(seconds=5)


def refresh_stale(session: Session, index: MatchIndex, *, now: datetime | None = None, limit: int = 20) -> int:
    """Score again up to `limit` open needs whose stored best score may be out of date; commits. Returns how many.

    Out of date: computed before the latest change of any provider (once that change is `SETTLE`
    old), or naming a best provider that was deleted. Oldest first, so a large backlog is worked
    through a batch per worker round. On PostgreSQL the rows are claimed `FOR UPDATE SKIP LOCKED`:
    several workers share the backlog without scoring a need twice.
    """
    now = now or utcnow()
    changed = session.exec(select(func.max(Provider.updated_at))).one()
    best_gone = col(NeedBestScore.provider_id).is_not(None) & ~exists().where(
        col(Provider.id) == col(NeedBestScore.provider_id)
    )
    stale: list[ColumnElement[bool]] = [best_gone]
    if changed is not None and changed <= now - SETTLE:
        stale.append(col(NeedBestScore.computed_at) < changed)
    rows = session.exec(
        select(NeedBestScore, Need)  # both loaded: `record` finds the score row without another query
        .join(Need, col(Need.id) == col(NeedBestScore.need_id))
        .where(col(Need.status) == "open", or_(*stale))
        .order_by(col(NeedBestScore.computed_at), col(NeedBestScore.need_id))
        .limit(limit)
        .with_for_update(skip_locked=True, of=NeedBestScore)
    ).all()
    for _, need in rows:
        refresh_need(session, index, need)
    session.commit()
    return len(rows)


__all__ = ["SETTLE", "record", "refresh_need", "refresh_open_needs", "refresh_stale"]
