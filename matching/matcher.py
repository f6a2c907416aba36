"""TF-IDF matching of UPR recommendations with an inverted index.

:class:`TfidfMatcher` scores a query against every indexed document with the
cosine similarity of sublinear TF-IDF vectors (word unigrams and bigrams,
L2-normalised rows, so scores are in ``[0, 1]``).

Design
------
*Inverted index.*  Document vectors are kept column-major (CSC: one posting
list of ``(document position, weight)`` per term).  A query touches only the
posting lists of its own terms: they are concatenated, multiplied by the query
weights and summed per document with ``np.bincount``.  The whole matrix is
never multiplied.  Top-k uses a score threshold then ``np.argpartition`` on
the survivors; ties are broken by id.  A row-major copy (CSR) serves
explanations (which query terms a document shares, and how much each adds).

*Updates without refitting.*  The index is a large immutable *main* segment
plus a small *delta* segment holding documents added since the last
compaction, and a set of *dead* positions (removed or replaced documents, a
tombstone mask applied to the scores).  ``add`` inserts the few postings of
the new documents into the delta's sorted arrays, which costs
O(delta postings), not O(corpus).  When delta plus tombstones outgrow
``max(1024, n_main // 32)`` documents the segments are merged
(:meth:`TfidfMatcher.compact`, O(corpus): about 0.25 s at 300,000 documents,
paid by the ``add``/``remove`` call that crosses the threshold while readers
carry on with the previous snapshot; amortised, well under 0.1 ms per add).

*IDF is frozen at fit.*  Added documents are weighted with the IDF learned by
``fit``; a term never seen at fit gets the IDF of a term with document
frequency 1 (the rarest), and becomes matchable at once.  The trade-off:
``add`` costs O(document + delta) and never rescales existing vectors, so
existing scores do not move when unrelated documents arrive (a property the
tests check); but IDF drifts from the true corpus statistics as many
documents are added or removed.  Call ``fit`` again (e.g. nightly) to
refresh it.  Terms dropped by ``min_df``/``max_df`` at fit stay dropped, and
new terms are only indexed if a document frequency of 1 passes ``min_df``.

*Filters.*  ``allowed_ids`` is turned into index positions (one dictionary
look-up per allowed id) and the top-k is taken over those positions only.

*Explanations.*  Terms are stems, so :class:`TermWeight` shows the words of
the *query* that produced each term (a bigram shows its whole span, stop
words included: ``"prevention of torture"``).

*Thread safety.*  All index state lives in one immutable snapshot object.
Readers (``match``, ``explain``...) read ``self._state`` once and work on that
snapshot, with no lock.  Writers (``fit``, ``add``, ``remove``, ``compact``)
are serialised by a lock, build new arrays (copy-on-write; only the small
delta and the tombstones are copied by ``add``/``remove``) and publish the new
snapshot with a single attribute assignment, which is atomic in CPython.  A
reader therefore sees either the old or the new index, never a mix.  The only
shared mutable objects are append-only dictionaries (term to token id,
analyzer cache), which readers bound-check against their snapshot.

Workload
--------
The service keeps two of these per worker process: one over provider profiles and one over
needs (a need's text is its title, description and the recommendations it cites). Expect
thousands of providers and up to hundreds of thousands of needs; documents arrive and change
one at a time through the day (each visible to the next query), and queries are single texts
(a need, a profile, a State's free text) ranked against every allowed document. The design
above was sized and benchmarked for 300,000 documents (``benchmarks/engine.py``).

Examples
--------
>>> m = TfidfMatcher().fit(
...     ["Ratify the OPCAT", "Combat torture in prisons", "Girls' education"],
...     ids=["r1", "r2", "r3"],
... )
>>> [hit.id for hit in m.match("Continue efforts to prevent torture in detention")]
['r2']
"""

from __future__ import annotations

import copy
import itertools
import math
import re
import threading
from array import array
from collections import OrderedDict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import scipy.sparse as sp

from matching._validation import (
    check_allowed_ids,
    check_df,
    check_documents,
    check_ids,
    check_min_score,
    check_ngram_range,
    check_queries,
    check_query,
    check_same_length,
    check_top_k,
)
from matching.exceptions import NotFittedError, UnknownIdError
from matching.preprocessing import TOKEN_RE, Analyzer, fold_accents

__all__ = ["TfidfMatcher", "Match", "TermWeight", "TextScores"]

#: How many explanation terms a :class:`Match` carries.
N_TERMS: Final[int] = 8
#: How many vectorised query texts :meth:`TfidfMatcher.score_all` keeps (shared with views).
QUERY_CACHE: Final[int] = 256
_MIN_COMPACT: Final[int] = 1024
_SHIFT: Final[int] = 32
_WS = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class TermWeight:
    """One query term shared with a document, and its share of the score.

    Attributes
    ----------
    term : str
        The term as written in the query (lower-cased, accents folded); a
        bigram shows the query words it spans, e.g. ``"prevention of torture"``.
    weight : float
        Contribution of this term to the cosine score (query weight times
        document weight); the weights of a match sum to its score.

    Examples
    --------
    >>> TermWeight("torture", 0.25)
    TermWeight(term='torture', weight=0.25)
    """

    term: str
    weight: float


@dataclass(frozen=True, slots=True)
class Match:
    """A scored document.

    Attributes
    ----------
    id : str
        Document id given to ``fit``/``add``.
    score : float
        Cosine similarity in ``[0, 1]``.
    terms : tuple of TermWeight
        The (at most 8) largest contributions, by weight descending then term.

    Examples
    --------
    >>> Match("r1", 0.5, (TermWeight("torture", 0.5),)).score
    0.5
    """

    id: str
    score: float
    terms: tuple[TermWeight, ...] = field(default=())


# --------------------------------------------------------------------------
# Internal immutable state
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Vocab:
    """Term <-> column mapping and IDF.  Columns: unigrams and bigrams."""

    token_ids: dict[str, int]  # unigram term -> token id (append-only, shared)
    token_terms: list[str]  # token id -> term (append-only, shared)
    col_of_token: np.ndarray  # token id -> column, negative if none (snapshot length)
    bigram_keys: np.ndarray  # sorted int64 keys (a << 32 | b) seen at fit
    bigram_cols: np.ndarray  # column of each key
    extra_bigrams: dict[int, int]  # key -> column, for bigrams added later
    col_tokens: np.ndarray  # (n_fit_cols, 2) int32: token ids (b = -1: unigram)
    extra_col_tokens: tuple[tuple[int, int], ...]  # same, for later columns
    idf: np.ndarray  # float64, one per fit column
    idf_new: float  # IDF of columns created after fit (df = 1)
    n_fit_docs: int
    allow_new_terms: bool

    @property
    def n_cols(self) -> int:
        return len(self.idf) + len(self.extra_col_tokens)

    def term_of(self, col: int) -> str:
        n_fit = len(self.idf)
        a, b = self.col_tokens[col] if col < n_fit else self.extra_col_tokens[col - n_fit]
        terms = self.token_terms
        return terms[a] if b < 0 else f"{terms[a]} {terms[b]}"

    def idf_of(self, cols: np.ndarray) -> np.ndarray:
        n_fit = len(self.idf)
        out = np.full(len(cols), self.idf_new)
        old = cols < n_fit
        out[old] = self.idf[cols[old]]
        return out

    def token_col(self, tid: int) -> int:
        return int(self.col_of_token[tid]) if 0 <= tid < len(self.col_of_token) else -1

    def bigram_col(self, a: int, b: int) -> int:
        key = (a << _SHIFT) | b
        keys = self.bigram_keys
        i = int(np.searchsorted(keys, key))
        if i < len(keys) and keys[i] == key:
            return int(self.bigram_cols[i])
        return self.extra_bigrams.get(key, -1)


@dataclass(frozen=True, slots=True)
class _Main:
    """The large segment: CSC for scoring, CSR for explanations."""

    csc_indptr: np.ndarray
    csc_indices: np.ndarray  # int32 document positions
    csc_data: np.ndarray  # float32 weights
    csr_indptr: np.ndarray
    csr_indices: np.ndarray  # int32 columns, sorted within a row
    csr_data: np.ndarray
    ids: list[str]  # position -> id
    pos: dict[str, int]  # id -> position (never mutated)

    @property
    def n_docs(self) -> int:
        return len(self.ids)

    @property
    def n_cols(self) -> int:
        return len(self.csc_indptr) - 1


@dataclass(frozen=True, slots=True)
class _State:
    """One published snapshot of the whole index."""

    analyzer: Analyzer
    ngram_range: tuple[int, int]
    sublinear_tf: bool
    vocab: _Vocab
    main: _Main
    # delta segment: postings sorted by (column, position)
    d_cols: np.ndarray  # int32
    d_pos: np.ndarray  # int32 global positions (>= main.n_docs)
    d_w: np.ndarray  # float32
    d_rows: tuple[tuple[np.ndarray, np.ndarray], ...]  # per delta doc (cols, weights)
    d_ids: tuple[str, ...]
    d_posmap: dict[str, int]  # id -> global position, for live delta docs
    dead: frozenset[int]  # tombstoned positions
    dead_arr: np.ndarray  # same, as intp array
    version: int

    @property
    def n_positions(self) -> int:
        return self.main.n_docs + len(self.d_ids)

    @property
    def n_alive(self) -> int:
        return self.n_positions - len(self.dead)

    def position(self, id_: str) -> int | None:
        p = self.d_posmap.get(id_)
        if p is None:
            p = self.main.pos.get(id_)
        if p is None or p in self.dead:
            return None
        return p

    def id_at(self, pos: int) -> str:
        n = self.main.n_docs
        return self.main.ids[pos] if pos < n else self.d_ids[pos - n]

    def row(self, pos: int) -> tuple[np.ndarray, np.ndarray]:
        n = self.main.n_docs
        if pos >= n:
            return self.d_rows[pos - n]
        m = self.main
        s, e = m.csr_indptr[pos], m.csr_indptr[pos + 1]
        return m.csr_indices[s:e], m.csr_data[s:e]


@dataclass(frozen=True, slots=True)
class _Query:
    cols: np.ndarray  # intp, in first-occurrence order
    weights: np.ndarray  # float64, L2-normalised
    labels: tuple[str, ...]  # display text per column


class TextScores:
    """One query's scores against every document of one index snapshot; explanations on demand.

    For rankers that fuse the text score with other signals over every candidate and explain only
    the few they return: :meth:`TfidfMatcher.score_all` vectorises the query once, ``values``
    holds the cosine of every index position (0 for removed documents and those sharing no term;
    :meth:`TfidfMatcher.positions` maps ids to positions) and :meth:`explain` gives a position's
    :class:`Match` with the same score and terms :meth:`TfidfMatcher.match` gives.

    Examples
    --------
    >>> m = TfidfMatcher().fit(["torture in prisons", "girls' education"], ids=["a", "b"])
    >>> found = m.score_all("torture")
    >>> pos = m.positions(["b", "a", "zz"])
    >>> pos.tolist(), [round(float(found.values[p]), 3) for p in pos[:2]]
    ([1, 0, -1], [0.0, 0.577])
    >>> found.explain(int(pos[1])).terms[0].term
    'torture'
    """

    __slots__ = ("_st", "_q", "values")

    def __init__(self, st: _State, q: _Query) -> None:
        self._st = st
        self._q = q
        #: Cosine with the query, per index position, float64.
        self.values: np.ndarray = _scores(st, q) if len(q.cols) else np.zeros(st.n_positions)

    def explain(self, position: int) -> Match:
        """The match of the document at ``position``: its score (clipped to [0, 1]) and the shared terms."""
        return _explain(self._st, self._q, position, float(self.values[position]))


# --------------------------------------------------------------------------
# Public estimator
# --------------------------------------------------------------------------


class TfidfMatcher:
    """Match texts against an indexed corpus by TF-IDF cosine similarity.

    ``__init__`` only stores the parameters (scikit-learn idiom); they are
    validated and used by :meth:`fit`.

    Parameters
    ----------
    ngram_range : (1, 1), (1, 2) or (2, 2), default (1, 2)
        Word n-grams to index; bigrams join consecutive terms *after* stop
        words are removed.
    min_df, max_df : int or float, default 1 and 1.0
        Ignore terms in fewer than ``min_df`` / more than ``max_df``
        documents at fit (an int is a count, a float a proportion).
    sublinear_tf : bool, default True
        Use ``1 + log(tf)`` instead of the raw term count.
    stop_words : {"upr", "english"}, collection of str or None, default "upr"
        ``"upr"`` drops English function words and the boilerplate of
        recommendations ("continue", "efforts", "ensure"...), see
        :mod:`matching.preprocessing`.
    strip_accents : bool, default True
        Fold accents (``"Côte"`` == ``"cote"``).
    stem : bool, default True
        Snowball English stemming (``"tortured"`` == ``"torture"``).

    Attributes
    ----------
    vocabulary_ : dict of str to int
        Term (stem, or two stems joined by a space) to column; built on each
        access.
    idf_ : ndarray of shape (n_terms,)
        IDF per column (``ln((1 + n) / (1 + df)) + 1`` at fit).
    ids_ : tuple of str
        Ids of the indexed documents, in index order.
    n_documents_ : int
        Number of indexed documents (same as ``len(m)``).
    version_ : int
        0 after the first fit, then incremented by every ``add``, ``remove``
        or re-``fit`` that changes the index; use it to invalidate caches.

    Notes
    -----
    See the module docstring for the index layout, the IDF policy for added
    documents and thread safety.  Results only contain documents with a score
    greater than 0, sorted by score descending then id ascending.

    Examples
    --------
    >>> docs = ["Abolish the death penalty", "Ratify the OPCAT",
    ...         "Prevent torture in detention", "Protect girls from torture"]
    >>> m = TfidfMatcher().fit(docs, ids=["a", "b", "c", "d"])
    >>> [(h.id, round(h.score, 2)) for h in m.match("torture in detention centres")]
    [('c', 0.75), ('d', 0.18)]
    >>> len(m), "b" in m, m.version_
    (4, True, 0)
    """

    def __init__(
        self,
        ngram_range: tuple[int, int] = (1, 2),
        min_df: int | float = 1,
        max_df: int | float = 1.0,
        sublinear_tf: bool = True,
        stop_words: str | Collection[str] | None = "upr",
        strip_accents: bool = True,
        stem: bool = True,
    ) -> None:
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.max_df = max_df
        self.sublinear_tf = sublinear_tf
        self.stop_words = stop_words
        self.strip_accents = strip_accents
        self.stem = stem
        self._state: _State | None = None
        self._lock = threading.Lock()
        self._new_query_cache()

    def _new_query_cache(self) -> None:
        # text -> (the vocabulary it was vectorised with, the query); a view shares its matcher's.
        self._queries: OrderedDict[str, tuple[_Vocab, _Query]] = OrderedDict()
        self._queries_lock = threading.Lock()

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"

    def get_params(self) -> dict[str, Any]:
        """Return the constructor parameters.

        Examples
        --------
        >>> TfidfMatcher(min_df=2).get_params()["min_df"]
        2
        """
        return {
            "ngram_range": self.ngram_range,
            "min_df": self.min_df,
            "max_df": self.max_df,
            "sublinear_tf": self.sublinear_tf,
            "stop_words": self.stop_words,
            "strip_accents": self.strip_accents,
            "stem": self.stem,
        }

    # pickling: the lock cannot be pickled
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        for name in ("_lock", "_queries", "_queries_lock"):
            del state[name]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()
        self._new_query_cache()

    # ------------------------------------------------------------------ fit

    def fit(self, documents: Sequence[str], *, ids: Sequence[str]) -> TfidfMatcher:
        """Learn the vocabulary and IDF of ``documents`` and index them.

        Parameters
        ----------
        documents : sequence of str
            Texts to index (at least one).
        ids : sequence of str
            Unique id of each document, same length as ``documents``.

        Returns
        -------
        self

        Raises
        ------
        ValueError
            Empty corpus, lengths differ, duplicate ids, bad parameters, or
            no term left after stop words and ``min_df``/``max_df``.
        TypeError
            A document or an id is not a ``str``.

        Examples
        --------
        >>> m = TfidfMatcher().fit(["a text about torture"], ids=["x"])
        >>> m.n_documents_
        1
        >>> TfidfMatcher().fit([], ids=[])
        Traceback (most recent call last):
        ...
        ValueError: documents must not be empty, got 0 documents
        """
        docs = check_documents(documents)
        id_list = check_ids(ids)
        check_same_length(docs, id_list)
        if not docs:
            raise ValueError("documents must not be empty, got 0 documents")
        ngram_range = check_ngram_range(self.ngram_range)
        min_df = check_df(self.min_df, "min_df")
        max_df = check_df(self.max_df, "max_df")
        analyzer = Analyzer(self.stop_words, self.strip_accents, self.stem)
        with self._lock:
            previous = self._state
            version = 0 if previous is None else previous.version + 1
            self._state = _build_state(
                analyzer,
                docs,
                id_list,
                ngram_range,
                min_df,
                max_df,
                bool(self.sublinear_tf),
                version,
            )
        return self

    # --------------------------------------------------------------- match

    def match(
        self,
        query: str,
        *,
        top_k: int = 10,
        allowed_ids: Collection[str] | None = None,
        min_score: float = 0.0,
    ) -> list[Match]:
        """Return the ``top_k`` documents most similar to ``query``.

        Parameters
        ----------
        query : str
            Free text (e.g. a recommendation, or a State's need).
        top_k : int, default 10
            Maximum number of results (>= 1).
        allowed_ids : collection of str, optional
            Only these documents may be returned (ids not in the index are
            ignored).  Pass a ``set`` for large filters.
        min_score : float, default 0.0
            Drop results scoring below it.  Documents scoring 0 (no shared
            term) are never returned.

        Returns
        -------
        list of Match
            By score descending, ties by id ascending.

        Raises
        ------
        NotFittedError
            Before ``fit``.

        Examples
        --------
        >>> m = TfidfMatcher().fit(["torture", "torture", "education"], ids=["b", "a", "c"])
        >>> [h.id for h in m.match("torture")]
        ['a', 'b']
        >>> [h.id for h in m.match("torture", allowed_ids={"b", "c"})]
        ['b']
        >>> m.match("torture", top_k=0)
        Traceback (most recent call last):
        ...
        ValueError: top_k must be >= 1, got 0
        """
        check_query(query)
        k = check_top_k(top_k)
        allowed = check_allowed_ids(allowed_ids)
        threshold = check_min_score(min_score)
        st = self._snapshot()
        positions = None if allowed is None else _allowed_positions(st, allowed)
        return _match(st, query, k, positions, threshold)

    def match_many(
        self,
        queries: Sequence[str],
        *,
        top_k: int = 10,
        allowed_ids: Collection[str] | None = None,
        min_score: float = 0.0,
    ) -> list[list[Match]]:
        """Run :meth:`match` for each query (on one consistent snapshot).

        Returns
        -------
        list of list of Match
            Equal to ``[m.match(q, top_k=top_k, allowed_ids=allowed_ids, min_score=min_score) for q in queries]``.

        Examples
        --------
        >>> m = TfidfMatcher().fit(["torture", "education"], ids=["a", "b"])
        >>> [[h.id for h in hits] for hits in m.match_many(["torture", "schools", "education"])]
        [['a'], [], ['b']]
        """
        qs = check_queries(queries)
        k = check_top_k(top_k)
        allowed = check_allowed_ids(allowed_ids)
        threshold = check_min_score(min_score)
        st = self._snapshot()
        positions = None if allowed is None else _allowed_positions(st, allowed)
        return [_match(st, q, k, positions, threshold) for q in qs]

    def score_all(self, query: str) -> TextScores:
        """Score ``query`` against every indexed document at once (see :class:`TextScores`).

        Examples
        --------
        >>> m = TfidfMatcher().fit(["torture", "education"], ids=["a", "b"])
        >>> m.score_all("torture").values.round(2).tolist()
        [1.0, 0.0]
        """
        check_query(query)
        st = self._snapshot()
        return TextScores(st, self._prepared(st, query))

    def _prepared(self, st: _State, text: str) -> _Query:
        """``text`` vectorised with the vocabulary of ``st``, from the cache when the vocabulary is unchanged."""
        with self._queries_lock:
            found = self._queries.get(text)
            if found is not None and found[0] is st.vocab:
                self._queries.move_to_end(text)
                return found[1]
        q = _query(st, text)
        with self._queries_lock:
            self._queries[text] = (st.vocab, q)
            self._queries.move_to_end(text)
            while len(self._queries) > QUERY_CACHE:
                self._queries.popitem(last=False)
        return q

    def positions(self, ids: Sequence[str]) -> np.ndarray:
        """The index position of each id (-1 for an id not indexed), to read :attr:`TextScores.values`.

        Positions change with ``add``, ``remove`` and ``fit``: take them from the same matcher (or
        :meth:`view`) that scores.

        Examples
        --------
        >>> TfidfMatcher().fit(["torture", "education"], ids=["a", "b"]).positions(["b", "zz"]).tolist()
        [1, -1]
        """
        position = self._snapshot().position
        return np.fromiter((-1 if (p := position(i)) is None else p for i in ids), dtype=np.intp, count=len(ids))

    def explain(self, query: str, *, id: str) -> Match:
        """Score one document against ``query``, whatever its rank.

        Parameters
        ----------
        query : str
        id : str
            An indexed document id.

        Returns
        -------
        Match
            Same score and terms as :meth:`match` would give (score may be 0
            with no terms).

        Raises
        ------
        UnknownIdError
            (a ``KeyError``) if ``id`` is not indexed.

        Examples
        --------
        >>> m = TfidfMatcher().fit(["torture in prisons", "prisons"], ids=["a", "b"])
        >>> hit = m.explain("torture", id="b")
        >>> hit.score, hit.terms
        (0.0, ())
        >>> [t.term for t in m.explain("Prisons and torture", id="a").terms]
        ['torture', 'prisons']
        """
        check_query(query)
        check_query(id, "id")
        st = self._snapshot()
        pos = st.position(id)
        if pos is None:
            raise UnknownIdError(f"unknown id {id!r}: it is not in the index")
        q = _query(st, query)
        return _explain(st, q, pos)

    # ------------------------------------------------------------- updates

    def add(self, documents: Sequence[str], *, ids: Sequence[str]) -> None:
        """Index new documents without refitting; an existing id is replaced.

        The documents are weighted with the IDF frozen at ``fit`` (new terms
        get the IDF of a document frequency of 1) and are visible to the next
        :meth:`match`.  An id already in the index is an *update*: its old
        version is tombstoned and the new text indexed.  ``version_`` is
        incremented once per call.

        Parameters
        ----------
        documents : sequence of str
        ids : sequence of str, keyword-only
            Unique within the call.

        Raises
        ------
        NotFittedError
            Before ``fit``.
        ValueError, TypeError
            As for :meth:`fit` (an empty batch is allowed and does nothing).

        Examples
        --------
        >>> m = TfidfMatcher().fit(["torture", "education"], ids=["a", "b"])
        >>> m.add(["education of girls"], ids=["c"])
        >>> m.add(["death penalty"], ids=["a"])  # replaces "a"
        >>> [h.id for h in m.match("girls education")], len(m), m.version_
        (['c', 'b'], 3, 2)
        """
        id_list = check_ids(ids)
        docs = check_documents(documents)
        check_same_length(docs, id_list)
        self._snapshot()
        if not docs:
            return
        with self._lock:
            st = self._snapshot()
            new = _add(st, id_list, docs)
            self._state = _maybe_compact(new)

    def remove(self, ids: Sequence[str]) -> None:
        """Remove documents from the index.

        All ids are checked first: if one is unknown nothing is removed.

        Parameters
        ----------
        ids : sequence of str

        Raises
        ------
        UnknownIdError
            (a ``KeyError``) naming the first id that is not indexed.

        Examples
        --------
        >>> m = TfidfMatcher().fit(["torture", "torture"], ids=["a", "b"])
        >>> m.remove(["a"])
        >>> [h.id for h in m.match("torture")], "a" in m, m.version_
        (['b'], False, 1)
        >>> m.remove(["zz"])
        Traceback (most recent call last):
        ...
        matching.exceptions.UnknownIdError: cannot remove unknown id 'zz': it is not in the index
        """
        id_list = check_ids(ids)
        self._snapshot()
        if not id_list:
            return
        with self._lock:
            st = self._snapshot()
            positions = []
            for id_ in id_list:
                p = st.position(id_)
                if p is None:
                    raise UnknownIdError(f"cannot remove unknown id {id_!r}: it is not in the index")
                positions.append(p)
            self._state = _maybe_compact(_remove(st, id_list, positions))

    def compact(self) -> None:
        """Merge the delta segment and drop tombstones (done automatically).

        Results are unchanged and ``version_`` is not incremented.

        Examples
        --------
        >>> m = TfidfMatcher().fit(["torture"], ids=["a"])
        >>> m.add(["torture in prisons"], ids=["b"]); m.compact()
        >>> [h.id for h in m.match("torture")]
        ['a', 'b']
        """
        self._snapshot()
        with self._lock:
            self._state = _compact(self._snapshot())

    def view(self) -> TfidfMatcher:
        """A matcher that answers from the index as it is now, and never changes.

        Later ``add``/``remove``/``fit`` calls on this matcher do not reach the view (the
        index state is immutable and shared, so this costs nothing). For readers that must
        see one consistent index across several calls.

        Examples
        --------
        >>> m = TfidfMatcher().fit(["torture"], ids=["a"])
        >>> frozen = m.view()
        >>> m.add(["torture in prisons"], ids=["b"])
        >>> [h.id for h in frozen.match("torture")], [h.id for h in m.match("torture")]
        (['a'], ['a', 'b'])
        """
        view = copy.copy(self)
        view._lock = threading.Lock()
        view._state = self._snapshot()
        return view

    # ------------------------------------------------------------ inspect

    def transform(self, documents: Sequence[str]) -> sp.csr_matrix:
        """Return the L2-normalised TF-IDF vectors of ``documents``.

        Terms unknown to the index are ignored.

        Returns
        -------
        scipy.sparse.csr_matrix of shape (len(documents), n_terms)

        Examples
        --------
        >>> m = TfidfMatcher().fit(["torture", "education"], ids=["a", "b"])
        >>> m.transform(["torture"]).toarray().round(2)
        array([[1., 0.]])
        """
        docs = check_documents(documents)
        st = self._snapshot()
        rows = [_query(st, d) for d in docs]
        indptr = np.zeros(len(rows) + 1, dtype=np.int64)
        indptr[1:] = np.cumsum([len(r.cols) for r in rows])
        cols = np.concatenate([r.cols for r in rows]) if rows else np.empty(0, np.intp)
        data = np.concatenate([r.weights for r in rows]) if rows else np.empty(0)
        out = sp.csr_matrix((data, cols, indptr), shape=(len(rows), st.vocab.n_cols))
        out.sort_indices()
        return out

    def __len__(self) -> int:
        st = self._state
        return 0 if st is None else st.n_alive

    def __contains__(self, id_: object) -> bool:
        st = self._state
        return st is not None and isinstance(id_, str) and st.position(id_) is not None

    @property
    def n_documents_(self) -> int:
        """Number of indexed documents."""
        return self._snapshot().n_alive

    @property
    def version_(self) -> int:
        """Index version, incremented on every change."""
        return self._snapshot().version

    @property
    def ids_(self) -> tuple[str, ...]:
        """Indexed ids, in index order."""
        st = self._snapshot()
        if not st.dead:
            return tuple(st.main.ids) + st.d_ids
        return tuple(st.id_at(p) for p in range(st.n_positions) if p not in st.dead)

    @property
    def idf_(self) -> np.ndarray:
        """IDF of every column (later columns: the IDF of df = 1)."""
        v = self._snapshot().vocab
        return np.concatenate([v.idf, np.full(len(v.extra_col_tokens), v.idf_new)])

    @property
    def vocabulary_(self) -> dict[str, int]:
        """Term to column (computed on access)."""
        v = self._snapshot().vocab
        return {v.term_of(c): c for c in range(v.n_cols)}

    def _snapshot(self) -> _State:
        st = self._state
        if st is None:
            raise NotFittedError(f"This {type(self).__name__} is not fitted yet; call fit(documents, ids) first.")
        return st


# --------------------------------------------------------------------------
# Fit
# --------------------------------------------------------------------------


def _tf(counts: np.ndarray, sublinear: bool) -> np.ndarray:
    counts = counts.astype(np.float64)
    return 1.0 + np.log(counts) if sublinear else counts


def _build_state(
    analyzer: Analyzer,
    docs: list[str],
    ids: list[str],
    ngram_range: tuple[int, int],
    min_df: int | float,
    max_df: int | float,
    sublinear: bool,
    version: int,
) -> _State:
    n = len(docs)
    tids_arr, lengths, token_ids = _corpus_token_ids(analyzer, docs)
    token_terms = list(token_ids)
    n_tok = len(token_terms)
    doc_of = np.repeat(np.arange(n, dtype=np.int64), lengths)

    rows_parts: list[np.ndarray] = []
    cols_parts: list[np.ndarray] = []
    if ngram_range[0] == 1:
        rows_parts.append(doc_of)
        cols_parts.append(tids_arr)
    bkeys = np.empty(0, dtype=np.int64)
    if ngram_range[1] == 2 and len(tids_arr) > 1:
        same = doc_of[1:] == doc_of[:-1]
        compact_keys = tids_arr[:-1][same] * n_tok + tids_arr[1:][same]
        uniq, inverse = _unique_inverse(compact_keys, n_tok * n_tok)
        bkeys = ((uniq // n_tok) << _SHIFT) | (uniq % n_tok)  # same order as (a, b)
        rows_parts.append(doc_of[1:][same])
        cols_parts.append(n_tok + inverse)
    n_cols_raw = n_tok + len(bkeys)
    rows = np.concatenate(rows_parts) if rows_parts else np.empty(0, np.int64)
    cols = np.concatenate(cols_parts) if cols_parts else np.empty(0, np.int64)
    counts = sp.csr_matrix((np.ones(len(rows), dtype=np.float64), (rows, cols)), shape=(n, n_cols_raw))
    counts.sum_duplicates()
    df = np.bincount(counts.indices, minlength=n_cols_raw)

    min_count = min_df if isinstance(min_df, int) else math.ceil(min_df * n)
    max_count = max_df if isinstance(max_df, int) else math.floor(max_df * n)
    if max_count < min_count:
        raise ValueError(f"max_df corresponds to fewer documents ({max_count}) than min_df ({min_count})")
    keep = (df >= max(min_count, 1)) & (df <= max_count)
    if not keep.any():
        raise ValueError(
            f"no terms remain after stop words and min_df/max_df (min_df={min_df!r}, max_df={max_df!r}), got 0 terms"
        )
    new_col = np.cumsum(keep) - 1
    n_cols = int(keep.sum())

    # drop pruned columns from the count matrix (monotone renumbering keeps rows sorted)
    entry_keep = keep[counts.indices]
    row_of_entry = np.repeat(np.arange(n), np.diff(counts.indptr))[entry_keep]
    indices = new_col[counts.indices[entry_keep]].astype(np.int32)
    tf = _tf(counts.data[entry_keep], sublinear)
    indptr = np.zeros(n + 1, dtype=np.int64)
    indptr[1:] = np.cumsum(np.bincount(row_of_entry, minlength=n))

    idf = np.log((1.0 + n) / (1.0 + df[keep])) + 1.0
    data = tf * idf[indices]
    norms = np.sqrt(np.bincount(row_of_entry, data * data, minlength=n))
    norms[norms == 0] = 1.0
    data = (data / norms[row_of_entry]).astype(np.float32)

    col_of_token = np.where(keep[:n_tok], new_col[:n_tok], -1).astype(np.int32)
    bkeep = keep[n_tok:]
    col_tokens = np.empty((n_cols, 2), dtype=np.int32)
    uni_cols = col_of_token[col_of_token >= 0]
    col_tokens[uni_cols, 0] = np.flatnonzero(col_of_token >= 0)
    col_tokens[uni_cols, 1] = -1
    bcols = new_col[n_tok:][bkeep].astype(np.int32)
    kept_keys = bkeys[bkeep]
    col_tokens[bcols, 0] = kept_keys >> _SHIFT
    col_tokens[bcols, 1] = kept_keys & ((1 << _SHIFT) - 1)

    vocab = _Vocab(
        token_ids=token_ids,
        token_terms=token_terms,
        col_of_token=col_of_token,
        bigram_keys=kept_keys,
        bigram_cols=bcols,
        extra_bigrams={},
        col_tokens=col_tokens,
        extra_col_tokens=(),
        idf=idf,
        idf_new=float(np.log((1.0 + n) / 2.0) + 1.0),
        n_fit_docs=n,
        allow_new_terms=max(min_count, 1) <= 1 <= max_count,
    )
    main = _make_main(indptr, indices, data, n_cols, ids)
    return _empty_delta(analyzer, ngram_range, sublinear, vocab, main, version)


def _corpus_token_ids(analyzer: Analyzer, docs: list[str]) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """Token ids of every kept term of ``docs``, concatenated, and per-doc counts.

    Same result as calling ``analyzer.analyze`` on each document, but the
    surface-token -> id look-up runs in C (``map(dict.get, ...)``) and only
    tokens never seen before go through Python; that is most of the fit time.
    """
    findall = TOKEN_RE.findall
    fold = analyzer.strip_accents
    surface: dict[str, int] = {}  # surface token -> token id, -1 if dropped
    get = surface.get
    token_ids: dict[str, int] = {}
    flat = array("q")
    lengths = np.empty(len(docs), dtype=np.int64)
    for i, doc in enumerate(docs):
        tokens = findall(fold_accents(doc) if fold and not doc.isascii() else doc)
        tids = list(map(get, tokens))
        if None in tids:
            for j, tid in enumerate(tids):
                if tid is None:
                    term = analyzer.term(tokens[j])
                    tid = -1 if term is None else token_ids.setdefault(term, len(token_ids))
                    surface[tokens[j]] = tids[j] = tid
        flat.extend(tids)  # type: ignore[arg-type]
        lengths[i] = len(tids)
    all_ids = np.frombuffer(flat, dtype=np.int64) if len(flat) else np.empty(0, np.int64)
    kept = all_ids >= 0
    doc_of = np.repeat(np.arange(len(docs)), lengths)[kept]
    return all_ids[kept], np.bincount(doc_of, minlength=len(docs)), token_ids


def _unique_inverse(keys: np.ndarray, key_bound: int) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(keys, return_inverse=True)`` for non-negative keys < ``key_bound``.

    Packs each key with its index into one int64 and uses a plain ``sort``
    (SIMD-accelerated in NumPy 2) instead of the much slower ``argsort``.
    """
    n = len(keys)
    index_bits = max(1, (n - 1).bit_length())
    if n == 0 or (key_bound - 1).bit_length() + index_bits > 62:
        uniq, inverse = np.unique(keys, return_inverse=True)
        return uniq, inverse.astype(np.int64).ravel()
    packed = (keys << index_bits) | np.arange(n, dtype=np.int64)
    packed.sort()
    order = packed & ((1 << index_bits) - 1)
    sorted_keys = packed >> index_bits
    first = np.empty(n, dtype=bool)
    first[0] = True
    np.not_equal(sorted_keys[1:], sorted_keys[:-1], out=first[1:])
    inverse = np.empty(n, dtype=np.int64)
    inverse[order] = np.cumsum(first) - 1
    return sorted_keys[first], inverse


def _make_main(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, n_cols: int, ids: list[str]) -> _Main:
    csr = sp.csr_matrix((data, indices, indptr), shape=(len(ids), n_cols))
    csc = csr.tocsc()
    return _Main(
        csc_indptr=csc.indptr.astype(np.int64),
        csc_indices=csc.indices.astype(np.int32, copy=False),
        csc_data=csc.data.astype(np.float32, copy=False),
        csr_indptr=indptr,
        csr_indices=indices,
        csr_data=data,
        ids=ids,
        pos={id_: i for i, id_ in enumerate(ids)},
    )


def _empty_delta(
    analyzer: Analyzer,
    ngram_range: tuple[int, int],
    sublinear: bool,
    vocab: _Vocab,
    main: _Main,
    version: int,
) -> _State:
    return _State(
        analyzer=analyzer,
        ngram_range=ngram_range,
        sublinear_tf=sublinear,
        vocab=vocab,
        main=main,
        d_cols=np.empty(0, np.int32),
        d_pos=np.empty(0, np.int32),
        d_w=np.empty(0, np.float32),
        d_rows=(),
        d_ids=(),
        d_posmap={},
        dead=frozenset(),
        dead_arr=np.empty(0, np.intp),
        version=version,
    )


# --------------------------------------------------------------------------
# Query side
# --------------------------------------------------------------------------


def _label(text: str, start: int, end: int) -> str:
    return _WS.sub(" ", text[start:end]).lower()


def _query(st: _State, text: str) -> _Query:
    """Vectorise ``text`` with the fitted vocabulary (unknown terms ignored)."""
    vocab = st.vocab
    norm, spans = st.analyzer.analyze_spans(text)
    get = vocab.token_ids.get
    tids = [get(t, -1) for t, _, _ in spans]
    counts: dict[int, int] = {}
    labels: dict[int, str] = {}
    lo, hi = st.ngram_range
    if lo == 1:
        for i, tid in enumerate(tids):
            col = vocab.token_col(tid) if tid >= 0 else -1
            if col >= 0:
                counts[col] = counts.get(col, 0) + 1
                if col not in labels:
                    labels[col] = _label(norm, spans[i][1], spans[i][2])
    if hi == 2:
        for i in range(len(tids) - 1):
            a, b = tids[i], tids[i + 1]
            if a < 0 or b < 0:
                continue
            col = vocab.bigram_col(a, b)
            if col >= 0:
                counts[col] = counts.get(col, 0) + 1
                if col not in labels:
                    labels[col] = _label(norm, spans[i][1], spans[i + 1][2])
    if not counts:
        return _Query(np.empty(0, np.intp), np.empty(0), ())
    cols = np.fromiter(counts.keys(), dtype=np.intp, count=len(counts))
    tf = _tf(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)), st.sublinear_tf)
    w = tf * vocab.idf_of(cols)
    w /= np.sqrt(np.dot(w, w))
    return _Query(cols, w, tuple(labels[c] for c in counts))


def _scores(st: _State, q: _Query) -> np.ndarray:
    """Cosine of ``q`` with every position, reading only its posting lists."""
    main = st.main
    n_total = st.n_positions
    idx_parts: list[np.ndarray] = []
    w_parts: list[np.ndarray] = []
    in_main = q.cols < main.n_cols
    if in_main.any():
        mcols = q.cols[in_main]
        starts = main.csc_indptr[mcols]
        ends = main.csc_indptr[mcols + 1]
        lens = ends - starts
        idx_parts.extend(main.csc_indices[s:e] for s, e in zip(starts, ends, strict=True))
        w_parts.append(
            np.concatenate([main.csc_data[s:e] for s, e in zip(starts, ends, strict=True)]).astype(np.float64)
            * np.repeat(q.weights[in_main], lens)
        )
    if len(st.d_cols):
        starts = np.searchsorted(st.d_cols, q.cols, side="left")
        ends = np.searchsorted(st.d_cols, q.cols, side="right")
        lens = ends - starts
        if lens.any():
            idx_parts.extend(st.d_pos[s:e] for s, e in zip(starts, ends, strict=True))
            w_parts.append(
                np.concatenate([st.d_w[s:e] for s, e in zip(starts, ends, strict=True)]).astype(np.float64)
                * np.repeat(q.weights, lens)
            )
    if not w_parts:
        return np.zeros(n_total)
    idx = np.concatenate(idx_parts).astype(np.intp)
    weights = np.concatenate(w_parts) if len(w_parts) > 1 else w_parts[0]
    scores = np.bincount(idx, weights, minlength=n_total)
    if len(st.dead_arr):
        scores[st.dead_arr] = 0.0
    return scores


def _top_positions(scores: np.ndarray, k: int, min_score: float) -> np.ndarray:
    """Indices of every score that can be in the top ``k`` (ties included).

    Only positive scores >= ``min_score`` qualify.  A threshold falls from
    half the maximum (at most four steps) until ``k`` scores pass it, so the
    partition runs on a few candidates instead of the whole corpus.
    """
    if len(scores) == 0:
        return np.empty(0, np.intp)
    best = float(scores.max())
    if best <= 0.0 or best < min_score:
        return np.empty(0, np.intp)
    floor = max(min_score, np.finfo(np.float64).tiny)
    for t in (best * 0.5, best * 0.125, best / 64.0, floor):
        cand = np.flatnonzero(scores >= max(t, floor))
        if len(cand) >= k:
            break
    if len(cand) > k:
        sub = scores[cand]
        kth = sub[np.argpartition(sub, len(sub) - k)[len(sub) - k]]
        cand = cand[sub >= kth]  # keep ties at the k-th score, id decides
    return cand


def _allowed_positions(st: _State, allowed: Collection[str]) -> np.ndarray:
    position = st.position
    found = [p for p in map(position, allowed) if p is not None]
    return np.unique(np.array(found, dtype=np.intp))


def _match(st: _State, text: str, k: int, positions: np.ndarray | None, min_score: float) -> list[Match]:
    q = _query(st, text)
    if len(q.cols) == 0:
        return []
    scores = _scores(st, q)
    if positions is None:
        cand = _top_positions(scores, k, min_score)
    else:
        cand = positions[_top_positions(scores[positions], k, min_score)]
    ranked = sorted(
        ((-float(scores[p]), st.id_at(p), int(p)) for p in cand),
    )[:k]
    return [_explain(st, q, p, -neg) for neg, _, p in ranked]


def _explain(st: _State, q: _Query, pos: int, score: float | None = None) -> Match:
    cols, dw = st.row(pos)
    if len(q.cols) == 0 or len(cols) == 0:
        return Match(st.id_at(pos), 0.0, ())
    where = np.searchsorted(cols, q.cols)
    where[where >= len(cols)] = 0
    hit = cols[where] == q.cols
    contributions = [(float(dw[where[i]]) * float(q.weights[i]), q.labels[i]) for i in np.flatnonzero(hit)]
    if score is None:
        score = 0.0
        for c, _ in contributions:  # same summation order as _scores
            score += c
    contributions.sort(key=lambda cw: (-cw[0], cw[1]))
    terms = tuple(TermWeight(label, c) for c, label in contributions[:N_TERMS])
    return Match(st.id_at(pos), min(max(score, 0.0), 1.0), terms)


# --------------------------------------------------------------------------
# Updates
# --------------------------------------------------------------------------


def _add(st: _State, ids: list[str], docs: list[str]) -> _State:
    vocab = st.vocab
    token_ids, token_terms = vocab.token_ids, vocab.token_terms
    col_of_token = vocab.col_of_token
    extra_bigrams = vocab.extra_bigrams
    extra_cols = list(vocab.extra_col_tokens)
    n_fit_cols = len(vocab.idf)
    lo, hi = st.ngram_range
    bigrams_copied = cot_private = False
    rows: list[tuple[np.ndarray, np.ndarray]] = []

    def token_id(term: str) -> int:
        tid = token_ids.get(term)
        if tid is None:
            token_terms.append(term)  # publish the term before its id
            tid = len(token_terms) - 1
            token_ids[term] = tid
        return tid

    for doc in docs:
        tids = [token_id(t) for t in st.analyzer.analyze(doc)]
        if len(col_of_token) < len(token_terms):
            # ids created by this call (or an earlier failed one): -2 = "unseen"
            pad = np.full(len(token_terms) - len(col_of_token), -2, np.int32)
            col_of_token = np.concatenate([col_of_token, pad])
            cot_private = True
        counts: dict[int, int] = {}
        if lo == 1:
            for tid in tids:
                col = int(col_of_token[tid])
                if col == -2:  # never seen: a new column if min_df/max_df allow df=1
                    col = n_fit_cols + len(extra_cols) if vocab.allow_new_terms else -1
                    if col >= 0:
                        extra_cols.append((tid, -1))
                    if not cot_private:  # never write into a published array
                        col_of_token = col_of_token.copy()
                        cot_private = True
                    col_of_token[tid] = col
                if col >= 0:
                    counts[col] = counts.get(col, 0) + 1
        if hi == 2:
            for a, b in itertools.pairwise(tids):
                key = (a << _SHIFT) | b
                keys = vocab.bigram_keys
                i = int(np.searchsorted(keys, key))
                if i < len(keys) and keys[i] == key:
                    col = int(vocab.bigram_cols[i])
                else:
                    col = extra_bigrams.get(key, -1)
                    if col < 0 and vocab.allow_new_terms:
                        if not bigrams_copied:
                            extra_bigrams = dict(extra_bigrams)
                            bigrams_copied = True
                        col = n_fit_cols + len(extra_cols)
                        extra_cols.append((a, b))
                        extra_bigrams[key] = col
                if col >= 0:
                    counts[col] = counts.get(col, 0) + 1
        cols = np.array(sorted(counts), dtype=np.int32)
        if len(cols):
            tf = _tf(np.array([counts[c] for c in cols.tolist()], dtype=np.float64), st.sublinear_tf)
            idf = np.where(cols < n_fit_cols, vocab.idf[np.minimum(cols, n_fit_cols - 1)], vocab.idf_new)
            w = tf * idf
            w = (w / np.sqrt(np.dot(w, w))).astype(np.float32)
        else:
            w = np.empty(0, np.float32)
        rows.append((cols, w))
    # -2 may remain (ngram_range=(2, 2)): readers treat any negative as "no column"

    new_vocab = _Vocab(
        token_ids=token_ids,
        token_terms=token_terms,
        col_of_token=col_of_token,
        bigram_keys=vocab.bigram_keys,
        bigram_cols=vocab.bigram_cols,
        extra_bigrams=extra_bigrams,
        col_tokens=vocab.col_tokens,
        extra_col_tokens=tuple(extra_cols),
        idf=vocab.idf,
        idf_new=vocab.idf_new,
        n_fit_docs=vocab.n_fit_docs,
        allow_new_terms=vocab.allow_new_terms,
    )

    # positions, tombstones for replaced ids
    first = st.n_positions
    dead = set(st.dead)
    posmap = dict(st.d_posmap)
    for i, id_ in enumerate(ids):
        old = st.position(id_)
        if old is not None:
            dead.add(old)
        posmap[id_] = first + i

    # merge new postings into the delta arrays, keeping (column, position) order
    new_cols = np.concatenate([r[0] for r in rows])
    new_pos = np.repeat(np.arange(first, first + len(rows), dtype=np.int32), [len(r[0]) for r in rows])
    new_w = np.concatenate([r[1] for r in rows])
    order = np.argsort(new_cols, kind="stable")
    new_cols, new_pos, new_w = new_cols[order], new_pos[order], new_w[order]
    at = np.searchsorted(st.d_cols, new_cols, side="right")
    return _State(
        analyzer=st.analyzer,
        ngram_range=st.ngram_range,
        sublinear_tf=st.sublinear_tf,
        vocab=new_vocab,
        main=st.main,
        d_cols=np.insert(st.d_cols, at, new_cols),
        d_pos=np.insert(st.d_pos, at, new_pos),
        d_w=np.insert(st.d_w, at, new_w),
        d_rows=st.d_rows + tuple(rows),
        d_ids=st.d_ids + tuple(ids),
        d_posmap=posmap,
        dead=frozenset(dead),
        dead_arr=np.array(sorted(dead), dtype=np.intp),
        version=st.version + 1,
    )


def _remove(st: _State, ids: list[str], positions: list[int]) -> _State:
    dead = st.dead.union(positions)
    posmap = {k: v for k, v in st.d_posmap.items() if v not in dead}
    return _replace(
        st,
        d_posmap=posmap,
        dead=dead,
        dead_arr=np.array(sorted(dead), dtype=np.intp),
        version=st.version + 1,
    )


def _replace(st: _State, **changes: Any) -> _State:
    fields = {name: getattr(st, name) for name in _State.__dataclass_fields__}
    fields.update(changes)
    return _State(**fields)


def _maybe_compact(st: _State) -> _State:
    pending = len(st.d_ids) + len(st.dead)
    if pending > max(_MIN_COMPACT, st.main.n_docs // 32):
        return _compact(st)
    return st


def _compact(st: _State) -> _State:
    """Merge delta rows into the main segment and drop dead positions."""
    main = st.main
    n_main = main.n_docs
    alive_main = np.ones(n_main, dtype=bool)
    dead_main = st.dead_arr[st.dead_arr < n_main]
    alive_main[dead_main] = False
    row_len = np.diff(main.csr_indptr)
    entry_mask = np.repeat(alive_main, row_len)
    live_delta = [i for i in range(len(st.d_ids)) if (n_main + i) not in st.dead]
    idx_parts = [main.csr_indices[entry_mask]] + [st.d_rows[i][0] for i in live_delta]
    w_parts = [main.csr_data[entry_mask]] + [st.d_rows[i][1] for i in live_delta]
    lens = np.concatenate([row_len[alive_main], np.array([len(st.d_rows[i][0]) for i in live_delta], dtype=np.int64)])
    indptr = np.zeros(len(lens) + 1, dtype=np.int64)
    indptr[1:] = np.cumsum(lens)
    ids = [main.ids[p] for p in np.flatnonzero(alive_main)] + [st.d_ids[i] for i in live_delta]
    new_main = _make_main(
        indptr,
        np.concatenate(idx_parts).astype(np.int32),
        np.concatenate(w_parts).astype(np.float32),
        st.vocab.n_cols,
        ids,
    )
    return _empty_delta(st.analyzer, st.ngram_range, st.sublinear_tf, st.vocab, new_main, st.version)
