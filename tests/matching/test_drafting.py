"""Drafting needs: grouping by theme and merging near-duplicate recommendations."""

from __future__ import annotations

import pytest

from matching.drafting import DraftInput, draft_groups


def rec(id_: str, text: str, *themes: str, cycle: int = 2) -> DraftInput:
    return DraftInput(id_, text, tuple(themes), cycle)


def test_each_recommendation_lands_in_its_most_common_theme_once() -> None:
    groups = draft_groups(
        [
            rec("a", "Ratify OPCAT", "Torture", "International instruments"),
            rec("b", "Prevent torture in prisons", "Torture"),
            rec("c", "Ratify the CRPD", "International instruments", "Disabilities"),
        ]
    )
    assert [(g.theme, g.recommendation_ids) for g in groups] == [
        ("International instruments", ("a", "c")),
        ("Torture", ("b",)),
    ]  # a ties Torture and International instruments at 2 each: the name breaks the tie
    ids = [i for g in groups for i in g.recommendation_ids]
    assert sorted(ids) == ["a", "b", "c"]


def test_tie_between_themes_breaks_by_name() -> None:
    groups = draft_groups([rec("a", "x y", "Zeta", "Alpha"), rec("b", "p q", "Alpha", "Zeta")])
    assert [(g.theme, g.recommendation_ids) for g in groups] == [("Alpha", ("a", "b"))]


def test_near_duplicates_across_cycles_merge_newest_first() -> None:
    groups = draft_groups(
        [
            rec("old", "Adopt a comprehensive law against domestic violence", "Women", cycle=1),
            rec("new", "Adopt a comprehensive law against domestic violence.", "Women", cycle=3),
            rec("other", "Increase the representation of women in parliament", "Women", cycle=2),
        ]
    )
    (group,) = groups
    assert [item.ids for item in group.items] == [("new", "old"), ("other",)]
    assert group.items[0].text.endswith("violence.")
    assert group.title == "Women: support to implement 3 supported recommendations"


def test_threshold_one_merges_only_identical_texts() -> None:
    groups = draft_groups(
        [rec("a", "Abolish the death penalty", "DP"), rec("b", "Abolish the death penalty now", "DP")],
        duplicate_threshold=1.0,
    )
    assert [item.ids for item in groups[0].items] == [("a",), ("b",)]


def test_unthemed_recommendations_go_to_other() -> None:
    assert draft_groups([rec("a", "Do something")])[0].theme == "Other"


def test_large_theme_is_split() -> None:
    recs = [rec(f"r{i:02d}", f"distinct ask number {i} about topic{i}", "T") for i in range(5)]
    groups = draft_groups(recs, max_items=2)
    assert [len(g.items) for g in groups] == [2, 2, 1]
    assert [i for g in groups for i in g.recommendation_ids] == [f"r{i:02d}" for i in range(5)]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"duplicate_threshold": 0}, "duplicate_threshold must be in \\(0, 1\\], got 0"),
        ({"duplicate_threshold": 1.5}, "got 1.5"),
        ({"max_items": 0}, "max_items must be >= 1, got 0"),
    ],
)
def test_bad_parameters_name_the_value(kwargs: dict, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ValueError, match=message):
        draft_groups([rec("a", "x", "T")], **kwargs)


def test_duplicate_ids_are_refused() -> None:
    with pytest.raises(ValueError, match="'a' twice"):
        draft_groups([rec("a", "x", "T"), rec("a", "y", "T")])


def test_empty_input_gives_no_groups() -> None:
    assert draft_groups([]) == []
