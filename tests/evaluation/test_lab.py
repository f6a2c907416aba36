"""The lab's theme spaces: its defaults read as the service does, and each setting changes the reading."""

from __future__ import annotations

import numpy as np

from evaluation.lab import LabThemeSpace, lab_space
from matching.prototypes import ThemePrototypes
from matching.theme_space import ThemeSpace, service_space
from tests.matching.test_ranking import KeywordTagger

TEXT = "Torture in detention. Rights of women and girls."


def test_the_lab_defaults_are_the_services_reading() -> None:
    tagger = KeywordTagger()
    service = service_space(tagger)  # type: ignore[arg-type]
    plain_lab = lab_space(tagger)  # type: ignore[arg-type]
    assert type(plain_lab) is ThemeSpace and plain_lab.recipe == service.recipe  # no settings: the service's space
    lab = lab_space(tagger, example_share=0.1)  # type: ignore[arg-type]
    assert isinstance(lab, LabThemeSpace) and lab.example_share == 0.1
    assert lab.residual == service.residual and lab.prototypes is not None
    assert lab.recipe == service.recipe.replace("examples=0.15", "examples=0.1")
    same = LabThemeSpace(tagger)  # type: ignore[arg-type]
    plain = ThemeSpace(tagger)  # type: ignore[arg-type]
    assert same.recipe == plain.recipe
    for by_sentence in (False, True):
        [a] = same.vectors([TEXT], [[]], by_sentence=by_sentence)  # type: ignore[misc]
        [b] = plain.vectors([TEXT], [[]], by_sentence=by_sentence)  # type: ignore[misc]
        np.testing.assert_array_equal(a, b)


def test_a_floor_drops_faint_predictions() -> None:
    floored = LabThemeSpace(KeywordTagger(), floor=0.2)  # type: ignore[arg-type]
    assert floored.vectors([TEXT], [[]])[0].tolist() == [0.0, 0.9, 0.9]  # type: ignore[index]
    assert ThemeSpace(KeywordTagger()).vectors([TEXT], [[]])[0].tolist() == [0.1, 0.9, 0.9]  # type: ignore[arg-type, index]
    assert "floor=0.2" in floored.recipe


def test_pieces_and_pooling_change_how_a_profile_is_read() -> None:
    clauses = "It visits places of detention; it also runs shelters for women and girls."
    by_clause = LabThemeSpace(KeywordTagger(), whole_share=0.0)  # type: ignore[arg-type]
    by_sentence = LabThemeSpace(KeywordTagger(), whole_share=0.0, pieces="sentences")  # type: ignore[arg-type]
    [one] = by_clause.vectors([clauses], [[]], by_sentence=True)  # type: ignore[misc]
    [two] = by_sentence.vectors([clauses], [[]], by_sentence=True)  # type: ignore[misc]
    assert one.round(6).tolist() == [0.2, 1.0, 1.0]  # two clauses, each its line of work: (0.9 + 0.1) / 2 / 0.5
    assert two.round(6).tolist() == [round(0.1 / 0.9, 6), 1.0, 1.0]  # one sentence, read whole
    pooled_max = LabThemeSpace(KeywordTagger(), whole_share=0.0, pooling="max")  # type: ignore[arg-type]
    [mean] = by_clause.vectors([TEXT], [[]], by_sentence=True)  # type: ignore[misc]
    [top] = pooled_max.vectors([TEXT], [[]], by_sentence=True)  # type: ignore[misc]
    assert mean.round(6).tolist() == [0.2, 1.0, 1.0]
    assert top.round(6).tolist() == [round(0.1 / 0.9, 6), 1.0, 1.0]  # the maximum over the two sentences
    assert "pieces=sentences" in by_sentence.recipe and "pooling=max" in pooled_max.recipe


def test_expansion_top_sets_how_many_themes_lend_their_words() -> None:
    tagger = KeywordTagger()
    prototypes = ThemePrototypes({c: f"description of {c}" for c in tagger.classes_}, tagger.classes_)
    vec = np.array([0.9, 0.8, 0.0])
    service = ThemeSpace(tagger, prototypes=prototypes)  # type: ignore[arg-type]
    assert service.expand("q", vec, []).count("description of") == 1
    assert (
        LabThemeSpace(tagger, prototypes=prototypes, expansion_top=2).expand("q", vec, []).count("description of") == 2
    )  # type: ignore[arg-type]
    assert LabThemeSpace(tagger, prototypes=prototypes, expansion_top=0).expand("q", vec, []) == "q"  # type: ignore[arg-type]
