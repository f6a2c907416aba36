"""Matching-quality evaluation: graded relevance, ranking metrics, text baselines, the service's ranking.

The pieces of ``benchmarks/quality.py`` that are worth testing and reusing,
kept free of any I/O and of the service (``app``):

* :class:`ServiceRanking` -- providers ranked exactly as the service ranks them
  (``matching.ranking``, default weights), so the harness measures what the
  service answers.

* :func:`graded_relevance` -- the ground truth: a provider's grade for a
  query is the best grade (core 2, secondary 1, else 0) of any of the query's
  true themes in the provider's curated ``relevance`` mapping.
* :func:`rank_ids` and :func:`evaluate_rankings` -- one ranking per query
  from a score row, then mean nDCG@k (graded), MRR and precision@1 (relevant =
  grade >= 1, and core only).
* Text scorers over the *same* provider texts: :func:`matcher_scores` (the
  project's :class:`~matching.matcher.TfidfMatcher`), :func:`sklearn_scores`
  (a plain ``TfidfVectorizer()``) and :func:`bm25_scores` (``bm25s``).
* Theme-space experiments: :func:`sharpen` turns tagger probabilities into
  theme vectors, :func:`theme_scores` takes their cosine (or dot product), and
  :func:`expand_with_themes` appends predicted theme *names* to texts; mix them
  with :func:`matching.ranking.weighted_mean`.
* :func:`build_needs` -- synthetic "needs" made of 3-5 recommendations of one
  State sharing a theme, since real needs cite several recommendations.

Every score matrix has shape ``(n_queries, n_providers)``.  A provider whose
score is not above 0 is *not retrieved* (like :meth:`TfidfMatcher.match`),
so a system cannot gain from an arbitrary order of zero scores.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from evaluation.metrics import mrr, ndcg_at_k
from matching.matcher import TfidfMatcher
from matching.ranking import Corpus, Preferences, ProbaModel, ProviderFacts, Ranked, Ranker, ThemeSpace, Weights
from matching.theme_space import service_space
from matching.themes import cosine_similarity

__all__ = [
    "CORE",
    "SECONDARY",
    "ServiceRanking",
    "bm25_scores",
    "build_needs",
    "evaluate_rankings",
    "evaluate_scores",
    "expand_with_themes",
    "graded_relevance",
    "matcher_scores",
    "rank_ids",
    "sharpen",
    "sklearn_scores",
    "tagging_metrics",
    "theme_scores",
]

#: Grade of a provider whose ``relevance.core`` holds one of the query's themes.
CORE = 2
#: Grade of a provider whose ``relevance.secondary`` holds one (and no core theme matches).
SECONDARY = 1


def graded_relevance(
    query_themes: Iterable[str], relevance: Mapping[str, Mapping[str, Iterable[str]]]
) -> dict[str, int]:
    """Grade every provider for one query: max over the query's themes of core 2 / secondary 1 / else 0.

    Parameters
    ----------
    query_themes : iterable of str
        The query's true themes (UPR Info labels).
    relevance : mapping
        ``provider id -> {"core": [...], "secondary": [...]}``.

    Returns
    -------
    dict of str to int
        ``provider id -> grade`` for every provider (grade 0 included).

    Examples
    --------
    "Torture" is core for apt; "Detention" is secondary for unicef; nothing for undp.

    >>> rel = {"apt": {"core": ["Torture"], "secondary": ["Detention"]},
    ...        "unicef": {"core": ["Children"], "secondary": ["Detention"]},
    ...        "undp": {"core": ["Development"]}}
    >>> graded_relevance(["Torture", "Detention"], rel)
    {'apt': 2, 'unicef': 1, 'undp': 0}
    """
    themes = set(query_themes)
    grades = {}
    for pid, levels in relevance.items():
        if themes & set(levels.get("core", ())):
            grades[pid] = CORE
        elif themes & set(levels.get("secondary", ())):
            grades[pid] = SECONDARY
        else:
            grades[pid] = 0
    return grades


def rank_ids(scores: Sequence[float] | np.ndarray, ids: Sequence[str]) -> list[str]:
    """Ids with a score above 0, by score descending then id ascending (the matcher's order).

    Examples
    --------
    >>> rank_ids([0.2, 0.0, 0.5, 0.2], ["b", "z", "c", "a"])
    ['c', 'a', 'b']
    """
    arr = np.asarray(scores, dtype=float)
    if arr.shape != (len(ids),):
        raise ValueError(f"scores has shape {arr.shape}, expected ({len(ids)},)")
    keep = [i for i in range(len(ids)) if arr[i] > 0]
    keep.sort(key=lambda i: (-arr[i], ids[i]))
    return [ids[i] for i in keep]


def evaluate_rankings(
    rankings: Sequence[Sequence[str]], gradings: Sequence[Mapping[str, int]], k: int = 5
) -> dict[str, float]:
    """Mean ranking metrics over queries.

    Parameters
    ----------
    rankings : sequence of sequences of ids
        One ranking per query, best first.
    gradings : sequence of mappings
        One ``id -> grade`` mapping per query (see :func:`graded_relevance`);
        the ideal DCG is computed from the grades of *all* ids in it.
    k : int, default 5
        nDCG cut-off.

    Returns
    -------
    dict
        ``ndcg`` (mean nDCG@k), ``mrr`` and ``p1`` (relevant = grade >= 1),
        ``p1_core`` (relevant = grade 2), ``n`` (number of queries).

    Examples
    --------
    Query 1: grades a=2, b=1, ranking [b, a]: nDCG = (1 + 2/log2 3) / (2 + 1/log2 3)
    = 2.2619 / 2.6309 = 0.8597; MRR 1; P@1 1; core P@1 0.
    Query 2: grade c=2, ranking [x, c]: nDCG = (2/log2 3) / 2 = 0.6309; MRR 0.5; P@1 0.

    >>> m = evaluate_rankings([["b", "a"], ["x", "c"]], [{"a": 2, "b": 1}, {"c": 2, "x": 0}])
    >>> {key: round(v, 4) for key, v in m.items()}
    {'ndcg': 0.7453, 'mrr': 0.75, 'p1': 0.5, 'p1_core': 0.0, 'n': 2}
    """
    if len(rankings) != len(gradings):
        raise ValueError(f"{len(rankings)} rankings but {len(gradings)} gradings")
    if not rankings:
        return {"ndcg": 0.0, "mrr": 0.0, "p1": 0.0, "p1_core": 0.0, "n": 0}
    ndcg, rr, p1, p1_core = [], [], [], []
    for ranking, grades in zip(rankings, gradings, strict=True):
        relevant = {i for i, g in grades.items() if g >= 1}
        core = {i for i, g in grades.items() if g >= CORE}
        top = ranking[0] if len(ranking) else None
        ndcg.append(ndcg_at_k(ranking, grades, k=k))
        rr.append(mrr(ranking, relevant))
        p1.append(1.0 if top in relevant else 0.0)
        p1_core.append(1.0 if top in core else 0.0)
    return {
        "ndcg": statistics.fmean(ndcg),
        "mrr": statistics.fmean(rr),
        "p1": statistics.fmean(p1),
        "p1_core": statistics.fmean(p1_core),
        "n": len(rankings),
    }


def evaluate_scores(
    scores: np.ndarray, ids: Sequence[str], gradings: Sequence[Mapping[str, int]], k: int = 5
) -> dict[str, float]:
    """:func:`evaluate_rankings` of the rankings of a ``(n_queries, n_ids)`` score matrix.

    Examples
    --------
    >>> evaluate_scores(np.array([[0.1, 0.9]]), ["a", "b"], [{"a": 0, "b": 2}])["ndcg"]
    1.0
    """
    scores = np.asarray(scores, dtype=float)
    return evaluate_rankings([rank_ids(row, ids) for row in scores], gradings, k=k)


# --------------------------------------------------------------------------- the service's ranking


class ServiceRanking:
    """Providers ranked exactly as the service ranks them for a text-only query (``POST /v1/match``).

    Built the way a worker builds its index from the database: one
    :class:`~matching.matcher.TfidfMatcher` fitted on the provider texts in id
    order, each profile's theme vector averaged over its sentences, then
    :meth:`matching.ranking.Ranker.rank_providers` with the given weights (by
    default the service's). Give ``texts`` as the service builds them
    (:func:`matching.texts.provider_text`).

    Examples
    --------
    >>> ranking = ServiceRanking(["apt", "edu"], ["Prevention of torture in prisons", "Girls' education"])
    >>> ranking.rankings(["torture in detention", "schools for girls"])
    [['apt'], ['edu']]
    """

    def __init__(
        self,
        ids: Sequence[str],
        texts: Sequence[str],
        model: ProbaModel | None = None,
        *,
        weights: Weights | None = None,
        themes: Sequence[Sequence[str]] | None = None,
        space: ThemeSpace | None = None,
    ) -> None:
        if len(ids) != len(texts):
            raise ValueError(f"{len(ids)} ids but {len(texts)} texts")
        declared = [tuple(t) for t in themes] if themes is not None else [()] * len(ids)
        space = space if space is not None else service_space(model)
        vectors = space.vectors(list(texts), declared, by_sentence=True)
        order = sorted(range(len(ids)), key=lambda i: ids[i])
        self.corpus: Corpus[ProviderFacts] = Corpus(
            TfidfMatcher().fit([texts[i] for i in order], ids=[ids[i] for i in order]),
            {ids[i]: ProviderFacts(ids[i], themes=declared[i]) for i in order},
            dict(zip(ids, vectors, strict=True)) if vectors is not None else {},
        )
        self.ranker = Ranker(weights=weights or Weights(), themes=space)

    def rank(self, query: str, *, limit: int | None = None, prefs: Preferences | None = None) -> list[Ranked]:
        """The providers for ``query``, best first (all that qualify when ``limit`` is None).

        ``prefs`` as the service builds them for a need (:func:`need_query`); default: free text.
        """
        count = len(self.corpus) if limit is None else limit
        return self.ranker.rank_providers(self.corpus, query, prefs or Preferences(), limit=max(count, 1))

    def rankings(self, queries: Sequence[str], prefs: Sequence[Preferences] | None = None) -> list[list[str]]:
        """One ranking of provider ids per query (with its preferences, if given)."""
        given = prefs if prefs is not None else [Preferences()] * len(queries)
        return [[r.id for r in self.rank(q, prefs=p)] for q, p in zip(queries, given, strict=True)]


# --------------------------------------------------------------------------- text scorers


def matcher_scores(queries: Sequence[str], documents: Sequence[str], ids: Sequence[str], **params: Any) -> np.ndarray:
    """TF-IDF cosine of every query with every document, with :class:`TfidfMatcher` fitted on the documents.

    Parameters
    ----------
    queries, documents : sequence of str
    ids : sequence of str
        Document ids (column order of the result).
    **params
        :class:`TfidfMatcher` parameters (default: the service's).

    Examples
    --------
    >>> s = matcher_scores(["torture in prisons"], ["prevent torture", "girls' education"], ["a", "b"])
    >>> s.shape, bool(s[0, 0] > 0), float(s[0, 1])
    ((1, 2), True, 0.0)
    """
    matcher = TfidfMatcher(**params).fit(documents=list(documents), ids=list(ids))
    col = {pid: j for j, pid in enumerate(ids)}
    out = np.zeros((len(queries), len(ids)))
    for i, query in enumerate(queries):
        for hit in matcher.match(query=query, top_k=len(ids)):
            out[i, col[hit.id]] = hit.score
    return out


def sklearn_scores(queries: Sequence[str], documents: Sequence[str]) -> np.ndarray:
    """Cosine of plain scikit-learn ``TfidfVectorizer()`` vectors (fitted on the documents).

    Examples
    --------
    >>> s = sklearn_scores(["torture in prisons"], ["prevent torture", "girls education"])
    >>> bool(s[0, 0] > 0), float(s[0, 1])
    (True, 0.0)
    """
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer()
    D = vectorizer.fit_transform(list(documents))
    Q = vectorizer.transform(list(queries))
    return np.asarray((Q @ D.T).toarray(), dtype=float)  # rows are L2-normalised: dot = cosine


def bm25_scores(queries: Sequence[str], documents: Sequence[str], stem: bool = True) -> np.ndarray:
    """BM25 (``bm25s`` defaults: Lucene variant, k1 1.5, b 0.75) of every query against the documents.

    Tokenised with ``bm25s.tokenize`` (its English stop words) and, if
    ``stem``, the Snowball English stemmer that :class:`TfidfMatcher` uses.

    Examples
    --------
    >>> s = bm25_scores(["torture in prisons"], ["prevent torture", "girls education", "budget"])
    >>> bool(s[0, 0] > 0), float(s[0, 1])
    (True, 0.0)
    """
    import bm25s

    stemmer = None
    if stem:
        import snowballstemmer

        stemmer = snowballstemmer.stemmer("english")
    corpus = bm25s.tokenize(list(documents), stopwords="en", stemmer=stemmer, show_progress=False)
    retriever = bm25s.BM25()
    retriever.index(corpus, show_progress=False)
    query_tokens = bm25s.tokenize(list(queries), stopwords="en", stemmer=stemmer, return_ids=False, show_progress=False)
    out = np.zeros((len(queries), len(documents)))
    for i, tokens in enumerate(query_tokens):
        tokens = [t for t in tokens if t]
        if tokens and retriever.get_tokens_ids(tokens):
            out[i] = retriever.get_scores(tokens)
    return out


# --------------------------------------------------------------------------- theme space


def sharpen(proba: np.ndarray, power: float = 1.0, top: int | None = None, floor: float = 0.0) -> np.ndarray:
    """Theme vectors from tagger probabilities: ``max(p - floor, 0) ** power``, keeping the ``top`` largest.

    ``power=1, top=None, floor=0`` returns the probabilities unchanged (the
    service's theme vector).  A higher power or a ``top``/``floor`` cut
    silences the many small one-vs-rest probabilities that otherwise make
    every text look a little like every theme.

    Examples
    --------
    >>> sharpen(np.array([[0.9, 0.3, 0.1]]), power=2).round(2).tolist()
    [[0.81, 0.09, 0.01]]
    >>> sharpen(np.array([[0.9, 0.3, 0.1]]), top=1).tolist()
    [[0.9, 0.0, 0.0]]
    >>> sharpen(np.array([[0.9, 0.3, 0.1]]), floor=0.2).round(2).tolist()
    [[0.7, 0.1, 0.0]]
    """
    out = np.clip(np.asarray(proba, dtype=float) - floor, 0.0, None)
    if power != 1.0:
        out = out**power
    if top is not None and top < out.shape[1]:
        cut = np.argsort(-out, axis=1, kind="stable")[:, top:]
        np.put_along_axis(out, cut, 0.0, axis=1)
    return out


def theme_scores(query_vectors: np.ndarray, provider_vectors: np.ndarray, similarity: str = "cosine") -> np.ndarray:
    """Similarity of every query theme vector with every provider theme vector.

    Parameters
    ----------
    query_vectors, provider_vectors : ndarray of shape (n, n_labels)
    similarity : {"cosine", "dot"}, default "cosine"
        ``"cosine"`` (zero vectors give 0; the service's choice) or the plain
        dot product, which also rewards how *confident* both sides are.

    Examples
    --------
    >>> theme_scores(np.array([[1.0, 0.0]]), np.array([[1.0, 0.0], [1.0, 1.0]])).round(4).tolist()
    [[1.0, 0.7071]]
    >>> theme_scores(np.array([[0.5, 0.0]]), np.array([[0.4, 0.0], [1.0, 1.0]]), "dot").round(4).tolist()
    [[0.2, 0.5]]
    """
    q, p = (
        np.atleast_2d(np.asarray(query_vectors, dtype=float)),
        np.atleast_2d(np.asarray(provider_vectors, dtype=float)),
    )
    if similarity == "cosine":
        return np.asarray(cosine_similarity(q, p))
    if similarity == "dot":
        return np.asarray(q @ p.T)
    raise ValueError(f"similarity must be 'cosine' or 'dot', got {similarity!r}")


def expand_with_themes(texts: Sequence[str], proba: np.ndarray, classes: Sequence[str], top: int) -> list[str]:
    """Append the names of the ``top`` most probable predicted themes to each text.

    Examples
    --------
    >>> expand_with_themes(["APT"], np.array([[0.1, 0.8, 0.6]]), ["Women", "Torture", "Detention"], top=2)
    ['APT\\nTorture. Detention']
    """
    if top <= 0:
        return list(texts)
    order = np.argsort(-np.asarray(proba), axis=1, kind="stable")[:, :top]
    return [f"{text}\n" + ". ".join(classes[j] for j in row) for text, row in zip(texts, order, strict=True)]


# --------------------------------------------------------------------------- queries


def build_needs(
    records: Sequence[Mapping[str, Any]],
    min_size: int = 3,
    max_size: int = 5,
    seed: int = 0,
    state_key: str = "state_under_review_iso3",
) -> list[dict[str, Any]]:
    """Synthetic needs: a State's recommendations grouped by theme, ``min_size``-``max_size`` per need.

    For each (State, theme), the State's records carrying that theme are
    shuffled and cut into chunks of random size in ``[min_size, max_size]``
    (a last chunk smaller than ``min_size`` is dropped).  A need's text is its
    records' texts joined by newlines, and its ``themes`` the union of their
    themes (every theme the need cites).

    Parameters
    ----------
    records : sequence of mappings
        With ``id``, ``text``, ``themes`` and ``state_key``.
    min_size, max_size : int
    seed : int

    Returns
    -------
    list of dict
        ``id``, ``state``, ``theme`` (the grouping theme), ``text``, ``themes``
        (sorted), ``record_ids``; sorted by id.

    Examples
    --------
    >>> recs = [{"id": f"r{i}", "text": f"t{i}", "themes": ["A"], "state_under_review_iso3": "FRA"}
    ...         for i in range(7)]
    >>> needs = build_needs(recs, 3, 3)
    >>> [len(n["record_ids"]) for n in needs], needs[0]["themes"]
    ([3, 3], ['A'])
    """
    if not 1 <= min_size <= max_size:
        raise ValueError(f"need 1 <= min_size <= max_size, got {min_size}, {max_size}")
    rng = np.random.default_rng(seed)
    groups: dict[tuple[str, str], list[Mapping[str, Any]]] = defaultdict(list)
    for rec in records:
        for theme in sorted(set(rec["themes"])):
            groups[(str(rec[state_key]), theme)].append(rec)
    needs: list[dict[str, Any]] = []
    for state, theme in sorted(groups):
        members = groups[(state, theme)]
        order = rng.permutation(len(members))
        start, part = 0, 0
        while start < len(members):
            size = int(rng.integers(min_size, max_size + 1))
            chunk = [members[i] for i in order[start : start + size]]
            start += size
            if len(chunk) < min_size:
                break
            needs.append(
                {
                    "id": f"need-{state}-{theme}-{part}",
                    "state": state,
                    "theme": theme,
                    "text": "\n".join(str(r["text"]) for r in chunk),
                    "themes": sorted({t for r in chunk for t in r["themes"]}),
                    "record_ids": [r["id"] for r in chunk],
                }
            )
            part += 1
    needs.sort(key=lambda n: n["id"])
    return needs


def tagging_metrics(tagger: Any, texts: Sequence[str], truth: Sequence[Iterable[str]]) -> dict[str, float]:
    """Micro-F1 and macro-F1 of ``tagger.predict`` and precision@1 of its top label.

    Macro-F1 averages over ``tagger.classes_`` (see :func:`evaluation.metrics.macro_f1`).
    """
    from evaluation.metrics import macro_f1, micro_f1, precision_at_1

    truth = [list(t) for t in truth]
    pred = tagger.predict(list(texts))
    ranked = tagger.predict_proba(list(texts), top=1)
    return {
        "micro_f1": micro_f1(truth, pred),
        "macro_f1": macro_f1(truth, pred, labels=tagger.classes_),
        "precision_at_1": precision_at_1(truth, ranked),
    }
