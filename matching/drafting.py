"""Draft needs from a State's recommendations: group by theme, merge near-duplicates.

A State under review receives many recommendations on the same subject, often
repeated from one cycle to the next in nearly the same words. Drafting turns
its supported recommendations that no need covers yet into a few proposed
needs: one per theme, each listing its recommendations, with the
near-duplicates (cosine similarity of their TF-IDF vectors at or above a
threshold) merged into one item so the State sees each ask once.

Examples
--------
>>> recs = [
...     DraftInput("r1", "Ratify the Optional Protocol to the Convention against Torture", ("Torture",), 1),
...     DraftInput("r2", "Ratify the Optional Protocol to the Convention against Torture.", ("Torture",), 2),
...     DraftInput("r3", "Establish a national preventive mechanism against torture", ("Torture",), 2),
...     DraftInput("r4", "Adopt a law on domestic violence", ("Women's rights",), 2),
... ]
>>> [(d.theme, d.recommendation_ids, len(d.items)) for d in draft_groups(recs)]
[('Torture', ('r2', 'r1', 'r3'), 2), ("Women's rights", ('r4',), 1)]
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

UNTHEMED = "Other"


@dataclass(frozen=True, slots=True)
class DraftInput:
    """One recommendation offered to drafting."""

    id: str
    text: str
    themes: tuple[str, ...]
    cycle: int


@dataclass(frozen=True, slots=True)
class DraftItem:
    """One distinct ask: a recommendation and the near-duplicates merged into it (newest first)."""

    ids: tuple[str, ...]
    text: str


@dataclass(frozen=True, slots=True)
class DraftGroup:
    """A proposed need: a theme and the recommendations it would cover."""

    theme: str
    items: tuple[DraftItem, ...]

    @property
    def recommendation_ids(self) -> tuple[str, ...]:
        return tuple(i for item in self.items for i in item.ids)

    @property
    def title(self) -> str:
        n = len(self.recommendation_ids)
        noun = "recommendation" if n == 1 else "recommendations"
        return f"{self.theme}: support to implement {n} supported {noun}"


def draft_groups(
    recommendations: Sequence[DraftInput],
    *,
    duplicate_threshold: float = 0.8,
    max_items: int = 40,
) -> list[DraftGroup]:
    """Group recommendations by theme and merge near-duplicates.

    Parameters
    ----------
    recommendations : sequence of DraftInput
        The State's recommendations to draft from (typically: supported, not
        yet cited by a need).
    duplicate_threshold : float, default 0.8
        Cosine similarity (TF-IDF, word uni- and bigrams) at or above which two
        recommendations of a group are the same ask.
    max_items : int, default 40
        Largest number of distinct asks in one group; a larger theme is split
        into several groups (titles stay per theme).

    Returns
    -------
    list of DraftGroup
        Largest groups first, then by theme. Each recommendation appears in
        exactly one group: the most common of its themes in this set.

    Raises
    ------
    ValueError
        If the threshold is not in (0, 1], `max_items` < 1 or an id repeats.
    """
    if not 0 < duplicate_threshold <= 1:
        raise ValueError(f"duplicate_threshold must be in (0, 1], got {duplicate_threshold}")
    if max_items < 1:
        raise ValueError(f"max_items must be >= 1, got {max_items}")
    seen: set[str] = set()
    for rec in recommendations:
        if rec.id in seen:
            raise ValueError(f"recommendation ids must be unique, got {rec.id!r} twice")
        seen.add(rec.id)
    return _draft(list(recommendations), duplicate_threshold, max_items)


def _draft(recs: list[DraftInput], threshold: float, max_items: int) -> list[DraftGroup]:
    frequency = Counter(theme for rec in recs for theme in set(rec.themes))
    by_theme: dict[str, list[DraftInput]] = defaultdict(list)
    for rec in recs:
        themes = sorted(set(rec.themes), key=lambda t: (-frequency[t], t))
        by_theme[themes[0] if themes else UNTHEMED].append(rec)
    groups: list[DraftGroup] = []
    for theme, members in by_theme.items():
        items = _merge_duplicates(members, threshold)
        for start in range(0, len(items), max_items):
            groups.append(DraftGroup(theme=theme, items=tuple(items[start : start + max_items])))
    groups.sort(key=lambda g: (-len(g.recommendation_ids), g.theme, g.recommendation_ids))
    return groups


def _merge_duplicates(members: list[DraftInput], threshold: float) -> list[DraftItem]:
    # Newest cycle first, so each merged item is represented by its latest wording.
    members = sorted(members, key=lambda r: (-r.cycle, r.id))
    parent = list(range(len(members)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    if len(members) > 1:
        try:
            matrix = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True).fit_transform([m.text for m in members])
        except ValueError:  # only stop words or empty texts: nothing to compare
            matrix = None
        if matrix is not None:
            similarity = (matrix @ matrix.T).toarray()
            rows, cols = np.nonzero(np.triu(similarity >= threshold - 1e-9, k=1))
            for i, j in zip(rows.tolist(), cols.tolist(), strict=True):
                a, b = find(i), find(j)
                if a != b:
                    parent[max(a, b)] = min(a, b)
    clusters: dict[int, list[int]] = defaultdict(list)
    for i in range(len(members)):
        clusters[find(i)].append(i)
    return [
        DraftItem(ids=tuple(members[i].id for i in indexes), text=members[indexes[0]].text)
        for _, indexes in sorted(clusters.items())
    ]
