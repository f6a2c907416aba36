"""Learning from use: how the ranking orders the providers people accepted or declined for a need.

When a provider accepts to help with a need, the pair was relevant; when it declines because the need
is out of its scope, it was not. Other declines (no capacity now, no funding) say nothing about fit
and are left out. :func:`evaluate_judgements` takes those ``(need, provider, outcome)`` triples and
the current ranking of each need, and reports how that ranking would have ordered the judged
providers: nDCG (accepted 1, declined 0) and the reciprocal rank of the first accepted one, averaged
over the needs with at least one accepted provider. Nothing is re-weighted from it: a change of the
ranking must first win on the held-out harness (``benchmarks/quality.py``).

The ranking metrics are the quality lab's (``evaluation.metrics`` re-exports them); they live here
because the service's command ``upr-match evaluate --from-engagements`` computes them.

Examples
--------
>>> judged = [Judgement("n1", "apt", "accepted"), Judgement("n1", "undp", "declined_out_of_scope"),
...           Judgement("n1", "ohchr", "declined_no_capacity")]
>>> report = evaluate_judgements(judged, {"n1": ["undp", "ohchr", "apt"]})
>>> report.needs, report.pairs, report.ignored, round(report.ndcg, 4), report.mrr
(1, 2, 1, 0.6309, 0.5)
"""

from __future__ import annotations

import statistics
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from math import log2
from typing import Any

__all__ = [
    "ACCEPTED",
    "OUT_OF_SCOPE",
    "FeedbackReport",
    "Judgement",
    "evaluate_judgements",
    "label_of",
    "mrr",
    "ndcg_at_k",
    "relevance_of",
]

#: An engagement the provider accepted: the pair was relevant.
ACCEPTED = "accepted"
#: A decline because the need is outside the provider's work: the pair was not relevant.
OUT_OF_SCOPE = "declined_out_of_scope"


@dataclass(frozen=True, slots=True)
class Judgement:
    """What happened when a need was put to a provider."""

    need_id: str
    provider_id: str
    outcome: str


def relevance_of(outcome: str) -> int | None:
    """1 for accepted, 0 for declined as out of scope, None for an outcome that says nothing about fit.

    Examples
    --------
    >>> relevance_of("accepted"), relevance_of("declined_out_of_scope"), relevance_of("declined_no_capacity")
    (1, 0, None)
    """
    return 1 if outcome == ACCEPTED else 0 if outcome == OUT_OF_SCOPE else None


@dataclass
class FeedbackReport:
    """How a ranking ordered judged providers: means over the needs with an accepted provider."""

    needs: int = 0
    pairs: int = 0
    ignored: int = 0
    unranked_needs: int = 0
    ndcg: float = 0.0
    mrr: float = 0.0
    per_need: dict[str, dict[str, float]] = field(default_factory=dict)


def evaluate_judgements(
    judgements: Iterable[Judgement], rankings: Mapping[str, Sequence[str]], *, k: int | None = None
) -> FeedbackReport:
    """Order each need's judged providers as its ranking does (unranked ones last) and score that order.

    Parameters
    ----------
    judgements : iterable of Judgement
        A later judgement of the same pair replaces an earlier one.
    rankings : mapping of need id to provider ids, best first
        The current ranking of each need (needs missing here are counted in ``unranked_needs``).
    k : int, optional
        nDCG cut-off (default: all judged providers of the need).
    """
    labels: dict[str, dict[str, int]] = {}
    report = FeedbackReport()
    for j in judgements:
        grade = relevance_of(j.outcome)
        if grade is None:
            report.ignored += 1
            continue
        labels.setdefault(j.need_id, {})[j.provider_id] = grade
    ndcgs, rrs = [], []
    for need_id, grades in sorted(labels.items()):
        if not any(grades.values()):
            continue  # nothing accepted: no order of these providers is better than another
        if need_id not in rankings:
            report.unranked_needs += 1
            continue
        position = {pid: i for i, pid in enumerate(rankings[need_id])}
        order = sorted(grades, key=lambda pid: (position.get(pid, len(position)), pid))
        ndcg = ndcg_at_k(order, grades, k=k or len(order))
        rr = mrr(order, [pid for pid, g in grades.items() if g])
        report.per_need[need_id] = {"ndcg": ndcg, "mrr": rr, "judged": len(order)}
        ndcgs.append(ndcg)
        rrs.append(rr)
        report.pairs += len(order)
    report.needs = len(ndcgs)
    if ndcgs:
        report.ndcg, report.mrr = statistics.fmean(ndcgs), statistics.fmean(rrs)
    return report


def label_of(item: Any) -> Any:
    """``label`` from ``label`` or from a ``(label, score)`` pair."""
    if isinstance(item, tuple) and len(item) == 2:
        return item[0]
    return item


def mrr(ranked_ids: Sequence[Any], relevant_ids: Iterable[Hashable]) -> float:
    """Reciprocal rank of the first relevant id in ONE ranking.

    The mean of this value over queries is the mean reciprocal rank (MRR).

    Parameters
    ----------
    ranked_ids : sequence
        Ids best first (bare ids or ``(id, score)`` pairs).
    relevant_ids : iterable
        The relevant ids.

    Returns
    -------
    float
        ``1 / rank`` (rank starting at 1) of the first relevant id, 0.0 if no
        relevant id is ranked.

    Examples
    --------
    The first relevant id, "b", is at rank 2: 1/2.

    >>> mrr(["x", "b", "a"], {"a", "b"})
    0.5
    >>> mrr(["x"], {"a"})
    0.0
    """
    relevant = set(relevant_ids)
    for rank, item in enumerate(ranked_ids, start=1):
        if label_of(item) in relevant:
            return 1.0 / rank
    return 0.0


def ndcg_at_k(ranked_ids: Sequence[Any], graded_relevance: Mapping[Any, float], k: int = 5) -> float:
    """Normalised discounted cumulative gain at ``k`` of ONE ranking, with graded relevance.

    ``DCG@k = sum_{i=1..k} rel(id_i) / log2(i + 1)`` with linear gains (e.g.
    core = 2, secondary = 1, anything not in ``graded_relevance`` = 0), and the
    ideal DCG is the DCG of the grades themselves sorted in decreasing order.

    Parameters
    ----------
    ranked_ids : sequence
        Ids best first (bare ids or ``(id, score)`` pairs).
    graded_relevance : mapping
        ``id -> grade`` (``grade >= 0``).
    k : int, default 5
        Cut-off, ``k >= 1``.

    Returns
    -------
    float
        ``DCG@k / IDCG@k`` in ``[0, 1]``.

    Notes
    -----
    If no id has a positive grade (IDCG = 0) the result is 0.0.  A repeated id
    gains only at its first position.

    Examples
    --------
    Grades a=2, b=1.  Ranking [b, x, a]:
    DCG = 1/log2(2) + 0/log2(3) + 2/log2(4) = 1 + 0 + 1 = 2;
    IDCG = 2/log2(2) + 1/log2(3) = 2 + 0.6309 = 2.6309; 2 / 2.6309 = 0.7602.

    >>> round(ndcg_at_k(["b", "x", "a"], {"a": 2, "b": 1}, k=5), 4)
    0.7602
    >>> ndcg_at_k(["a", "b"], {"a": 2, "b": 1})
    1.0
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    if any(g < 0 for g in graded_relevance.values()):
        raise ValueError("grades must be >= 0")
    seen: set[Hashable] = set()
    dcg = 0.0
    for position, item in enumerate(list(ranked_ids)[:k], start=1):
        key = label_of(item)
        if key in seen:
            continue
        seen.add(key)
        dcg += float(graded_relevance.get(key, 0.0)) / log2(position + 1)
    ideal = sorted((float(g) for g in graded_relevance.values() if g > 0), reverse=True)[:k]
    idcg = sum(g / log2(position + 1) for position, g in enumerate(ideal, start=1))
    return 0.0 if idcg == 0 else dcg / idcg
