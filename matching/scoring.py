"""The components of :mod:`matching.ranking` for every row of a corpus at once, and the top-k cut.

Each function here computes, as one NumPy array over the rows of a
:class:`~matching.columns.Columns`, what :class:`~matching.ranking.Ranker` computes for one
candidate: the text score, the declared-theme overlap, presence, history and the fused score.
The ranking scores every row with them, then scores exactly, one by one, only the rows that can
reach the top (:func:`best`): the arrays may differ from the one-by-one values in the last bits
(sums in another order), so every cut keeps a margin of :data:`SLACK`.

Examples
--------
>>> fuse_columns([(np.array([0.2, 1.0]), 0.45), (np.array([0.8, 0.0]), np.array([0.55, 0.0]))]).round(4).tolist()
[0.53, 1.0]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

import numpy as np
import numpy.typing as npt

from matching.columns import Columns, Mask
from matching.matcher import Match, TextScores, TfidfMatcher

__all__ = [
    "SLACK",
    "Candidates",
    "best",
    "fuse_columns",
    "history_values",
    "hit",
    "overlap_values",
    "presence_values",
    "score_all",
    "text_values",
    "top",
]

Vector = npt.NDArray[np.float64]
#: Margin kept around every cut (top ``limit``, ``min_score``, the theme floor) made on the array
#: scores; far above their rounding differences (~1e-16), far below any difference a ranking shows.
SLACK = 1e-9
#: Text scores under this count as 0, as :meth:`TfidfMatcher.match` leaves them out.
TINY = float(np.finfo(np.float64).tiny)


class Scored(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def score(self) -> float: ...


R = TypeVar("R", bound=Scored)


def top(ranked: Sequence[R], limit: int, min_score: float) -> list[R]:
    """The ``limit`` best scoring at least ``min_score``, by score then id."""
    kept = [r for r in ranked if r.score >= min_score]
    kept.sort(key=lambda r: (-r.score, r.id))
    return kept[:limit]


@dataclass(frozen=True, slots=True)
class Candidates(Generic[R]):
    """Every row's score computed at once, the rows allowed, and how to score one row exactly."""

    allowed: Mask
    score: Vector
    exact: Callable[[int], R | None]


def best(found: Candidates[R], limit: int, min_score: float) -> list[R]:
    """The top ``limit`` of the allowed rows, as scoring every row exactly and sorting would give.

    Only the rows whose array score is within :data:`SLACK` of the ``limit``-th are scored exactly;
    if too few of them survive the exact checks, twice as many are tried.

    Examples
    --------
    >>> from types import SimpleNamespace as Row
    >>> scores = np.array([0.5, 0.9, 0.7, 0.9])
    >>> found = Candidates(np.ones(4, bool), scores, lambda i: Row(id=str(i), score=float(scores[i])))
    >>> [(r.id, r.score) for r in best(found, 2, 0.0)]
    [('1', 0.9), ('3', 0.9)]
    """
    rows = np.flatnonzero(found.allowed & (found.score >= min_score - SLACK))
    take = max(1, limit)
    while True:
        picked, kth = rows, -math.inf
        if len(rows) > take:
            scores = found.score[rows]
            kth = float(np.partition(scores, len(scores) - take)[len(scores) - take])
            picked = rows[scores >= kth - SLACK]
        kept = top([r for row in picked if (r := found.exact(int(row))) is not None], limit, min_score)
        # Rows left out score under kth - SLACK exactly too: done once the last one kept is above that.
        if len(picked) == len(rows) or (len(kept) == limit and kept[-1].score >= kth - SLACK / 2):
            return kept
        take *= 2


def fuse_columns(parts: Sequence[tuple[Vector, float | Vector]]) -> Vector:
    """``fuse`` of every row: the weighted mean of the parts, clipped to [0, 1] (0 where no weight).

    A weight may be an array: a component that does not apply to a row has weight 0 there.
    """
    total: float | Vector = 0.0
    acc: float | Vector = 0.0
    for value, weight in parts:
        acc = acc + value * weight
        total = total + weight
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.clip(np.asarray(acc, dtype=np.float64) / total, 0.0, 1.0)
    fused: Vector = np.where(np.asarray(total) > 0, mean, 0.0)
    return fused


def score_all(matcher: TfidfMatcher | None, query: str) -> TextScores | None:
    """The query's text scores against every document (None without an index or a query)."""
    return matcher.score_all(query) if matcher is not None and query.strip() else None


def text_values(found: TextScores | None, positions: npt.NDArray[np.intp]) -> Vector:
    """Each row's text score (``positions``: the matcher's position of each row, -1 if none)."""
    if found is None:
        return np.zeros(len(positions))
    values = np.where(positions >= 0, found.values[np.maximum(positions, 0)], 0.0)
    clipped: Vector = np.where(values >= TINY, np.minimum(values, 1.0), 0.0)
    return clipped


def hit(found: TextScores | None, position: int) -> Match | None:
    """One row's text match with its shared terms, None when it shares no term."""
    if found is None or position < 0 or not found.values[position] >= TINY:
        return None
    return found.explain(int(position))


def overlap_values(table: Columns, wanted: frozenset[str]) -> Vector:
    """The cosine of the declared theme sets (case-folded ``wanted`` and each row's ``themes``)."""
    offered = table.counts("themes")
    if not wanted:
        return np.zeros(table.n)
    with np.errstate(divide="ignore", invalid="ignore"):
        cosine = table.count_of("themes", wanted) / np.sqrt(len(wanted) * offered)
    values: Vector = np.where(offered > 0, cosine, 0.0)
    return values


def presence_values(in_country: Mask, in_region: Mask, worldwide: Mask) -> Vector:
    """Presence: 1 in the State, 0.6 in its region, 0.3 worldwide, else 0."""
    values: Vector = np.where(in_country, 1.0, np.where(in_region, 0.6, np.where(worldwide, 0.3, 0.0)))
    return values


def history_values(table: Columns, history: Mapping[str, tuple[bool, bool]]) -> Vector:
    """History: 1 for cooperation with the State, 0.5 on the themes, else 0."""
    values = np.zeros(table.n)
    for pid, (with_state, on_themes) in history.items():
        row = table.rows.get(pid)
        if row is not None:
            values[row] = 1.0 if with_state else 0.5 if on_themes else 0.0
    return values
