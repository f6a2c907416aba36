"""Property-style checks of :class:`matching.TfidfMatcher` with hypothesis."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching import TfidfMatcher

# Two disjoint vocabularies: the corpus and queries use WORDS, the unrelated
# document only OTHER, so they share no term (stems included).
WORDS = [
    "torture",
    "detention",
    "girls",
    "education",
    "journalists",
    "police",
    "prisons",
    "refugees",
    "asylum",
    "elections",
    "water",
    "housing",
]
OTHER = ["zebra", "quartz", "violin", "glacier", "pepper", "saturn"]

doc = st.lists(st.sampled_from(WORDS), min_size=1, max_size=8).map(" ".join)
query = st.lists(st.sampled_from(WORDS), min_size=1, max_size=5).map(" ".join)
unrelated = st.lists(st.sampled_from(OTHER), min_size=1, max_size=5).map(" ".join)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _fit(docs: list[str]) -> TfidfMatcher:
    return TfidfMatcher().fit(docs, ids=[f"d{i:03d}" for i in range(len(docs))])


@SETTINGS
@given(
    docs=st.lists(doc, min_size=1, max_size=15),
    q=query,
    extras=st.lists(unrelated, min_size=1, max_size=3),
    compact=st.booleans(),
)
def test_unrelated_document_never_reorders_others(docs: list[str], q: str, extras: list[str], compact: bool) -> None:
    # Guaranteed by the frozen IDF of add(); a refit would change IDF and is
    # deliberately not part of this property.
    m = _fit(docs)
    before = m.match(q, top_k=len(docs))
    m.add(extras, ids=[f"zz{i}" for i in range(len(extras))])
    if compact:
        m.compact()
    after = m.match(q, top_k=len(docs) + len(extras))
    assert [h.id for h in after] == [h.id for h in before]
    assert after == before  # same scores too


@SETTINGS
@given(docs=st.lists(doc, min_size=1, max_size=15), qs=st.lists(query, max_size=4), top_k=st.integers(1, 20))
def test_results_are_well_formed(docs: list[str], qs: list[str], top_k: int) -> None:
    m = _fit(docs)
    many = m.match_many(qs, top_k=top_k)
    for q, hits in zip(qs, many, strict=True):
        assert hits == m.match(q, top_k=top_k)
        assert len(hits) <= top_k
        assert all(0.0 < h.score <= 1.0 for h in hits)
        assert [(-h.score, h.id) for h in hits] == sorted((-h.score, h.id) for h in hits)
        for h in hits:
            assert m.explain(q, id=h.id) == h


@SETTINGS
@given(docs=st.lists(doc, min_size=2, max_size=12), q=query, data=st.data())
def test_remove_equals_filtering_out(docs: list[str], q: str, data: st.DataObject) -> None:
    m = _fit(docs)
    ids = [f"d{i:03d}" for i in range(len(docs))]
    gone = data.draw(st.sets(st.sampled_from(ids), max_size=len(ids) - 1))
    expected = [h for h in m.match(q, top_k=len(docs)) if h.id not in gone]
    m.remove(sorted(gone))
    assert m.match(q, top_k=len(docs)) == expected
    assert m.match(q, top_k=len(docs), allowed_ids=set(ids) - gone) == expected
