"""Behaviour of :class:`matching.TfidfMatcher` on tiny literal corpora."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from matching import Match, MatchingError, NotFittedError, TermWeight, TfidfMatcher, UnknownIdError

CORPUS: dict[str, str] = {
    "r01": "Ratify the Optional Protocol to the Convention against Torture (OPCAT)",
    "r02": "Establish a national preventive mechanism against torture",
    "r03": "Investigate all allegations of torture and ill-treatment in detention",
    "r04": "Abolish the death penalty and ratify the Second Optional Protocol to the ICCPR",
    "r05": "Combat violence against women and girls, including domestic violence",
    "r06": "Guarantee access to education for girls in rural areas",
    "r07": "Protect human rights defenders and journalists",
    "r08": "Adopt a national action plan on business and human rights",
}
TORTURE_Q = "prevent torture in detention"


@pytest.fixture
def m() -> TfidfMatcher:
    return TfidfMatcher().fit(list(CORPUS.values()), ids=list(CORPUS))


def ids(hits: list[Match]) -> list[str]:
    return [h.id for h in hits]


# ----------------------------------------------------------------- ranking


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # r02 shares "prevent(ive)" and "torture"; r03 "torture", "detention"
        (TORTURE_Q, ["r02", "r03", "r01"]),
        ("ratify the OPCAT", ["r01", "r04"]),
        ("girls' education", ["r06", "r05"]),
        ("domestic violence against women", ["r05"]),
        ("human rights defenders", ["r07", "r08"]),
        ("national human rights action plan", ["r08", "r07", "r02"]),
        ("Continue efforts to ensure the abolition of the death penalty", ["r04"]),
        ("Continue efforts to take the necessary measures", []),
        ("", []),
        ("zzz unknown words", []),
    ],
)
def test_exact_ranking(m: TfidfMatcher, query: str, expected: list[str]) -> None:
    assert ids(m.match(query)) == expected


def test_exact_scores(m: TfidfMatcher) -> None:
    scores = [round(h.score, 4) for h in m.match(TORTURE_Q)]
    assert scores == [0.3343, 0.2956, 0.1078]


@pytest.mark.parametrize("top_k", [1, 2, 3, 10])
def test_top_k_truncates(m: TfidfMatcher, top_k: int) -> None:
    assert ids(m.match(TORTURE_Q, top_k=top_k)) == ["r02", "r03", "r01"][:top_k]


@pytest.mark.parametrize(
    ("top_k", "expected"),
    [(1, ["a"]), (2, ["a", "c"]), (3, ["a", "c", "m"]), (10, ["a", "c", "m", "x"])],
)
def test_ties_are_broken_by_id(top_k: int, expected: list[str]) -> None:
    # four identical documents, ids given out of order; a better one ranks first
    docs = ["torture in prisons"] * 4 + ["torture"]
    matcher = TfidfMatcher().fit(docs, ids=["m", "c", "x", "a", "z-best"])
    hits = matcher.match("torture", top_k=top_k + 1)
    assert ids(hits) == ["z-best", *expected]
    assert len({h.score for h in hits[1:]}) == 1


def test_ties_many_duplicates_at_the_cutoff() -> None:
    n = 50
    doc_ids = [f"id{i:03d}" for i in reversed(range(n))]
    matcher = TfidfMatcher().fit(["education of girls"] * n, ids=doc_ids)
    assert ids(matcher.match("girls", top_k=5)) == [f"id{i:03d}" for i in range(5)]


def test_scores_in_unit_interval_and_identical_text_scores_one(m: TfidfMatcher) -> None:
    for text in CORPUS.values():
        hits = m.match(text, top_k=8)
        assert all(0.0 <= h.score <= 1.0 for h in hits)
        assert hits[0].score == pytest.approx(1.0)


def test_results_sorted_by_score_then_id(m: TfidfMatcher) -> None:
    hits = m.match("torture rights girls national protocol", top_k=8)
    assert [(-h.score, h.id) for h in hits] == sorted((-h.score, h.id) for h in hits)


def test_terms_sorted_by_weight_and_sum_to_score(m: TfidfMatcher) -> None:
    for hit in m.match("national human rights action plan"):
        weights = [t.weight for t in hit.terms]
        assert weights == sorted(weights, reverse=True)
        assert all(isinstance(t, TermWeight) for t in hit.terms)
        assert len(hit.terms) <= 8
        if len(hit.terms) < 8:
            assert sum(weights) == pytest.approx(hit.score)


def test_terms_show_query_words_not_stems(m: TfidfMatcher) -> None:
    top = m.match("Tortured detainees in detention")[0]
    assert top.id == "r03"
    assert [t.term for t in top.terms] == ["detention", "tortured"]


def test_bigram_terms_show_the_query_span(m: TfidfMatcher) -> None:
    terms = [t.term for t in m.match("violence against women")[0].terms]
    assert "violence against women" in terms  # bigram (violence, women) after stop words


def test_match_many_equals_match(m: TfidfMatcher) -> None:
    queries = [TORTURE_Q, "girls", "", "national plan", "rights"]
    for kwargs in ({}, {"top_k": 2}, {"allowed_ids": {"r02", "r08"}}, {"min_score": 0.2}):
        assert m.match_many(queries, **kwargs) == [m.match(q, **kwargs) for q in queries]


def test_match_returns_frozen_dataclasses(m: TfidfMatcher) -> None:
    hit = m.match(TORTURE_Q)[0]
    with pytest.raises(AttributeError):
        hit.score = 2.0  # type: ignore[misc]
    assert isinstance(hit.score, float) and isinstance(hit.terms, tuple)


# ----------------------------------------------------------------- filters


@pytest.mark.parametrize(
    ("allowed", "expected"),
    [
        ({"r01", "r03", "r07"}, ["r03", "r01"]),
        (["r01"], ["r01"]),
        (("r05", "r06"), []),
        (frozenset(), []),
        ({"r02", "not-indexed"}, ["r02"]),
        ({k: 1 for k in CORPUS}.keys(), ["r02", "r03", "r01"]),
    ],
)
def test_allowed_ids(m: TfidfMatcher, allowed: object, expected: list[str]) -> None:
    assert ids(m.match(TORTURE_Q, allowed_ids=allowed)) == expected  # type: ignore[arg-type]


def test_allowed_ids_with_top_k(m: TfidfMatcher) -> None:
    assert ids(m.match(TORTURE_Q, top_k=1, allowed_ids={"r01", "r03"})) == ["r03"]


@pytest.mark.parametrize(
    ("min_score", "expected"),
    [(0.0, ["r02", "r03", "r01"]), (0.2, ["r02", "r03"]), (0.3, ["r02"]), (0.9, []), (1.0, [])],
)
def test_min_score(m: TfidfMatcher, min_score: float, expected: list[str]) -> None:
    assert ids(m.match(TORTURE_Q, min_score=min_score)) == expected


def test_min_score_is_inclusive(m: TfidfMatcher) -> None:
    score = m.explain(TORTURE_Q, id="r03").score
    assert ids(m.match(TORTURE_Q, min_score=score)) == ["r02", "r03"]


# ------------------------------------------------------- stop words, accents


def test_boilerplate_does_not_match() -> None:
    docs = ["Continue its efforts to take all necessary measures to ensure further steps", "Protect journalists"]
    matcher = TfidfMatcher().fit(docs, ids=["boiler", "journalists"])
    query = "Continue efforts to ensure the protection of journalists"
    assert matcher.explain(query, id="boiler").score == 0.0
    assert ids(matcher.match(query)) == ["journalists"]


def test_english_stop_words_only_lets_boilerplate_match() -> None:
    docs = ["Continue its efforts", "Protect journalists"]
    matcher = TfidfMatcher(stop_words="english").fit(docs, ids=["boiler", "journalists"])
    assert ids(matcher.match("continue efforts")) == ["boiler"]


@pytest.mark.parametrize(
    ("doc", "query"),
    [("Côte d'Ivoire", "cote d'ivoire"), ("cote d'ivoire", "CÔTE D’IVOIRE"), ("Türkiye", "turkiye")],
)
def test_accent_folding(doc: str, query: str) -> None:
    matcher = TfidfMatcher().fit([doc, "other text"], ids=["a", "b"])
    hits = matcher.match(query)
    assert ids(hits) == ["a"] and hits[0].score == pytest.approx(1.0)


def test_accents_matter_when_folding_is_off() -> None:
    matcher = TfidfMatcher(strip_accents=False).fit(["Côte", "other"], ids=["a", "b"])
    assert matcher.match("cote") == []


def test_stemming_meets_inflections(m: TfidfMatcher) -> None:
    assert set(ids(m.match("tortured"))) == {"r01", "r02", "r03"}  # all say "torture"
    assert ids(TfidfMatcher(stem=False).fit(["tortured"], ids=["a"]).match("torture")) == []


# ----------------------------------------------------------------- explain


def test_explain_a_document_outside_the_top_k(m: TfidfMatcher) -> None:
    assert ids(m.match(TORTURE_Q, top_k=1)) == ["r02"]
    full = {h.id: h for h in m.match(TORTURE_Q)}
    explained = m.explain(TORTURE_Q, id="r01")
    assert explained == full["r01"]
    assert explained.score == pytest.approx(0.1078, abs=1e-4)
    assert [t.term for t in explained.terms] == ["torture"]


def test_explain_equals_match_for_every_hit(m: TfidfMatcher) -> None:
    for hit in m.match("national human rights action plan torture"):
        assert m.explain("national human rights action plan torture", id=hit.id) == hit


def test_explain_of_unrelated_document_is_zero(m: TfidfMatcher) -> None:
    assert m.explain(TORTURE_Q, id="r06") == Match("r06", 0.0, ())


def test_explain_unknown_id(m: TfidfMatcher) -> None:
    with pytest.raises(UnknownIdError, match="unknown id 'nope'") as info:
        m.explain(TORTURE_Q, id="nope")
    assert isinstance(info.value, KeyError) and isinstance(info.value, MatchingError)


# ----------------------------------------------------------------- updates


def test_add_then_match_finds_it(m: TfidfMatcher) -> None:
    m.add(["Prevent torture in detention facilities"], ids=["r09"])
    assert ids(m.match(TORTURE_Q)) == ["r09", "r02", "r03", "r01"]
    assert len(m) == 9 and "r09" in m and m.version_ == 1


def test_add_term_unseen_at_fit_is_matchable(m: TfidfMatcher) -> None:
    m.add(["Defamation"], ids=["r09"])
    hits = m.match("defamation")
    assert ids(hits) == ["r09"] and hits[0].score == pytest.approx(1.0)
    # the documented IDF for new terms: that of a term in 1 document at fit
    assert m.idf_[m.vocabulary_["defam"]] == pytest.approx(np.log(9 / 2) + 1)


def test_add_does_not_change_existing_scores(m: TfidfMatcher) -> None:
    before = m.match(TORTURE_Q)
    m.add(["Girls' education in rural areas", "Torture"], ids=["r09", "r10"])
    after = [h for h in m.match(TORTURE_Q) if h.id != "r10"]
    assert after == before  # IDF is frozen at fit


def test_remove_then_gone(m: TfidfMatcher) -> None:
    m.remove(["r02"])
    assert ids(m.match(TORTURE_Q)) == ["r03", "r01"]
    assert "r02" not in m and len(m) == 7 and m.version_ == 1
    with pytest.raises(UnknownIdError, match="unknown id 'r02'"):
        m.explain(TORTURE_Q, id="r02")


def test_add_replaces_an_existing_id(m: TfidfMatcher) -> None:
    m.add(["Guarantee access to education in prisons"], ids=["r02"])
    assert ids(m.match(TORTURE_Q)) == ["r03", "r01"]
    assert ids(m.match("education in prisons", top_k=1)) == ["r02"]
    assert len(m) == 8 and m.version_ == 1
    assert m.ids_.count("r02") == 1


def test_replace_an_added_document_again(m: TfidfMatcher) -> None:
    m.add(["torture"], ids=["r09"])
    m.add(["journalists"], ids=["r09"])
    assert "r09" not in ids(m.match("torture"))
    assert ids(m.match("journalists")) == ["r09", "r07"]
    assert len(m) == 9


def test_remove_an_added_document_and_add_it_back(m: TfidfMatcher) -> None:
    m.add(["torture"], ids=["r09"])
    m.remove(["r09"])
    assert "r09" not in ids(m.match("torture")) and len(m) == 8
    m.add(["torture"], ids=["r09"])
    assert ids(m.match("torture"))[0] == "r09" and len(m) == 9


def test_remove_unknown_id_removes_nothing(m: TfidfMatcher) -> None:
    with pytest.raises(KeyError, match="cannot remove unknown id 'zz'"):
        m.remove(["r01", "zz"])
    assert "r01" in m and len(m) == 8 and m.version_ == 0


def test_remove_twice_is_an_error(m: TfidfMatcher) -> None:
    m.remove(["r01"])
    with pytest.raises(UnknownIdError, match="'r01'"):
        m.remove(["r01"])


def test_add_remove_then_rankings_are_sane(m: TfidfMatcher) -> None:
    m.add(["Prevent torture", "Investigate torture in detention"], ids=["n1", "n2"])
    m.remove(["r02", "n1"])
    m.add(["Protect journalists"], ids=["r03"])  # update
    assert ids(m.match(TORTURE_Q)) == ["n2", "r01"]
    assert set(m.ids_) == set(CORPUS) - {"r02"} | {"n2"}
    assert m.version_ == 3


@pytest.mark.parametrize("compact", [False, True])
def test_compaction_keeps_results(compact: bool) -> None:
    base = [f"torture case {i}" for i in range(20)]
    matcher = TfidfMatcher().fit(base, ids=[f"b{i:02d}" for i in range(20)])
    matcher.add(["girls education"] * 1100, ids=[f"n{i:04d}" for i in range(1100)])  # auto-compacts
    matcher.remove(["b03", "n0005"])
    before = (matcher.match("torture case 7", top_k=5), matcher.match("girls", top_k=3), matcher.ids_)
    if compact:
        matcher.compact()
    after = (matcher.match("torture case 7", top_k=5), matcher.match("girls", top_k=3), matcher.ids_)
    assert after == before
    assert ids(after[1]) == ["n0000", "n0001", "n0002"]
    assert len(matcher) == 1118


def test_empty_add_and_remove_do_nothing(m: TfidfMatcher) -> None:
    m.add([], ids=[])
    m.remove([])
    assert m.version_ == 0 and len(m) == 8


def test_version_counts_changes_and_refits(m: TfidfMatcher) -> None:
    assert m.version_ == 0
    m.add(["torture"], ids=["x"])
    m.remove(["x"])
    m.fit(["torture"], ids=["a"])
    assert m.version_ == 3 and len(m) == 1


# ----------------------------------------------------------------- errors


def test_match_before_fit() -> None:
    matcher = TfidfMatcher()
    for call in (
        lambda: matcher.match("x"),
        lambda: matcher.add(["x"], ids=["a"]),
        lambda: matcher.remove(["a"]),
        lambda: matcher.explain("x", id="a"),
        lambda: matcher.match_many(["x"]),
        lambda: matcher.version_,
    ):
        with pytest.raises(NotFittedError, match="not fitted yet; call fit"):
            call()
    assert len(matcher) == 0 and "a" not in matcher and not hasattr(matcher, "idf_")


@pytest.mark.parametrize(
    ("top_k", "error", "message"),
    [
        (0, ValueError, "top_k must be >= 1, got 0"),
        (-3, ValueError, "top_k must be >= 1, got -3"),
        (2.5, TypeError, r"top_k must be an int, got 2.5 \(float\)"),
        ("3", TypeError, r"top_k must be an int, got '3' \(str\)"),
        (True, TypeError, r"top_k must be an int, got True \(bool\)"),
        (None, TypeError, r"top_k must be an int, got None"),
    ],
)
def test_bad_top_k(m: TfidfMatcher, top_k: object, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        m.match("x", top_k=top_k)  # type: ignore[arg-type]
    with pytest.raises(error, match=message):
        m.match_many(["x"], top_k=top_k)  # type: ignore[arg-type]


def test_numpy_int_top_k_is_fine(m: TfidfMatcher) -> None:
    assert ids(m.match(TORTURE_Q, top_k=np.int64(1))) == ["r02"]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("min_score", "error", "message"),
    [
        (-0.1, ValueError, r"min_score must be between 0.0 and 1.0, got -0.1"),
        (1.5, ValueError, r"min_score must be between 0.0 and 1.0, got 1.5"),
        (float("nan"), ValueError, r"min_score must be between 0.0 and 1.0, got nan"),
        ("0.5", TypeError, r"min_score must be a real number, got '0.5'"),
    ],
)
def test_bad_min_score(m: TfidfMatcher, min_score: object, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        m.match("x", min_score=min_score)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("documents", "doc_ids", "error", "message"),
    [
        ([], [], ValueError, "documents must not be empty, got 0 documents"),
        (["a", "b"], ["1"], ValueError, "got 2 documents and 1 ids"),
        (["a"], ["1", "2"], ValueError, "got 1 documents and 2 ids"),
        (["a", "b", "c"], ["1", "2", "1"], ValueError, "duplicate id '1' at positions 0 and 2"),
        (["a", None], ["1", "2"], TypeError, r"documents\[1\] must be a str, got None"),
        (["a"], [1], TypeError, r"ids\[0\] must be a str, got 1 \(int\)"),
        ("abc", ["1"], TypeError, "documents must be a sequence of str"),
    ],
)
def test_bad_fit_input(documents: object, doc_ids: object, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        TfidfMatcher().fit(documents, ids=doc_ids)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("doc_ids", "documents", "error", "message"),
    [
        (["a", "b"], ["x"], ValueError, "got 1 documents and 2 ids"),
        (["a", "a"], ["x", "y"], ValueError, "duplicate id 'a'"),
        (["a"], [3], TypeError, r"documents\[0\] must be a str, got 3 \(int\)"),
    ],
)
def test_bad_add_input(m: TfidfMatcher, doc_ids: object, documents: object, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        m.add(documents, ids=doc_ids)  # type: ignore[arg-type]
    assert m.version_ == 0 and len(m) == 8


@pytest.mark.parametrize(
    ("params", "error", "message"),
    [
        ({"ngram_range": (1, 3)}, ValueError, r"ngram_range must be \(1, 1\), \(1, 2\) or \(2, 2\), got \(1, 3\)"),
        ({"ngram_range": "12"}, ValueError, "ngram_range must be .* got '12'"),
        ({"min_df": -1}, ValueError, "min_df must be an int >= 0 or a float in .*got -1"),
        ({"max_df": 1.5}, ValueError, "max_df must be an int >= 0 or a float in .*got 1.5"),
        ({"min_df": 5}, ValueError, r"max_df corresponds to fewer documents \(2\) than min_df \(5\)"),
        ({"stop_words": "french"}, ValueError, "got 'french'"),
        ({"min_df": 2}, ValueError, "no terms remain .* got 0 terms"),
    ],
)
def test_bad_parameters_fail_at_fit(params: dict, error: type, message: str) -> None:
    matcher = TfidfMatcher(**params)
    with pytest.raises(error, match=message):
        matcher.fit(["torture", "education"], ids=["a", "b"])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda m: m.match(None), "query must be a str, got None"),
        (lambda m: m.match("x", allowed_ids="r01"), "allowed_ids must be a collection of ids or None"),
        (lambda m: m.match_many("abc"), "queries must be a sequence of str"),
        (lambda m: m.match_many(["a", 2]), r"queries\[1\] must be a str, got 2"),
        (lambda m: m.explain("x", id=5), "id must be a str, got 5"),
    ],
)
def test_bad_query_arguments(m: TfidfMatcher, call: object, message: str) -> None:
    with pytest.raises(TypeError, match=message):
        call(m)  # type: ignore[operator]


# ------------------------------------------------------------ misc. API


def test_init_only_stores_parameters() -> None:
    matcher = TfidfMatcher(ngram_range=(7, 7), min_df=-5)  # validated at fit, not here
    assert matcher.get_params()["ngram_range"] == (7, 7)
    assert "TfidfMatcher(ngram_range=(7, 7)" in repr(matcher)


def test_learned_attributes(m: TfidfMatcher) -> None:
    assert m.n_documents_ == len(m) == 8
    assert m.ids_ == tuple(CORPUS)
    vocab = m.vocabulary_
    assert "tortur" in vocab and "human right" in vocab
    assert len(m.idf_) == len(vocab)
    assert m.idf_[vocab["tortur"]] < m.idf_[vocab["opcat"]]  # 3 documents vs 1


def test_min_df_prunes_rare_terms() -> None:
    matcher = TfidfMatcher(min_df=2).fit(["torture girls", "torture boys", "education"], ids=["a", "b", "c"])
    assert set(matcher.vocabulary_) == {"tortur"}
    matcher.add(["zebra"], ids=["d"])  # new terms have df 1 < min_df: ignored
    assert matcher.match("zebra") == []


def test_unigrams_only_and_bigrams_only() -> None:
    docs, doc_ids = ["human rights defenders", "rights of defenders"], ["a", "b"]
    uni = TfidfMatcher(ngram_range=(1, 1)).fit(docs, ids=doc_ids)
    assert uni.match("human rights")[0].id == "a" and "human right" not in uni.vocabulary_
    bi = TfidfMatcher(ngram_range=(2, 2)).fit(docs, ids=doc_ids)
    # "of" is removed before bigrams are built, so b is exactly "right defend"
    assert ids(bi.match("rights defenders")) == ["b", "a"]
    assert bi.match("rights") == []
    bi.add(["women rights"], ids=["c"])
    assert ids(bi.match("women rights")) == ["c"]


def test_transform_rows_are_unit_vectors(m: TfidfMatcher) -> None:
    x = m.transform([TORTURE_Q, ""])
    assert x.shape == (2, len(m.vocabulary_))
    assert np.linalg.norm(x[0].toarray()) == pytest.approx(1.0) and x[1].nnz == 0


def test_pickle_round_trip(m: TfidfMatcher) -> None:
    m.add(["torture"], ids=["r09"])
    clone = pickle.loads(pickle.dumps(m))
    assert clone.match(TORTURE_Q) == m.match(TORTURE_Q)
    clone.add(["torture"], ids=["r10"])  # the lock was recreated
    assert len(clone) == 10 and len(m) == 9


def test_fit_accepts_any_sequence_and_does_not_keep_it() -> None:
    docs = ("torture", "education")
    matcher = TfidfMatcher().fit(docs, ids=("a", "b"))
    assert ids(matcher.match("torture")) == ["a"]


# ------------------------------------------------------- reference check


def test_scores_equal_scikit_learn_tfidf_cosine() -> None:
    """Same analyzer fed to scikit-learn gives the same cosine scores."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    from matching.preprocessing import Analyzer

    analyzer = Analyzer()

    def terms(text: str) -> list[str]:
        uni = analyzer.analyze(text)
        return uni + [f"{a} {b}" for a, b in zip(uni, uni[1:], strict=False)]

    docs = list(CORPUS.values()) + ["Torture, torture and more torture in detention", "Côte d'Ivoire"]
    doc_ids = [*CORPUS, "x1", "x2"]
    vec = TfidfVectorizer(analyzer=terms, sublinear_tf=True)
    matrix = vec.fit_transform(docs)
    m = TfidfMatcher().fit(docs, ids=doc_ids)
    assert set(m.vocabulary_) == set(vec.vocabulary_)
    for query in [TORTURE_Q, "torture torture", "human rights defenders", "cote d'ivoire torture"]:
        expected = (matrix @ vec.transform([query]).T).toarray().ravel()
        got = np.zeros(len(docs))
        for hit in m.match(query, top_k=len(docs)):
            got[doc_ids.index(hit.id)] = hit.score
        np.testing.assert_allclose(got, expected, atol=1e-6)


@pytest.mark.parametrize("bound", [10, 1 << 40, 1 << 60])  # packed sort, then np.unique fallback
def test_unique_inverse_matches_numpy(bound: int) -> None:
    from matching.matcher import _unique_inverse

    keys = np.random.default_rng(0).integers(0, 10, 1000).astype(np.int64) * (bound // 10)
    uniq, inverse = _unique_inverse(keys, bound)
    ref_uniq, ref_inverse = np.unique(keys, return_inverse=True)
    np.testing.assert_array_equal(uniq, ref_uniq)
    np.testing.assert_array_equal(inverse, ref_inverse)


def test_ids_are_keyword_only_so_fit_and_add_cannot_be_swapped() -> None:
    with pytest.raises(TypeError):
        TfidfMatcher().fit(["torture"], ["a"])  # type: ignore[misc]
    m = TfidfMatcher().fit(["torture"], ids=["a"])
    with pytest.raises(TypeError):
        m.add(["b"], ["torture in prisons"])  # type: ignore[misc]
    m.add(["torture in prisons"], ids=["b"])
    assert ids(m.match("prisons")) == ["b"]


def test_a_view_keeps_answering_from_the_index_it_was_taken_from() -> None:
    m = TfidfMatcher().fit(["torture", "girls education"], ids=["a", "b"])
    frozen = m.view()
    m.add(["torture in prisons"], ids=["c"])
    m.remove(["a"])
    assert ids(frozen.match("torture")) == ["a"] and len(frozen) == 2
    assert ids(m.match("torture")) == ["c"] and len(m) == 2
    assert frozen.version_ == 0 and m.version_ == 2
