"""Answers kept per process, keyed by the caller's audience, the slice and a stamp of the data.

The stamp is one statement of cheap aggregates (indexed maxima and the row counts of the
smaller tables): any write that can change a measure (a recommendation import, a need, an
activity, an engagement, a provider, a best score, a funding import) moves it, so an answer is
never older than the data. Each replica keeps its own answers and reads the same stamp from the
shared database, so every replica answers the same numbers.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, ScalarSelect, func, select
from sqlmodel import Session, col

from app.core.identity import Principal
from app.models.activity import Activity
from app.models.analytics import FundingResource, NeedBestScore
from app.models.engagement import Engagement
from app.models.import_run import ImportRun
from app.models.need import Need
from app.models.provider import Provider
from app.models.recommendation import Recommendation

T = TypeVar("T")
MAX_ENTRIES = 512

_entries: OrderedDict[Hashable, tuple[Hashable, object]] = OrderedDict()
_lock = threading.Lock()


def audience(principal: Principal) -> Hashable:
    """What decides what the caller may see: admins see all, a State or provider key its own too."""
    if principal.is_admin:
        return ("admin",)
    return (principal.role, principal.state, principal.provider_id)


def stamp(session: Session) -> Hashable:
    def agg(column: ColumnElement[Any]) -> ScalarSelect[Any]:
        return select(column).scalar_subquery()

    row = session.execute(
        select(
            agg(func.max(col(ImportRun.id))),
            agg(func.max(col(Recommendation.seq))),
            agg(func.count(col(Need.id))),
            agg(func.max(col(Need.updated_at))),
            agg(func.count(col(Activity.id))),
            agg(func.max(col(Activity.updated_at))),
            agg(func.count(col(Engagement.id))),
            agg(func.max(col(Engagement.updated_at))),
            agg(func.count(col(Provider.id))),
            agg(func.max(col(Provider.updated_at))),
            agg(func.count(col(NeedBestScore.need_id))),
            agg(func.max(col(NeedBestScore.computed_at))),
            agg(func.count(col(FundingResource.id))),
            agg(func.max(col(FundingResource.imported_at))),
        )
    ).one()
    return tuple(str(value) for value in row)


def cached(session: Session, principal: Principal, key: Hashable, compute: Callable[[], T]) -> T:
    """`compute()`, or the answer kept for the same key, caller's audience and data stamp."""
    full_key = (key, audience(principal))
    current = stamp(session)
    with _lock:
        found = _entries.get(full_key)
        if found is not None and found[0] == current:
            _entries.move_to_end(full_key)
            return found[1]  # type: ignore[return-value]  # the entry of a key was computed by that key's caller
    value = compute()
    with _lock:
        _entries[full_key] = (current, value)
        _entries.move_to_end(full_key)
        while len(_entries) > MAX_ENTRIES:
            _entries.popitem(last=False)
    return value


def clear() -> None:
    with _lock:
        _entries.clear()


__all__ = ["audience", "cached", "clear", "stamp"]
