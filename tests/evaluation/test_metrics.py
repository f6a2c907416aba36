"""Metrics on hand-checked toy cases (the hand computation is in the comments)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evaluation.metrics import (
    macro_f1,
    micro_f1,
    mrr,
    ndcg_at_k,
    per_label_f1,
    precision_at_1,
    precision_at_k,
    split_by_group,
)

TRUE = [{"torture", "detention"}, {"women"}, {"children", "education"}, set()]
PRED = [{"torture"}, {"women", "children"}, {"education"}, {"women"}]


def test_micro_f1_hand_computed() -> None:
    # tp: torture, women, education = 3
    # fp: children (item 2), women (item 4) = 2
    # fn: detention (item 1), children (item 3) = 2
    # F1 = 2*3 / (2*3 + 2 + 2) = 6/10
    assert micro_f1(TRUE, PRED) == pytest.approx(0.6)


def test_macro_f1_hand_computed() -> None:
    # torture  tp1 fp0 fn0 -> 1
    # detention tp0 fp0 fn1 -> 0
    # women    tp1 fp1 fn0 -> 2/3
    # children tp0 fp1 fn1 -> 0
    # education tp1 fp0 fn0 -> 1
    # mean = (1 + 0 + 2/3 + 0 + 1) / 5 = (8/3) / 5 = 0.5333
    assert macro_f1(TRUE, PRED) == pytest.approx(8 / 15)
    assert per_label_f1(TRUE, PRED)["women"] == pytest.approx(2 / 3)


def test_macro_f1_skips_labels_absent_from_truth_and_predictions() -> None:
    # "health" has no true and no predicted positive: left out, so the mean is unchanged
    assert macro_f1(TRUE, PRED, labels=["torture", "detention", "women", "children", "education", "health"]) == (
        pytest.approx(8 / 15)
    )
    # restricting the labels restricts the mean: (torture 1 + women 2/3) / 2
    assert macro_f1(TRUE, PRED, labels=["torture", "women"]) == pytest.approx(5 / 6)


def test_f1_empty_cases_are_defined() -> None:
    assert micro_f1([set(), set()], [set(), set()]) == 1.0
    assert macro_f1([set()], [set()]) == 1.0
    assert micro_f1([{"a"}], [set()]) == 0.0
    with pytest.raises(ValueError):
        micro_f1([{"a"}], [])


def test_precision_at_1_accepts_labels_and_scored_pairs() -> None:
    # item 1 top torture (true) hit; item 2 top children (not true) miss;
    # item 3 top education hit; item 4 empty ranking miss -> 2/4
    ranked = [[("torture", 0.9), ("detention", 0.5)], ["children", "women"], ["education"], []]
    assert precision_at_1(TRUE, ranked) == pytest.approx(0.5)
    assert precision_at_1([], []) == 0.0


def test_precision_at_k() -> None:
    # top 4 = a, x, b, y; relevant {a, b, c}: 2 hits / 4
    assert precision_at_k(["a", "x", "b", "y", "c"], {"a", "b", "c"}, k=4) == pytest.approx(0.5)
    # fewer than k ranked: denominator stays k -> 1/3
    assert precision_at_k(["a"], {"a"}, k=3) == pytest.approx(1 / 3)
    with pytest.raises(ValueError):
        precision_at_k(["a"], {"a"}, k=0)


def test_mrr() -> None:
    assert mrr(["a", "b"], {"a"}) == 1.0
    assert mrr(["x", "y", "b"], {"b", "z"}) == pytest.approx(1 / 3)
    assert mrr([("x", 0.9), ("b", 0.1)], {"b"}) == 0.5
    assert mrr([], {"a"}) == 0.0


def test_ndcg_graded_hand_computed() -> None:
    grades = {"core": 2.0, "secondary": 1.0, "other": 1.0}
    # ranking [x, core, secondary], k=3
    # DCG = 0/log2(2) + 2/log2(3) + 1/log2(4) = 1.26186 + 0.5 = 1.76186
    # IDCG (grades 2, 1, 1) = 2/1 + 1/log2(3) + 1/2 = 2 + 0.63093 + 0.5 = 3.13093
    # nDCG = 1.76186 / 3.13093 = 0.56273
    dcg = 2 / math.log2(3) + 1 / 2
    idcg = 2 + 1 / math.log2(3) + 1 / 2
    assert ndcg_at_k(["x", "core", "secondary"], grades, k=3) == pytest.approx(dcg / idcg)
    assert ndcg_at_k(["x", "core", "secondary"], grades, k=3) == pytest.approx(0.56273, abs=1e-5)


def test_ndcg_edge_cases() -> None:
    assert ndcg_at_k(["core", "secondary", "other"], {"core": 2, "secondary": 1, "other": 1}) == pytest.approx(1.0)
    assert ndcg_at_k(["a", "b"], {}) == 0.0
    # a repeated id gains once: [a, a] with a=1 -> DCG 1, IDCG 1
    assert ndcg_at_k(["a", "a"], {"a": 1}) == pytest.approx(1.0)
    # k cuts the ideal list too: only the best grade counts at k=1
    assert ndcg_at_k(["b"], {"a": 2, "b": 1}, k=1) == pytest.approx(0.5)
    with pytest.raises(ValueError):
        ndcg_at_k(["a"], {"a": -1})


def test_split_by_group_holds_out_whole_groups() -> None:
    ids = [f"r{i}" for i in range(20)]
    groups = ["FRA", "PER", "NOR", "KEN", "IND"] * 4
    train, test = split_by_group(ids, groups, test_fraction=0.4, seed=3)
    group_of = dict(zip(ids, groups, strict=True))
    assert {group_of[i] for i in train}.isdisjoint({group_of[i] for i in test})
    assert len({group_of[i] for i in test}) == 2  # round(0.4 * 5)
    assert sorted(train + test) == sorted(ids)
    assert split_by_group(ids, groups, 0.4, seed=3) == (train, test)  # deterministic


def test_split_by_group_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        split_by_group(["a", "b"], ["X", "X"])
    with pytest.raises(ValueError):
        split_by_group(["a", "b"], ["X", "Y"], test_fraction=1.0)
    with pytest.raises(ValueError):
        split_by_group(["a"], ["X", "Y"])


@settings(max_examples=60, deadline=None)
@given(
    groups=st.lists(st.sampled_from(["A", "B", "C", "D", "E", None]), min_size=2, max_size=60),
    fraction=st.floats(min_value=0.05, max_value=0.95),
    seed=st.integers(min_value=0, max_value=10_000),
)
def test_split_by_group_never_puts_a_group_on_both_sides(groups: list, fraction: float, seed: int) -> None:
    ids = list(range(len(groups)))
    if len(set(groups)) < 2:
        with pytest.raises(ValueError):
            split_by_group(ids, groups, fraction, seed)
        return
    train, test = split_by_group(ids, groups, fraction, seed)
    assert train and test
    assert {groups[i] for i in train}.isdisjoint({groups[i] for i in test})
    assert sorted(train + test) == ids


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sets(st.sampled_from("abcde"), max_size=3), st.sets(st.sampled_from("abcde"), max_size=3)),
        min_size=1,
        max_size=20,
    )
)
def test_f1_scores_are_bounded_and_perfect_on_identity(pairs: list) -> None:
    y_true = [p[0] for p in pairs]
    y_pred = [p[1] for p in pairs]
    assert 0.0 <= micro_f1(y_true, y_pred) <= 1.0
    assert 0.0 <= macro_f1(y_true, y_pred) <= 1.0
    assert micro_f1(y_true, y_true) == 1.0
    assert macro_f1(y_true, y_true) == 1.0
