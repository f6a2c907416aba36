"""Example profiles: a new profile borrows the themes of the example profiles closest to it in words."""

from __future__ import annotations

import numpy as np
import pytest

from matching.examples import ProfileExamples, examples_from_profiles
from matching.theme_space import EXAMPLE_SHARE, ThemeSpace
from tests.matching.test_ranking import CHILD, TORTURE, WOMEN, KeywordTagger

CLASSES = [CHILD, TORTURE, WOMEN]
PRISONS = "We visit prisons and police cells and report on the treatment of detainees"
SHELTERS = "We run shelters for survivors of domestic violence and legal clinics"
REGISTRY = "We help civil registries issue birth certificates in remote villages"


def examples(neighbours: int = 3) -> ProfileExamples:
    return ProfileExamples(
        [PRISONS, SHELTERS, REGISTRY], [[TORTURE], [WOMEN], [CHILD, "Not a class"]], CLASSES, neighbours=neighbours
    )


def test_a_profile_borrows_the_themes_of_its_closest_example_weighted_by_similarity() -> None:
    [row] = examples().borrowed(["Independent visits to prisons and places where detainees are held"])
    assert row.tolist()[1] == 1.0  # the prisons example is the closest: its theme leads
    assert row[0] < 1.0 and row[2] < 1.0  # the others, if shared words at all, count less


def test_only_the_closest_examples_count() -> None:
    text = "We visit prisons, run shelters for survivors and help registries issue birth certificates"
    assert np.count_nonzero(examples(neighbours=3).borrowed([text])[0]) == 3
    assert np.count_nonzero(examples(neighbours=1).borrowed([text])[0]) == 1


def test_a_text_sharing_no_word_with_any_example_borrows_nothing() -> None:
    assert examples().borrowed(["Xylophone zebra", ""]).tolist() == [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]


def test_a_profile_never_borrows_from_itself() -> None:
    # The prisons example read as a profile: its own themes are not borrowed, only the others'.
    [row] = examples(neighbours=1).borrowed([PRISONS])
    assert row[1] == 0.0
    [row] = ProfileExamples([PRISONS], [[TORTURE]], CLASSES).borrowed([PRISONS])
    assert row.tolist() == [0.0, 0.0, 0.0]


def test_themes_outside_the_classes_are_ignored_and_examples_without_any_left_out() -> None:
    found = ProfileExamples([PRISONS, SHELTERS], [[TORTURE], ["Not a class"]], CLASSES)
    assert len(found) == 1
    assert found.borrowed([SHELTERS.replace("We run", "Our")]).tolist() == [[0.0, 0.0, 0.0]]


def test_the_digest_changes_with_the_examples_their_themes_and_the_neighbours() -> None:
    base = examples().digest
    assert examples().digest == base
    assert examples(neighbours=2).digest != base
    other = ProfileExamples([PRISONS, SHELTERS, REGISTRY], [[TORTURE], [CHILD], [CHILD]], CLASSES)
    assert other.digest != base


def test_bad_arguments_name_what_is_wrong() -> None:
    with pytest.raises(ValueError, match="2 example texts but 1 theme lists"):
        ProfileExamples([PRISONS, SHELTERS], [[TORTURE]], CLASSES)
    with pytest.raises(ValueError, match="neighbours must be at least 1"):
        ProfileExamples([PRISONS], [[TORTURE]], CLASSES, neighbours=0)


def test_examples_from_profiles_read_name_and_description_only() -> None:
    found = examples_from_profiles(
        [{"name": "Prison Watch", "description": PRISONS, "themes": [TORTURE]}], CLASSES, neighbours=2
    )
    assert len(found) == 1 and found.neighbours == 2
    # The example's text is "name\ndescription": that very text is the example itself, not a neighbour.
    assert found.borrowed([f"Prison Watch\n{PRISONS}"]).tolist() == [[0.0, 0.0, 0.0]]
    assert found.borrowed([PRISONS])[0][1] == 1.0


def test_the_theme_space_mixes_the_borrowed_themes_into_profiles_only() -> None:
    plain = ThemeSpace(KeywordTagger())
    read = ThemeSpace(KeywordTagger(), examples=examples())
    text = "Independent visits to prisons and cells"  # no keyword of the stand-in tagger
    [before] = plain.vectors([text], [[]], by_sentence=True)  # type: ignore[misc]
    [after] = read.vectors([text], [[]], by_sentence=True)  # type: ignore[misc]
    assert before.tolist() == [1.0, 1.0, 1.0]  # the tagger alone cannot tell
    assert after[1] == pytest.approx(1.0)
    assert after[0] == pytest.approx(1.0 - EXAMPLE_SHARE) and after[2] == pytest.approx(1.0 - EXAMPLE_SHARE)
    # declared themes are read alone, and queries are not read through examples
    [declared] = read.vectors([text], [[WOMEN]], by_sentence=True)  # type: ignore[misc]
    assert declared.tolist() == [0.0, 0.0, 1.0]
    assert read.vector(text, []).tolist() == plain.vector(text, []).tolist()  # type: ignore[union-attr]
    # the recipe names the examples: stored vectors are read again when they change
    assert read.recipe != plain.recipe and examples().digest in read.recipe
    off = ThemeSpace(KeywordTagger(), examples=examples(), example_share=0.0)
    assert off.vectors([text], [[]], by_sentence=True)[0].tolist() == before.tolist()  # type: ignore[index]
