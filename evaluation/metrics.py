"""Evaluation metrics for the theme tagger and the matcher, plus a group-wise split.

F1 scores are scikit-learn's (``sklearn.metrics.f1_score`` on indicator matrices); the
ranking metrics are written out here. Everything works on plain label collections and id
lists, so the quality harness and the tests share one definition of every number they report.

Conventions
-----------
* A *label set* is any iterable of hashable labels (``list``, ``set``, ``tuple``);
  duplicates inside one set are ignored.
* A *ranking* is a sequence of ids (or labels), best first.  Ranked predictions
  may also be ``(label, score)`` pairs, as returned by
  ``ThemeTagger.predict_proba``; only the label is used.
* Ranking metrics (:func:`precision_at_k`, :func:`mrr`, :func:`ndcg_at_k`) score
  ONE query; average them over queries yourself (e.g. ``statistics.fmean``).
  :func:`precision_at_1` is the exception: it is a tagging metric over a whole
  collection of items.
* Empty cases are defined, never ``nan``: see each function's *Notes*.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from typing import Any

import numpy as np
from sklearn.metrics import f1_score
from sklearn.preprocessing import MultiLabelBinarizer

from matching.feedback import label_of, mrr, ndcg_at_k

__all__ = [
    "micro_f1",
    "macro_f1",
    "per_label_f1",
    "precision_at_1",
    "precision_at_k",
    "mrr",
    "ndcg_at_k",
    "split_by_group",
]


def _as_sets(label_sets: Iterable[Iterable[Hashable]]) -> list[set[Hashable]]:
    return [set(s) for s in label_sets]


def _check_same_length(y_true: Sequence[Any], y_pred: Sequence[Any]) -> None:
    if len(y_true) != len(y_pred):
        raise ValueError(f"y_true has {len(y_true)} items but y_pred has {len(y_pred)}")


def _indicators(
    y_true: Sequence[Iterable[Hashable]], y_pred: Sequence[Iterable[Hashable]]
) -> tuple[np.ndarray, np.ndarray, list[Hashable]]:
    """Both label-set sequences as indicator matrices over every label that occurs, and those labels."""
    y_true, y_pred = list(y_true), list(y_pred)
    _check_same_length(y_true, y_pred)
    true_sets, pred_sets = _as_sets(y_true), _as_sets(y_pred)
    # In order of appearance: per item, correct labels, then wrong ones, then missed ones.
    labels = list(
        dict.fromkeys(
            label for t, p in zip(true_sets, pred_sets, strict=True) for part in (t & p, p - t, t - p) for label in part
        )
    )
    if not labels:
        empty = np.zeros((len(true_sets), 0), dtype=int)
        return empty, empty, labels
    binarizer = MultiLabelBinarizer(classes=labels)
    # One extra all-zero column: scikit-learn reads a single column as a binary target, not as one label.
    pad = np.zeros((len(true_sets), 1), dtype=int)
    truth = np.hstack([binarizer.fit_transform(true_sets), pad])
    pred = np.hstack([binarizer.transform(pred_sets), pad])
    return truth, pred, labels


def micro_f1(y_true: Sequence[Iterable[Hashable]], y_pred: Sequence[Iterable[Hashable]]) -> float:
    """Micro-averaged F1 over label sets.

    True positives, false positives and false negatives are pooled over all
    items and labels, then ``F1 = 2 tp / (2 tp + fp + fn)``.

    Parameters
    ----------
    y_true, y_pred : sequence of iterables of labels
        One label set per item, same length and order.

    Returns
    -------
    float
        Micro F1 in ``[0, 1]``.

    Raises
    ------
    ValueError
        If the two sequences differ in length.

    Notes
    -----
    If there is no positive at all (no true and no predicted label on any
    item), the prediction agrees perfectly with the truth and 1.0 is returned.

    Examples
    --------
    tp = 2 (a, b), fp = 1 (c), fn = 1 (d): 2*2 / (2*2 + 1 + 1) = 4/6.

    >>> round(micro_f1([{"a"}, {"b", "d"}], [{"a", "c"}, {"b"}]), 4)
    0.6667
    >>> micro_f1([[], []], [[], []])
    1.0
    """
    truth, pred, labels = _indicators(y_true, y_pred)
    if not labels:
        return 1.0
    return float(f1_score(truth, pred, average="micro", zero_division=1.0))


def per_label_f1(
    y_true: Sequence[Iterable[Hashable]],
    y_pred: Sequence[Iterable[Hashable]],
    labels: Iterable[Hashable] | None = None,
) -> dict[Hashable, float]:
    """F1 of every label that occurs (as truth or prediction) at least once.

    Parameters
    ----------
    y_true, y_pred : sequence of iterables of labels
        One label set per item, same length and order.
    labels : iterable of labels, optional
        Restrict to these labels.  Labels in ``labels`` with no true and no
        predicted positive are left out of the result (see :func:`macro_f1`).

    Returns
    -------
    dict
        ``label -> F1``, in first-seen order (or the order of ``labels``).

    Examples
    --------
    >>> per_label_f1([{"a"}, {"b"}], [{"a"}, {"a"}])
    {'a': 0.6666666666666666, 'b': 0.0}
    """
    truth, pred, found = _indicators(y_true, y_pred)
    if not found:
        return {}
    scores = f1_score(truth, pred, average=None, zero_division=0.0)
    by_label = {label: float(score) for label, score in zip(found, scores[: len(found)], strict=True)}
    keys = found if labels is None else [lab for lab in labels if lab in by_label]
    return {lab: by_label[lab] for lab in keys}


def macro_f1(
    y_true: Sequence[Iterable[Hashable]],
    y_pred: Sequence[Iterable[Hashable]],
    labels: Iterable[Hashable] | None = None,
) -> float:
    """Macro-averaged F1: the unweighted mean of per-label F1.

    Parameters
    ----------
    y_true, y_pred : sequence of iterables of labels
        One label set per item, same length and order.
    labels : iterable of labels, optional
        The labels to average over.  Default: every label that occurs in
        ``y_true`` or ``y_pred``.  Labels outside ``labels`` are ignored.

    Returns
    -------
    float
        Macro F1 in ``[0, 1]``.

    Notes
    -----
    A label with **no true and no predicted positive** in this data (possible
    only when ``labels`` is given) carries no evidence either way and is
    **left out of the average** -- it counts neither as 1 nor as 0.  (This
    differs from ``sklearn.metrics.f1_score(average="macro",
    zero_division=0)``, which counts it as 0.)  A label that is true somewhere
    but never predicted, or predicted but never true, has F1 = 0 and is
    averaged.  If no label is left, 1.0 is returned (nothing to find, nothing
    wrongly found), matching :func:`micro_f1`.

    Examples
    --------
    F1(a) = 2*1/(2*1+1+0) = 2/3 (tp 1, fp 1); F1(b) = 0 (fn 1);
    "z" never occurs and is skipped: (2/3 + 0) / 2 = 1/3.

    >>> round(macro_f1([{"a"}, {"b"}], [{"a"}, {"a"}], labels=["a", "b", "z"]), 4)
    0.3333
    """
    scores = per_label_f1(y_true, y_pred, labels=labels)
    if not scores:
        return 1.0
    return sum(scores.values()) / len(scores)


def precision_at_1(
    true_label_sets: Sequence[Iterable[Hashable]],
    ranked_predictions: Sequence[Sequence[Any]],
) -> float:
    """Share of items whose top-ranked predicted label is one of their true labels.

    Parameters
    ----------
    true_label_sets : sequence of iterables of labels
        The true labels of each item.
    ranked_predictions : sequence of sequences
        Per item, the predicted labels best first, either bare labels or
        ``(label, score)`` pairs.

    Returns
    -------
    float
        Precision@1 over the items, in ``[0, 1]``; 0.0 for no items.

    Notes
    -----
    An item with an empty ranking, or with no true label, counts as a miss.

    Examples
    --------
    Item 1: top "a" is true (hit); item 2: top "c" is not in {"b"} (miss);
    item 3: no prediction (miss): 1/3.

    >>> round(precision_at_1([{"a"}, {"b"}, {"c"}], [["a", "b"], [("c", 0.9), ("b", 0.8)], []]), 4)
    0.3333
    """
    true_label_sets = list(true_label_sets)
    ranked_predictions = list(ranked_predictions)
    _check_same_length(true_label_sets, ranked_predictions)
    if not true_label_sets:
        return 0.0
    hits = 0
    for truth, ranking in zip(_as_sets(true_label_sets), ranked_predictions, strict=True):
        if len(ranking) and label_of(ranking[0]) in truth:
            hits += 1
    return hits / len(true_label_sets)


def precision_at_k(ranked_ids: Sequence[Any], relevant_ids: Iterable[Hashable], k: int = 5) -> float:
    """Precision@k of ONE ranking: relevant ids among the first ``k``, divided by ``k``.

    Parameters
    ----------
    ranked_ids : sequence
        Ids best first (bare ids or ``(id, score)`` pairs).
    relevant_ids : iterable
        The relevant ids.
    k : int, default 5
        Cut-off, ``k >= 1``.

    Returns
    -------
    float
        In ``[0, 1]``.

    Notes
    -----
    The denominator is always ``k``, also when fewer than ``k`` ids are ranked
    (a short list is penalised).  A repeated id counts once.

    Examples
    --------
    First 3 = a, x, b; a and b are relevant: 2/3.

    >>> round(precision_at_k(["a", "x", "b", "c"], {"a", "b", "c"}, k=3), 4)
    0.6667
    >>> precision_at_k(["a"], {"a"}, k=2)
    0.5
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    relevant = set(relevant_ids)
    top = {label_of(i) for i in list(ranked_ids)[:k]}
    return len(top & relevant) / k


def split_by_group(
    ids: Sequence[Hashable],
    groups: Sequence[Hashable],
    test_fraction: float = 0.3,
    seed: int = 0,
) -> tuple[list[Hashable], list[Hashable]]:
    """Hold out whole groups (e.g. States under Review), never single rows.

    The distinct groups are sorted, shuffled with ``numpy.random.default_rng(seed)``,
    and the first ``round(test_fraction * n_groups)`` go to the test side (at
    least one and at most ``n_groups - 1`` when there are two or more groups).

    Parameters
    ----------
    ids : sequence
        Row ids.
    groups : sequence
        The group of each row (same length as ``ids``); ``None`` is a group
        like any other.
    test_fraction : float, default 0.3
        Share of the *groups* (not of the rows) held out, ``0 < f < 1``.
    seed : int, default 0
        Seed; the same inputs and seed always give the same split.

    Returns
    -------
    train_ids, test_ids : list
        The ids of each side, in input order.  No group has rows on both sides.

    Raises
    ------
    ValueError
        If the lengths differ, ``test_fraction`` is outside ``(0, 1)`` or there
        are fewer than two groups.

    Examples
    --------
    >>> train, test = split_by_group(["r1", "r2", "r3", "r4"], ["FRA", "FRA", "PER", "NOR"], 0.34)
    >>> sorted(train + test)
    ['r1', 'r2', 'r3', 'r4']
    >>> ("r1" in test) == ("r2" in test)
    True
    """
    ids = list(ids)
    groups = list(groups)
    _check_same_length(ids, groups)
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    distinct = sorted(set(groups), key=lambda g: (g is None, type(g).__name__, str(g)))
    if len(distinct) < 2:
        raise ValueError(f"need at least two groups to split, got {len(distinct)}")
    n_test = min(max(int(round(test_fraction * len(distinct))), 1), len(distinct) - 1)
    order = np.random.default_rng(seed).permutation(len(distinct))
    test_groups = {distinct[i] for i in order[:n_test]}
    train_ids = [i for i, g in zip(ids, groups, strict=True) if g not in test_groups]
    test_ids = [i for i, g in zip(ids, groups, strict=True) if g in test_groups]
    return train_ids, test_ids
