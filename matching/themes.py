"""Theme-space similarity for the ranking fusion, and its human-readable explanation.

A *theme vector* has one weight per theme of a label scheme (``classes``, the
tagger's ``classes_``).  Declared labels count 1.0; a text without declared
labels falls back to the tagger's predicted probabilities.  Two texts are
close in theme space when the cosine of their theme vectors is high, and the
themes with the largest terms of that cosine are the ones they *share*
("shares: Detention, Torture and other CID treatment").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Protocol, cast

import numpy as np
import numpy.typing as npt

__all__ = [
    "theme_vector",
    "cosine_similarity",
    "theme_contributions",
    "bridging_themes",
    "split_sentences",
    "split_clauses",
    "sentence_mean_proba",
    "pooled_proba",
]

FloatArray = npt.NDArray[np.float64]


class ProbaSource(Protocol):
    """Anything that gives calibrated theme probabilities for texts (a theme tagger)."""

    def proba_matrix(self, texts: Sequence[str]) -> FloatArray: ...


def theme_vector(
    labels: Iterable[str] | None,
    classes: Sequence[str],
    probas: Sequence[float] | np.ndarray | Mapping[str, float] | Iterable[tuple[str, float]] | None = None,
) -> np.ndarray:
    """Theme vector of one text: declared labels as 1.0, else predicted probabilities.

    Parameters
    ----------
    labels : iterable of str or None
        Declared themes.  Labels not in ``classes`` are ignored.
    classes : sequence of str
        The themes of the scheme, in vector order.
    probas : array-like, mapping or iterable of (label, p), optional
        Predicted probabilities: a vector aligned with ``classes``, a
        ``{label: p}`` mapping, or ``(label, p)`` pairs (as from
        ``ThemeTagger.predict_proba``).  Used only when no declared label is
        in ``classes``.

    Returns
    -------
    numpy.ndarray
        Float vector of length ``len(classes)``; all zeros if there is neither
        a known declared label nor ``probas``.

    Examples
    --------
    >>> classes = ["Detention", "Torture", "Women"]
    >>> theme_vector(["Torture", "Unknown"], classes).tolist()
    [0.0, 1.0, 0.0]
    >>> theme_vector([], classes, probas=[0.2, 0.7, 0.1]).tolist()
    [0.2, 0.7, 0.1]
    >>> theme_vector(None, classes, probas=[("Women", 0.9)]).tolist()
    [0.0, 0.0, 0.9]
    """
    index = {c: i for i, c in enumerate(classes)}
    vec = np.zeros(len(classes), dtype=float)
    known = [index[label] for label in (labels or ()) if label in index]
    if known:
        vec[known] = 1.0
        return vec
    if probas is None:
        return vec
    if isinstance(probas, Mapping):
        pairs: Iterable[tuple[str, float]] = probas.items()
    elif isinstance(probas, np.ndarray) or (
        isinstance(probas, Sequence) and len(probas) and not isinstance(probas[0], tuple)
    ):
        arr = np.asarray(probas, dtype=float)
        if arr.shape != (len(classes),):
            raise ValueError(f"probas has shape {arr.shape}, expected ({len(classes)},)")
        return arr.copy()
    else:
        pairs = cast(Iterable[tuple[str, float]], probas)
    for label, p in pairs:
        if label in index:
            vec[index[label]] = float(p)
    return vec


def _unit_rows(m: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    unit: FloatArray = np.divide(m, norms, out=np.zeros_like(m, dtype=float), where=norms > 0)
    return unit


def cosine_similarity(a: np.ndarray | Sequence[float], b: np.ndarray | Sequence[float]) -> np.ndarray | float:
    """Cosine similarity between theme vectors (zero vectors give 0, never ``nan``).

    Parameters
    ----------
    a, b : array-like
        Either two vectors of the same length (returns a float) or two
        matrices ``(n_a, n_themes)`` and ``(n_b, n_themes)`` (returns an
        ``(n_a, n_b)`` array).  A vector and a matrix give a 1-D array.

    Returns
    -------
    float or numpy.ndarray

    Examples
    --------
    (1*1 + 1*0) / (sqrt(2) * 1) = 0.7071.

    >>> round(cosine_similarity([1, 1, 0], [1, 0, 0]), 4)
    0.7071
    >>> cosine_similarity([0, 0], [1, 0])
    0.0
    >>> cosine_similarity([[1, 0], [0, 1]], [[1, 0]]).tolist()
    [[1.0], [0.0]]
    """
    a_arr = np.asarray(a, dtype=float)
    b_arr = np.asarray(b, dtype=float)
    sims: FloatArray = _unit_rows(np.atleast_2d(a_arr)) @ _unit_rows(np.atleast_2d(b_arr)).T
    if a_arr.ndim == 1 and b_arr.ndim == 1:
        return float(sims[0, 0])
    if a_arr.ndim == 1:
        row: FloatArray = sims[0]
        return row
    if b_arr.ndim == 1:
        return sims[:, 0]
    return sims


def theme_contributions(
    query_vec: np.ndarray | Sequence[float],
    doc_vec: np.ndarray | Sequence[float],
    classes: Sequence[str],
) -> list[tuple[str, float]]:
    """Each theme's term of the cosine similarity, largest first (positive terms only).

    The terms ``q_i * d_i / (|q| |d|)`` sum to the cosine similarity.

    Examples
    --------
    q = (1, 1, 0), d = (1, 0.5, 1): |q| = sqrt(2), |d| = 1.5;
    terms: A = 1/(1.4142*1.5) = 0.4714, B = 0.5/2.1213 = 0.2357, C = 0.

    >>> [(c, round(v, 4)) for c, v in theme_contributions([1, 1, 0], [1, 0.5, 1], ["A", "B", "C"])]
    [('A', 0.4714), ('B', 0.2357)]
    """
    q = np.asarray(query_vec, dtype=float)
    d = np.asarray(doc_vec, dtype=float)
    if q.shape != (len(classes),) or d.shape != (len(classes),):
        raise ValueError(f"vectors must have shape ({len(classes)},), got {q.shape} and {d.shape}")
    denominator = float(np.linalg.norm(q) * np.linalg.norm(d))
    if denominator == 0.0:
        return []
    terms = q * d / denominator
    order = np.argsort(-terms, kind="stable")
    return [(classes[i], float(terms[i])) for i in order if terms[i] > 0]


def bridging_themes(
    query_vec: np.ndarray | Sequence[float],
    doc_vec: np.ndarray | Sequence[float],
    classes: Sequence[str],
    top: int = 3,
    min_contribution: float = 0.0,
) -> list[str]:
    """The themes that contribute most to the theme similarity, for "shares: ..." explanations.

    Parameters
    ----------
    query_vec, doc_vec : array-like
        Theme vectors aligned with ``classes``.
    classes : sequence of str
        Theme names.
    top : int, default 3
        At most this many themes.
    min_contribution : float, default 0.0
        Drop themes whose cosine term is not above this (e.g. 0.05 to hide
        themes that are only faintly shared).

    Returns
    -------
    list of str
        Theme names, largest contribution first; empty if nothing is shared.

    Examples
    --------
    >>> classes = ["Detention", "Torture", "Women"]
    >>> bridging_themes([0.9, 0.8, 0.0], [1.0, 0.3, 1.0], classes)
    ['Detention', 'Torture']
    >>> bridging_themes([0, 0, 1], [1, 0, 0], classes)
    []
    """
    return [
        name
        for name, value in theme_contributions(query_vec, doc_vec, classes)[: max(top, 0)]
        if value > min_contribution
    ]


_SENTENCE_END = re.compile(r"(?<=[.;!?])\s+(?=[A-Z(])|\n+")


def split_sentences(text: str, min_words: int = 3) -> list[str]:
    """Split a description into sentences (and lines); fragments under ``min_words`` words are dropped.

    Returns ``[text]`` if nothing of ``min_words`` words is left, so every
    text yields at least one piece.

    Examples
    --------
    >>> split_sentences("Trains judges and police. It also helps prisons; runs visits.\\nGeneva.")
    ['Trains judges and police.', 'It also helps prisons; runs visits.']
    >>> split_sentences("Short.")
    ['Short.']
    """
    pieces = [p.strip() for p in _SENTENCE_END.split(text) if p and p.strip()]
    kept = [p for p in pieces if len(p.split()) >= min_words]
    return kept or [text]


#: Where a sentence of a profile turns to another line of work: a semicolon, ", and" / ", as well as" /
#: ", including", or " and " before a plural noun ("... judges and prosecutors" stays whole).
_CLAUSE_BREAK = re.compile(r";\s+|,\s+(?:and|as well as|including)\s+|\s+and\s+(?=[a-z]+s\s)")


def split_clauses(text: str, min_words: int = 3) -> list[str]:
    """Split a description into sentences (:func:`split_sentences`), then each sentence into clauses.

    Profiles pack several lines of work into one sentence ("It trains judges; it also runs
    shelters for survivors of violence, and advises on land laws"); the tagger, which learnt
    from recommendations on one or two themes, reads each clause better than the whole.
    Clauses under ``min_words`` words stay with nothing (the sentence is kept whole instead).

    Examples
    --------
    >>> split_clauses("It trains judges and prosecutors; it also runs shelters for survivors of violence.")
    ['It trains judges and prosecutors', 'it also runs shelters for survivors of violence.']
    >>> split_clauses("Short one.")
    ['Short one.']
    """
    out: list[str] = []
    for sentence in split_sentences(text, min_words):
        parts = [p for p in _CLAUSE_BREAK.split(sentence) if len(p.split()) >= min_words]
        out.extend(parts or [sentence])
    return out


def pooled_proba(
    tagger: ProbaSource,
    texts: Sequence[str],
    *,
    split: Callable[[str], list[str]] = split_clauses,
    pooling: str = "mean",
) -> FloatArray:
    """Per text, the tagger's probabilities over its pieces (``split``), pooled by ``"mean"`` or ``"max"``.

    One ``proba_matrix`` call for all pieces of all texts.

    Examples
    --------
    >>> class Echo:  # probability 1 for the label named by a piece's first word
    ...     def proba_matrix(self, texts):
    ...         return np.array([[float(t.startswith("A")), float(t.startswith("B"))] for t in texts])
    >>> pooled_proba(Echo(), ["A one two. B three four. B five six."], split=split_sentences).round(2).tolist()
    [[0.33, 0.67]]
    >>> pooled_proba(Echo(), ["A one two. B three four."], split=split_sentences, pooling="max").tolist()
    [[1.0, 1.0]]
    """
    if pooling not in ("mean", "max"):
        raise ValueError(f"pooling must be 'mean' or 'max', got {pooling!r}")
    pieces = [split(t) for t in texts]
    flat = [s for p in pieces for s in p]
    proba = np.asarray(tagger.proba_matrix(flat), dtype=float)
    bounds = np.cumsum([0] + [len(p) for p in pieces])
    blocks = [proba[bounds[i] : bounds[i + 1]] for i in range(len(texts))]
    pooled: FloatArray = np.vstack([b.mean(axis=0) if pooling == "mean" else b.max(axis=0) for b in blocks])
    return pooled


def sentence_mean_proba(tagger: ProbaSource, texts: Sequence[str], min_words: int = 3) -> FloatArray:
    """Per text, the mean of the tagger's probabilities over its sentences (:func:`split_sentences`).

    The tagger learnt from single recommendations (one or two sentences on a
    few themes); a provider description lists many lines of work, and
    tagging it whole blurs them.  Averaging per-sentence probabilities keeps
    each line of work's themes, weighted by how much of the text is about it.

    Parameters
    ----------
    tagger : object with ``proba_matrix(list_of_texts) -> ndarray``
    texts : sequence of str

    Returns
    -------
    numpy.ndarray of shape (n_texts, n_labels)
    """
    return pooled_proba(tagger, texts, split=lambda t: split_sentences(t, min_words))
