"""Theme vectors, cosine similarity and the "shares: ..." themes."""

from __future__ import annotations

import numpy as np
import pytest

from matching.themes import bridging_themes, cosine_similarity, theme_contributions, theme_vector

CLASSES = ["Detention", "Torture and other CID treatment", "Women's rights", "Right to education"]


def test_declared_labels_win_over_probabilities() -> None:
    vec = theme_vector(["Detention"], CLASSES, probas=[0.1, 0.9, 0.0, 0.0])
    assert vec.tolist() == [1.0, 0.0, 0.0, 0.0]


def test_falls_back_to_probabilities_when_no_known_label() -> None:
    assert theme_vector(["Not a theme"], CLASSES, probas=np.array([0.1, 0.9, 0.0, 0.2])).tolist() == [
        0.1,
        0.9,
        0.0,
        0.2,
    ]
    assert theme_vector(None, CLASSES, probas={"Women's rights": 0.7}).tolist() == [0.0, 0.0, 0.7, 0.0]
    assert theme_vector([], CLASSES).tolist() == [0.0] * 4
    with pytest.raises(ValueError):
        theme_vector([], CLASSES, probas=[0.5, 0.5])


def test_cosine_vector_and_matrix_forms() -> None:
    # (1*1 + 0*1) / (1 * sqrt(2)) = 0.70711
    assert cosine_similarity([1, 0, 0, 0], [1, 1, 0, 0]) == pytest.approx(2**-0.5)
    queries = np.array([[1, 0, 0, 0], [0, 0, 0, 0]], dtype=float)
    docs = np.array([[1, 1, 0, 0], [0, 0, 1, 0], [2, 0, 0, 0]], dtype=float)
    sims = cosine_similarity(queries, docs)
    assert sims.shape == (2, 3)
    assert sims[0].tolist() == pytest.approx([2**-0.5, 0.0, 1.0])
    assert sims[1].tolist() == [0.0, 0.0, 0.0]  # a zero vector is similar to nothing, never nan
    assert cosine_similarity([1, 0, 0, 0], docs).shape == (3,)


def test_contributions_sum_to_the_cosine() -> None:
    q = np.array([0.9, 0.8, 0.1, 0.0])
    d = np.array([1.0, 0.3, 0.0, 1.0])
    parts = theme_contributions(q, d, CLASSES)
    assert sum(v for _, v in parts) == pytest.approx(cosine_similarity(q, d))
    assert [name for name, _ in parts] == ["Detention", "Torture and other CID treatment"]


def test_bridging_themes_for_the_explanation() -> None:
    query = theme_vector(["Detention", "Torture and other CID treatment"], CLASSES)
    doc = theme_vector([], CLASSES, probas=[0.6, 0.9, 0.05, 0.3])
    # terms proportional to 1*0.6 and 1*0.9: torture first, then detention; nothing else is shared
    assert bridging_themes(query, doc, CLASSES) == ["Torture and other CID treatment", "Detention"]
    assert bridging_themes(query, doc, CLASSES, top=1) == ["Torture and other CID treatment"]
    assert bridging_themes(query, doc, CLASSES, min_contribution=0.5) == ["Torture and other CID treatment"]
    assert bridging_themes(np.zeros(4), doc, CLASSES) == []
    with pytest.raises(ValueError):
        bridging_themes([1, 0], [1, 0], CLASSES)
