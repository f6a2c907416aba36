"""Link the copies of one recommendation that different sources hold.

The same UPR recommendation can reach the repository several times: from OHCHR's
Universal Human Rights Index, from an OHCHR thematic list, from a Working Group
report extract and from the UPR Info database, each with its own id and its own
small differences of wording (a typo fixed, "health care" for "healthcare", an
acronym added in brackets, curly quotes) or of cutting (a thematic list merges
several States' recommendations into one entry, joined by ";").

`link_group` takes the records of one State under review and one session (the
only records that can be copies of each other) and decides, for each, whether it
is a copy of a record of a *preferred* source, in three steps:

1. ``exact``: the same text after `normalise_text`;
2. ``part``: one text is one of the ";"-separated recommendations the other merges;
3. ``similar``: TF-IDF cosine of character 3-5-grams at or above a threshold
   (`SIMILAR_THRESHOLD`, chosen on the Slovenia session-20 records that both the
   UPR Info export and the OHCHR thematic list hold; see `BENCHMARKS.md`).

Two records are never linked when both name recommending States and no State is
in both, nor when they come from the same source (one source does not hold the
same recommendation twice: identical texts there are different States'
recommendations). Each record of a source is the copy of at most one record, and
outside ``part`` links each record is claimed by at most one record of a given
other source: candidates are taken best score first. A copy points at the
canonical record of the record it copies, so every group of copies has one
canonical record, from the most preferred source.

Examples
--------
>>> recs = [
...     LinkInput("uhri-1", "ohchr_uhri", "Ratify the Optional Protocol to the CAT (OP-CAT)", ("FRA",)),
...     LinkInput("info-1", "upr_info", "Ratify the Optional Protocol to the CAT", ("FRA", "ESP")),
...     LinkInput("info-2", "upr_info", "Abolish the death penalty", ("ITA",)),
... ]
>>> rank = {"ohchr_uhri": 0, "upr_info": 1}.__getitem__
>>> [(d.id, d.canonical_id, d.method) for d in link_group(recs, rank)]
[('uhri-1', None, None), ('info-1', 'uhri-1', 'similar'), ('info-2', None, None)]
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

# Chosen on half of the Slovenia session-20 pairs (odd paragraph numbers; benchmarks/
# linking_quality.py --sweep): every true pair is found up to 0.95, and with the partners
# removed, the texts alone (States ignored) link no record wrongly from 0.75 up. Reported on
# the other half and on the UHRI sample against the shared records (BENCHMARKS.md).
SIMILAR_THRESHOLD = 0.80
MIN_PART_WORDS = 3
_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)


@dataclass(frozen=True, slots=True)
class LinkInput:
    """One stored record offered to linking."""

    id: str
    source: str
    text: str
    recommending_states: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LinkDecision:
    """Where a record stands: canonical (`canonical_id` None) or a copy, how it was linked, how sure."""

    id: str
    canonical_id: str | None
    method: str | None
    score: float


def normalise_text(text: str) -> str:
    """Case, accents, quotes, dashes and punctuation folded away; words separated by one space.

    >>> normalise_text("Ensure “erased persons’” rights –  now.")
    'ensure erased persons rights now'
    """
    folded = unicodedata.normalize("NFKD", text.casefold())
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return " ".join(_NON_WORD.sub(" ", folded).replace("_", " ").split())


def text_parts(text: str) -> tuple[str, ...]:
    """The normalised recommendations a ";"-joined entry merges (empty when it is one).

    >>> text_parts("Ratify the CAT; abolish the death penalty now")
    ('ratify the cat', 'abolish the death penalty now')
    >>> text_parts("Ratify the CAT")
    ()
    """
    parts = tuple(p for p in (normalise_text(piece) for piece in text.split(";")) if p)
    if len(parts) < 2 or any(len(p.split()) < MIN_PART_WORDS for p in parts):
        return ()
    return parts


@dataclass(slots=True)
class _Prepared:
    record: LinkInput
    order: int  # position of its source among the group's sources, most preferred first
    norm: str
    parts: tuple[str, ...]
    states: frozenset[str]


def _compatible(a: _Prepared, b: _Prepared) -> bool:
    return not (a.states and b.states and not (a.states & b.states))


def _exact_and_part(worse: Sequence[_Prepared], better: Sequence[_Prepared]) -> list[tuple[float, int, int, int, str]]:
    """Candidate edges (score, method order, worse index, better index, method) by text identity."""
    by_text: dict[str, list[int]] = defaultdict(list)
    by_part: dict[str, list[int]] = defaultdict(list)
    for j, b in enumerate(better):
        by_text[b.norm].append(j)
        for part in b.parts:
            by_part[part].append(j)
    edges: list[tuple[float, int, int, int, str]] = []
    for i, w in enumerate(worse):
        for j in by_text.get(w.norm, ()):
            edges.append((1.0, 0, i, j, "exact"))
        for j in by_part.get(w.norm, ()):
            edges.append((1.0, 1, i, j, "part"))
        for part in w.parts:
            for j in by_text.get(part, ()):
                edges.append((1.0, 1, i, j, "part"))
    return edges


def _similar(
    worse: Sequence[_Prepared], better: Sequence[_Prepared], threshold: float
) -> list[tuple[float, int, int, int, str]]:
    """Candidate edges by TF-IDF cosine of character n-grams, at or above the threshold."""
    if not worse or not better:
        return []
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, dtype=np.float32)
    matrix = vectorizer.fit_transform([p.norm for p in worse] + [p.norm for p in better])
    scores = (matrix[: len(worse)] @ matrix[len(worse) :].T).tocoo()
    # float32 products of identical texts may exceed 1 by a rounding step: cap, so exact links sort first.
    return [
        (min(float(s), 1.0), 2, int(i), int(j), "similar")
        for i, j, s in zip(scores.row, scores.col, scores.data, strict=True)
        if s >= threshold
    ]


def link_group(
    records: Iterable[LinkInput],
    rank: Callable[[str], int],
    *,
    threshold: float = SIMILAR_THRESHOLD,
    check_states: bool = True,
) -> list[LinkDecision]:
    """Decide canonical records and copies among records of one State and session.

    `rank(source)` orders the sources, lowest first (the preferred copy becomes
    canonical); ties between sources break by name. The answer has one decision
    per record, in the order given. `check_states=False` ignores the recommending
    States (to measure what the texts alone decide).
    """
    given = list(records)
    sources = sorted({r.source for r in given}, key=lambda s: (rank(s), s))
    order = {s: n for n, s in enumerate(sources)}
    prepared = [
        _Prepared(r, order[r.source], normalise_text(r.text), text_parts(r.text), frozenset(r.recommending_states))
        for r in given
    ]
    decided: dict[str, LinkDecision] = {}
    by_source: dict[int, list[_Prepared]] = defaultdict(list)
    for p in sorted(prepared, key=lambda p: (p.order, p.record.id)):
        by_source[p.order].append(p)
    for p in by_source.get(0, []):
        decided[p.record.id] = LinkDecision(p.record.id, None, None, 1.0)
    for level in range(1, len(sources)):
        worse = by_source[level]
        better = [p for n in range(level) for p in by_source[n]]
        edges = _exact_and_part(worse, better) + _similar(worse, better, threshold)
        edges.sort(key=lambda e: (-e[0], e[1], better[e[3]].order, worse[e[2]].record.id, better[e[3]].record.id))
        assigned: set[int] = set()
        claimed: set[int] = set()
        for score, _, i, j, how in edges:
            if i in assigned or (how != "part" and j in claimed):
                continue
            if check_states and not _compatible(worse[i], better[j]):
                continue
            target = better[j].record.id
            canonical = decided[target].canonical_id or target
            decided[worse[i].record.id] = LinkDecision(worse[i].record.id, canonical, how, round(score, 4))
            assigned.add(i)
            if how != "part":
                claimed.add(j)
        for i, w in enumerate(worse):
            if i not in assigned:
                decided[w.record.id] = LinkDecision(w.record.id, None, None, 1.0)
    return [decided[r.id] for r in given]


__all__ = ["LinkDecision", "LinkInput", "SIMILAR_THRESHOLD", "link_group", "normalise_text", "text_parts"]
