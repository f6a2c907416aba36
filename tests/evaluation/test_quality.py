"""The matching-quality harness computes its metrics correctly on a hand-checked toy split.

No shared data: 3 providers, 4 queries, hand-written texts, themes and relevance.
These tests check the arithmetic of the harness (grades, rankings, nDCG/MRR/P@1,
fusion), not that any system beats a number.
"""

from __future__ import annotations

from math import log2

import numpy as np
import pytest

from evaluation.quality import (
    bm25_scores,
    build_needs,
    evaluate_rankings,
    evaluate_scores,
    expand_with_themes,
    graded_relevance,
    matcher_scores,
    rank_ids,
    sharpen,
    sklearn_scores,
    theme_scores,
)
from matching.ranking import weighted_mean
from matching.themes import sentence_mean_proba, split_sentences

IDS = ["apt", "undp", "unicef"]
RELEVANCE = {
    "apt": {"core": ["Torture"], "secondary": ["Detention"]},
    "undp": {"core": ["Development"], "secondary": []},
    "unicef": {"core": ["Children"], "secondary": ["Detention"]},
}
QUERY_THEMES = [
    ["Torture"],  # q1: apt 2
    ["Detention"],  # q2: apt 1, unicef 1
    ["Children", "Torture"],  # q3: apt 2, unicef 2
    ["Development", "Detention"],  # q4: undp 2, apt 1, unicef 1
]
L3 = log2(3)  # discount of rank 2


def gradings():
    return [graded_relevance(themes, RELEVANCE) for themes in QUERY_THEMES]


def test_grades_are_the_best_grade_over_the_query_themes():
    assert gradings() == [
        {"apt": 2, "undp": 0, "unicef": 0},
        {"apt": 1, "undp": 0, "unicef": 1},
        {"apt": 2, "undp": 0, "unicef": 2},  # Children core for unicef, Torture core for apt
        {"apt": 1, "undp": 2, "unicef": 1},  # core beats secondary: undp 2
    ]


def test_rank_ids_drops_zero_scores_and_breaks_ties_by_id():
    assert rank_ids([0.3, 0.0, 0.3], IDS) == ["apt", "unicef"]
    assert rank_ids([0.0, 0.0, 0.0], IDS) == []
    with pytest.raises(ValueError):
        rank_ids([0.1], IDS)


def test_metrics_of_a_literal_score_matrix():
    text = np.array(
        [
            # apt undp unicef
            [0.6, 0.1, 0.0],  # q1 -> [apt, undp]: DCG = 2/1 = IDCG -> nDCG 1; MRR 1; P@1 1; core 1
            [0.0, 0.5, 0.2],  # q2 -> [undp, unicef]: DCG = 0 + 1/log2(3) = 0.6309,
            #                   IDCG = 1 + 1/log2(3) = 1.6309 -> nDCG 0.3869; MRR 1/2; P@1 0; core 0
            [
                0.3,
                0.0,
                0.3,
            ],  # q3 -> tie, by id: [apt, unicef]: DCG = 2 + 2/log2(3) = IDCG -> 1; MRR 1; P@1 1; core 1
            [0.0, 0.0, 0.0],  # q4 -> nothing retrieved: nDCG 0; MRR 0; P@1 0; core 0
        ]
    )
    m = evaluate_scores(text, IDS, gradings())
    q2 = (1 / L3) / (1 + 1 / L3)
    assert q2 == pytest.approx(0.38685, abs=1e-5)
    assert m["ndcg"] == pytest.approx((1 + q2 + 1 + 0) / 4)  # 0.5967
    assert m["mrr"] == pytest.approx((1 + 0.5 + 1 + 0) / 4)  # 0.625
    assert m["p1"] == pytest.approx(2 / 4)
    assert m["p1_core"] == pytest.approx(2 / 4)
    assert m["n"] == 4


def test_core_precision_differs_from_graded_precision():
    # q2 and q4 ranked with a secondary provider first: relevant (grade 1) but not core.
    rankings = [["apt"], ["unicef"], ["unicef"], ["apt", "undp"]]
    m = evaluate_rankings(rankings, gradings())
    # P@1: apt(2) yes, unicef(1) yes, unicef(2) yes, apt(1) yes -> 4/4; core: apt(2), unicef(2) -> 2/4
    assert m["p1"] == 1.0
    assert m["p1_core"] == 0.5
    # q4 nDCG: DCG = 1 + 2/log2(3) = 2.2619; IDCG = 2 + 1/log2(3) + 1/2 = 3.1309 -> 0.7225
    # q2: [unicef] DCG 1 / IDCG 1.6309 = 0.6131; q1, q3 ([unicef] of apt 2, unicef 2): 1, 2/(2 + 2/log2 3) = 0.6131
    q4 = (1 + 2 / L3) / (2 + 1 / L3 + 0.5)
    q2 = 1 / (1 + 1 / L3)
    q3 = 2 / (2 + 2 / L3)
    assert m["ndcg"] == pytest.approx((1 + q2 + q3 + q4) / 4)


def test_mixing_text_and_theme_scores_reorders_by_theme():
    text = np.array([[0.0, 0.5, 0.2], [0.0, 0.0, 0.0]])  # q2, q4 text scores
    theme = np.array([[0.9, 0.0, 0.9], [0.2, 0.8, 0.1]])
    fused = weighted_mean([(text, 0.45), (theme, 0.30)])  # (0.45 text + 0.30 theme) / 0.75
    # q2: apt 0.27/0.75 = 0.36; undp 0.225/0.75 = 0.30; unicef (0.09 + 0.27)/0.75 = 0.48
    # q4: theme * 0.4: apt 0.08, undp 0.32, unicef 0.04
    assert fused.round(4).tolist() == [[0.36, 0.3, 0.48], [0.08, 0.32, 0.04]]
    m = evaluate_scores(fused, IDS, [gradings()[1], gradings()[3]])
    # q2 -> [unicef, apt, undp]: DCG = 1 + 1/log2 3 = IDCG -> 1;
    # q4 -> [undp, apt, unicef]: 2 + 1/log2 3 + 1/2 = IDCG -> 1
    assert m["ndcg"] == pytest.approx(1.0)
    assert m["mrr"] == 1.0
    assert m["p1_core"] == 0.5  # unicef is only secondary for Detention; undp core for Development
    # theme weight 0 leaves the text ranking
    assert np.allclose(weighted_mean([(text, 1.0), (theme, 0.0)]), text)


def test_theme_vectors_and_cosine():
    proba = np.array([[0.9, 0.3, 0.1], [0.1, 0.2, 0.8]])
    # top 1: [0.9, 0, 0] and [0, 0, 0.8] -> orthogonal
    assert theme_scores(sharpen(proba, top=1), sharpen(proba, top=1)).round(4).tolist() == [
        [1.0, 0.0],
        [0.0, 1.0],
    ]
    # raw: (0.09 + 0.06 + 0.08) / (sqrt(0.91) * sqrt(0.69)) = 0.23 / (0.9539 * 0.8307) = 0.2903
    assert theme_scores(proba[:1], proba[1:])[0, 0] == pytest.approx(0.23 / (0.91**0.5 * 0.69**0.5))
    assert expand_with_themes(["x"], proba[:1], ["A", "B", "C"], 2) == ["x\nA. B"]
    assert expand_with_themes(["x"], proba[:1], ["A", "B", "C"], 0) == ["x"]


PROVIDER_TEXTS = [
    "Association for the Prevention of Torture. Visits to prisons and police cells to prevent torture.",
    "Development Programme. Poverty reduction, governance and rule of law.",
    "Children's Fund. Child protection, schooling and juvenile justice for children.",
]
QUERIES = [
    "Prevent torture in prisons",  # shares prevent/torture/prisons with apt only
    "Protect children from juvenile detention",  # shares child/juvenile/protect with unicef only
]


def test_end_to_end_on_literal_texts():
    grades = [graded_relevance(["Torture"], RELEVANCE), graded_relevance(["Detention"], RELEVANCE)]
    s = matcher_scores(QUERIES, PROVIDER_TEXTS, IDS)
    assert [rank_ids(row, IDS) for row in s] == [["apt"], ["unicef"]]
    m = evaluate_scores(s, IDS, grades)
    # q1: apt (2) first, IDCG 2 -> 1.  q2: unicef (1) first; apt (1) not retrieved:
    # DCG 1, IDCG 1 + 1/log2 3 = 1.6309 -> 0.6131.  MRR 1, 1; P@1 1, 1; core: 1, 0.
    assert m["ndcg"] == pytest.approx((1 + 1 / (1 + 1 / L3)) / 2)
    assert (m["mrr"], m["p1"], m["p1_core"]) == (1.0, 1.0, 0.5)
    for baseline in (sklearn_scores(QUERIES, PROVIDER_TEXTS), bm25_scores(QUERIES, PROVIDER_TEXTS)):
        assert baseline.shape == (2, 3)
        assert rank_ids(baseline[0], IDS)[0] == "apt"
        assert rank_ids(baseline[1], IDS)[0] == "unicef"


def test_bm25_uses_the_same_stemming_and_survives_unknown_queries():
    # "tortured" only matches "torture" after stemming
    assert bm25_scores(["tortured"], PROVIDER_TEXTS)[0, 0] > 0
    assert bm25_scores(["tortured"], PROVIDER_TEXTS, stem=False)[0, 0] == 0
    assert bm25_scores(["zzz qqq", "the"], PROVIDER_TEXTS).tolist() == [[0.0] * 3] * 2


def test_needs_group_a_states_recommendations_by_theme():
    recs = [{"id": f"f{i}", "text": f"t{i}", "themes": ["A"], "state_under_review_iso3": "FRA"} for i in range(7)]
    recs.append({"id": "f7", "text": "t7", "themes": ["A", "B"], "state_under_review_iso3": "FRA"})
    recs += [{"id": f"p{i}", "text": f"u{i}", "themes": ["A"], "state_under_review_iso3": "PER"} for i in range(2)]
    needs = build_needs(recs, min_size=4, max_size=4, seed=0)
    # FRA/A: 8 recs -> two needs of 4; FRA/B: 1 rec < 4 -> none; PER/A: 2 recs -> none
    assert [(n["state"], n["theme"], len(n["record_ids"])) for n in needs] == [
        ("FRA", "A", 4),
        ("FRA", "A", 4),
    ]
    assert sorted(i for n in needs for i in n["record_ids"]) == [f"f{i}" for i in range(8)]
    with_b = next(n for n in needs if "f7" in n["record_ids"])
    assert with_b["themes"] == ["A", "B"]  # union of the cited recommendations' themes
    assert with_b["text"].count("\n") == 3
    assert build_needs(recs, 3, 5, seed=1) == build_needs(recs, 3, 5, seed=1)  # deterministic


class FakeTagger:
    """proba_matrix by keyword: "torture" -> theme 0, "school" -> theme 1."""

    def proba_matrix(self, texts):
        return np.array([[0.9 if "torture" in t else 0.1, 0.8 if "school" in t else 0.0] for t in texts])


def test_provider_theme_vectors_average_over_sentences():
    texts = ["Visits prisons to stop torture. Builds a school for girls.", "Runs one school in town."]
    assert split_sentences(texts[0]) == ["Visits prisons to stop torture.", "Builds a school for girls."]
    # text 1: sentences [0.9, 0.0] and [0.1, 0.8] -> mean [0.5, 0.4]; text 2: one sentence [0.1, 0.8]
    assert sentence_mean_proba(FakeTagger(), texts).round(4).tolist() == [[0.5, 0.4], [0.1, 0.8]]
    # tagged whole, text 1 would be [0.9, 0.8]: both themes look near-certain
    assert FakeTagger().proba_matrix(texts[:1]).tolist() == [[0.9, 0.8]]
    # dot product: query [1, 0] . [0.5, 0.4] = 0.5, . [0.1, 0.8] = 0.1
    assert theme_scores(np.array([[1.0, 0.0]]), sentence_mean_proba(FakeTagger(), texts), "dot").round(4).tolist() == [
        [0.5, 0.1]
    ]
    with pytest.raises(ValueError):
        theme_scores(np.ones((1, 2)), np.ones((1, 2)), "euclid")
