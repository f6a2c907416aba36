"""Theme vectors and their similarity, for the ranking (:mod:`matching.ranking`).

A theme vector has one weight per theme of the tagger's scheme. Declared themes count 1.0;
otherwise the weights are predicted: for a **query** (a recommendation, a need, free text) the
tagger's calibrated probabilities; for a **provider profile**, which describes lines of work in
other words than recommendations, the tagger's probabilities over its clauses mixed with the
similarity of its sentences to the theme prototypes (:mod:`matching.prototypes`) and with the themes
of the example profiles closest to it (:mod:`matching.examples`). Two vectors
compare by their cosine and their best shared theme. What each choice is worth on held-out providers:
``docs/decisions/2026-12-02-matching-quality.md``.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from matching.crosslingual import CrossLingual
from matching.examples import ProfileExamples
from matching.prototypes import RESIDUAL_THEMES, UPR_INFO_ISSUES, ThemePrototypes
from matching.themes import (
    bridging_themes,
    cosine_similarity,
    pooled_proba,
    split_clauses,
    split_sentences,
    theme_vector,
)

__all__ = [
    "BEST_SHARE",
    "BRIDGE_MIN",
    "EXAMPLE_SHARE",
    "EXPANSION_MIN",
    "EXPANSION_TOP",
    "PROBA_FLOOR",
    "PROTOTYPE_SHARE",
    "READING_VERSION",
    "ProbaModel",
    "ThemeSpace",
    "Vector",
    "best_covered_themes",
    "best_shared_theme",
    "best_shared_themes",
    "service_space",
]

Vector = npt.NDArray[np.float64]

#: Predicted theme probabilities below this are treated as absent: none are, faint predictions carry
#: information (docs/decisions/2026-12-02-matching-quality.md; the lab tries floors, evaluation/lab.py).
PROBA_FLOOR = 0.0
#: Share of the theme prototypes' similarity in a profile's theme vector (the tagger has the rest).
PROTOTYPE_SHARE = 0.3
#: Share of the tagger's reading of a profile as a whole in its tagged part (the mean over clauses has the rest).
WHOLE_SHARE = 0.2
#: Share of the themes borrowed from the closest example profiles (:mod:`matching.examples`) in a profile's vector.
EXAMPLE_SHARE = 0.15
#: A query borrows the description of its most probable predicted theme(s) if it weighs this much...
EXPANSION_MIN = 0.3
#: ... and of this many themes at most.
EXPANSION_TOP = 1
#: Share of the best shared theme (:func:`best_shared_theme`) in the theme similarity; the cosine has the rest.
BEST_SHARE = 0.5
#: A theme is named in an explanation only if it carries this much of the theme cosine.
BRIDGE_MIN = 0.05
#: Changes whenever the way texts are read into vectors changes (stored vectors keyed on :attr:`ThemeSpace.recipe`).
READING_VERSION = "2026-12-02"


class ProbaModel(Protocol):
    """What the ranking needs of a theme tagger: its labels and calibrated probabilities."""

    @property
    def classes_(self) -> list[str]: ...

    def proba_matrix(self, texts: Sequence[str]) -> Vector: ...


def _fold(values: Iterable[str]) -> frozenset[str]:
    return frozenset(v.casefold() for v in values)


def _theme_overlap(wanted: Sequence[str], offered: Sequence[str]) -> tuple[float, list[str]]:
    """Cosine of the two theme sets (case-insensitive) and the shared themes, in the asker's spelling."""
    wanted_f, offered_f = _fold(wanted), _fold(offered)
    if not wanted_f or not offered_f:
        return 0.0, []
    shared = [t for t in dict.fromkeys(wanted) if t.casefold() in offered_f]
    return len(_fold(shared)) / math.sqrt(len(wanted_f) * len(offered_f)), shared


@dataclass(frozen=True, slots=True)
class ThemeSpace:
    """Theme vectors from a tagger (declared themes as 1.0, else predicted), and their similarity.

    Without a tagger (``model=None``) there are no vectors and themes compare as declared sets.

    * A **profile** (``vectors(..., by_sentence=True)``) is read clause by clause
      (:func:`~matching.themes.split_clauses`): the tagger's probabilities, averaged over the
      clauses, mixed (``whole_share``) with the tagger's reading of the whole profile, then
      (``prototype_share``) with the similarity of its sentences to the theme ``prototypes``; each
      part scaled to a maximum of 1 first. The clauses keep each line of work; the whole text
      weighs the themes the profile returns to across its clauses. With ``examples``, the themes
      of the closest example profiles take ``example_share`` of the result: what organisations
      writing alike work on.
    * A **query** is tagged whole, or, given its ``parts`` (a need's recommendations), as the
      maximum over the parts: a need on three recommendations is about each of their themes.
    * Predictions on ``residual`` themes ("Other", "General") count 0.
    * With a ``reader`` (:class:`~matching.crosslingual.CrossLingual`), French and Spanish texts are read
      in English first (:meth:`english`); English text is read exactly as without one.
    * Two vectors compare by their cosine mixed (``best_share``) with how well the other side covers
      the query's best-covered theme (:func:`best_shared_theme`).

    The quality lab varies how texts are read (a probability floor, sentences instead of clauses,
    max-pooling, more expansion themes) with its own subclass, ``evaluation.lab.LabThemeSpace``,
    which overrides :meth:`reading` and :meth:`expansion_themes`.
    """

    model: ProbaModel | None = None
    prototypes: ThemePrototypes | None = None
    examples: ProfileExamples | None = None
    residual: frozenset[str] = frozenset()
    prototype_share: float = PROTOTYPE_SHARE
    whole_share: float = WHOLE_SHARE
    example_share: float = EXAMPLE_SHARE
    best_share: float = BEST_SHARE
    reader: CrossLingual | None = None

    @property
    def classes(self) -> list[str]:
        return list(self.model.classes_) if self.model is not None else []

    @property
    def recipe(self) -> str:
        """How texts are read into vectors, in one string: a vector stored under another recipe is computed again.

        >>> ThemeSpace().recipe
        '2026-12-02;floor=0.0;prototypes=0.3:-;pieces=clauses;pooling=mean;whole=0.2;examples=0.15:-;residual='
        """
        described = "-"
        if self.prototypes is not None:
            material = "\x1e".join(f"{c}\x1f{d}" for c, d in sorted(self.prototypes.descriptions.items()))
            described = hashlib.sha256(material.encode("utf-8")).hexdigest()[:16]
        examples = self.examples.digest if self.examples is not None else "-"
        floor, pieces, pooling = self.reading()
        recipe = (
            f"{READING_VERSION};floor={floor};prototypes={self.prototype_share}:{described};"
            f"pieces={pieces};pooling={pooling};whole={self.whole_share};"
            f"examples={self.example_share}:{examples};residual={','.join(sorted(self.residual))}"
        )
        return recipe if self.reader is None else f"{recipe};lexicon={self.reader.digest}"

    def english(self, text: str) -> str:
        """``text`` read in English (:mod:`matching.crosslingual`): French and Spanish through the lexicon,
        anything else (English included) exactly as written; as written when there is no lexicon."""
        return text if self.reader is None else self.reader.english(text)

    def reading(self) -> tuple[float, str, str]:
        """How a profile's pieces are read: (probability floor, "clauses", "mean" pooling)."""
        return PROBA_FLOOR, "clauses", "mean"

    def expansion_themes(self) -> int:
        """How many predicted themes may lend their description to a query (:meth:`expand`)."""
        return EXPANSION_TOP

    def _clean(self, probas: Vector) -> Vector:
        """Predictions with residual themes and those under the floor set to 0."""
        floor = self.reading()[0]
        out = np.where(probas >= floor, probas, 0.0) if floor > 0 else np.array(probas, dtype=float)
        if self.residual:
            out[..., [j for j, c in enumerate(self.classes) if c in self.residual]] = 0.0
        return out

    def _profiles(self, texts: Sequence[str]) -> Vector:
        assert self.model is not None
        _, unit, pooling = self.reading()
        split = split_clauses if unit == "clauses" else split_sentences
        tagged = _unit_max(self._clean(pooled_proba(self.model, texts, split=split, pooling=pooling)))
        if self.whole_share > 0:
            whole = _unit_max(self._clean(np.asarray(self.model.proba_matrix(list(texts)), dtype=float)))
            tagged = (1.0 - self.whole_share) * tagged + self.whole_share * whole
        mixed: Vector = tagged
        if self.prototypes is not None and self.prototype_share > 0:
            pieces = [split_sentences(t) for t in texts]
            sims = self.prototypes.similarities([s for p in pieces for s in p])
            bounds = np.cumsum([0] + [len(p) for p in pieces])
            means = np.vstack([sims[bounds[i] : bounds[i + 1]].mean(axis=0) for i in range(len(texts))])
            share = self.prototype_share
            mixed = (1.0 - share) * mixed + share * _unit_max(self._clean(means))
        if self.examples is not None and self.example_share > 0:
            share = self.example_share
            mixed = (1.0 - share) * mixed + share * _unit_max(self._clean(self.examples.borrowed(texts)))
        return mixed

    def _queries(self, texts: Sequence[str], parts: Sequence[Sequence[str]] | None) -> Vector:
        assert self.model is not None
        if parts is None:
            return self._clean(self.model.proba_matrix(list(texts)))
        pieces = [list(p) if p else [t] for t, p in zip(texts, parts, strict=True)]
        proba = np.asarray(self.model.proba_matrix([s for p in pieces for s in p]), dtype=float)
        bounds = np.cumsum([0] + [len(p) for p in pieces])
        return self._clean(np.vstack([proba[bounds[i] : bounds[i + 1]].max(axis=0) for i in range(len(pieces))]))

    def vectors(
        self,
        texts: Sequence[str],
        declared: Sequence[Sequence[str]],
        *,
        by_sentence: bool = False,
        parts: Sequence[Sequence[str]] | None = None,
    ) -> list[Vector] | None:
        """One theme vector per text (``None`` without a tagger).

        ``by_sentence`` reads the texts as provider profiles (see the class); otherwise they are
        queries, each tagged whole or, when ``parts`` gives its pieces, as their maximum.
        """
        if self.model is None:
            return None
        if not texts:
            return []
        if self.reader is not None:
            texts = [self.english(t) for t in texts]
            parts = None if parts is None else [[self.english(p) for p in ps] for ps in parts]
        probas = self._profiles(texts) if by_sentence else self._queries(texts, parts)
        classes = self.classes
        return [theme_vector(d, classes, probas=probas[k]) for k, d in enumerate(declared)]

    def vector(self, text: str, declared: Sequence[str], *, parts: Sequence[str] | None = None) -> Vector | None:
        found = self.vectors([text], [declared], parts=None if parts is None else [parts])
        return None if found is None else found[0]

    def profile_vector(self, text: str, declared: Sequence[str]) -> Vector | None:
        """The theme vector of one provider profile (read as :meth:`vectors` reads profiles)."""
        found = self.vectors([text], [declared], by_sentence=True)
        return None if found is None else found[0]

    def expand(self, query: str, vec: Vector | None, declared: Sequence[str]) -> str:
        """The query's words and the descriptions of its most probable predicted theme (:data:`EXPANSION_TOP`).

        Only predicted themes of at least :data:`EXPANSION_MIN` lend their words (declared themes
        are in the query's text already).
        """
        top = self.expansion_themes()
        if vec is None or self.prototypes is None or top <= 0 or declared:
            return query
        classes = self.classes
        order = np.argsort(-vec, kind="stable")[:top]
        extra = [self.prototypes.description(classes[j]) for j in order if vec[j] >= EXPANSION_MIN]
        return "\n".join([query, *[e for e in extra if e]])

    def predicted(self, vec: Vector | None, *, minimum: float) -> list[str]:
        """The themes of a predicted vector weighing at least ``minimum``, heaviest first."""
        if vec is None:
            return []
        classes = self.classes
        order = np.argsort(-vec, kind="stable")
        return [classes[j] for j in order if vec[j] >= minimum and vec[j] > 0]

    def similarity(
        self, q_vec: Vector | None, d_vec: Vector | None, wanted: Sequence[str], offered: Sequence[str]
    ) -> tuple[float, list[str]]:
        """Theme similarity and the themes that bridge it: in tagger space when both vectors exist."""
        if q_vec is None or d_vec is None:
            return _theme_overlap(wanted, offered)
        score = float(cosine_similarity(q_vec, d_vec))
        if self.best_share > 0:
            score = (1.0 - self.best_share) * score + self.best_share * best_shared_theme(q_vec, d_vec)
        return score, bridging_themes(q_vec, d_vec, self.classes, top=3, min_contribution=BRIDGE_MIN)


def best_shared_theme(q_vec: Vector, d_vec: Vector) -> float:
    """How well the other side covers the query's best-covered theme: ``max_t (q_t / max q) * (d_t / |d|)``.

    A provider is relevant to a need when it works on *one* of the need's themes; the cosine rewards
    covering them all. In [0, 1]; 0 when either vector is zero.

    Examples
    --------
    A need on two themes; a specialist of the second and a generalist of both:

    >>> round(best_shared_theme(np.array([1.0, 1.0]), np.array([0.0, 1.0])), 4)
    1.0
    >>> round(best_shared_theme(np.array([1.0, 1.0]), np.array([1.0, 1.0])), 4)
    0.7071
    """
    d_norm = float(np.linalg.norm(d_vec))
    if d_norm <= 0:
        return 0.0
    q_top = float(np.max(q_vec)) if q_vec.size else 0.0
    if q_top <= 0:
        return 0.0
    # The same products as best_shared_themes (so the same maximum), without its loop over the themes:
    # this is the per-candidate path, run for every explained row.
    return float(np.max((d_vec / d_norm) * (q_vec / q_top)))


def best_shared_themes(q_vec: Vector, units_t: Vector) -> Vector:
    """:func:`best_shared_theme` of the query with every column of ``units_t`` (shape (n_themes, n):
    the other side's vectors scaled to unit length, theme by theme).

    For ranking every candidate at once (:mod:`matching.ranking`).

    >>> best_shared_themes(np.array([2.0, 1.0]), np.array([[0.0, 0.6, 0.0], [1.0, 0.8, 0.0]])).tolist()
    [0.5, 0.6, 0.0]
    """
    q_top = float(np.max(q_vec)) if q_vec.size else 0.0
    if q_top <= 0 or units_t.size == 0:
        return np.zeros(units_t.shape[1])
    return _running_max(units_t, q_vec / q_top)


def best_covered_themes(peaks_t: Vector, d_unit: Vector) -> Vector:
    """:func:`best_shared_theme` of every column of ``peaks_t`` (the asking side, shape (n_themes, n),
    each vector divided by its largest value) with one other side ``d_unit`` (scaled to unit length):
    ``max_t (q_t / max q) * d_t`` per column, 0 for a column of zeros.

    >>> best_covered_themes(np.array([[1.0, 0.0], [0.5, 0.0]]), np.array([0.6, 0.8])).tolist()
    [0.6, 0.0]
    """
    if peaks_t.size == 0:
        return np.zeros(peaks_t.shape[1])
    return _running_max(peaks_t, d_unit)


def _running_max(columns_t: Vector, weights: Vector) -> Vector:
    """``max_t columns_t[t] * weights[t]`` for every column (all values non-negative), theme by theme.

    Each step is one contiguous pass over the rows: at 50,000 rows and 54 themes 0.8 ms, where a
    maximum along rows of 54 values took 20 ms. The products are the same, so is the maximum.
    """
    found = np.zeros(columns_t.shape[1])
    step = np.empty_like(found)
    for t in np.flatnonzero(weights > 0):
        np.multiply(columns_t[t], weights[t], out=step)
        np.maximum(found, step, out=found)
    return found


def _unit_max(m: Vector) -> Vector:
    """Each row divided by its maximum (rows of zeros stay zeros)."""
    top = m.max(axis=1, keepdims=True) if m.size else m
    out: Vector = np.divide(m, top, out=np.zeros_like(m, dtype=float), where=top > 0)
    return out


def service_space(
    model: ProbaModel | None, examples: ProfileExamples | None = None, reader: CrossLingual | None = None
) -> ThemeSpace:
    """The service's theme space on an ``upr_info_issues`` tagger: the issues' prototypes, the catch-all
    issues left out, the example profiles given, French and Spanish read through ``reader``."""
    if model is None:
        return ThemeSpace(reader=reader)
    return ThemeSpace(
        model,
        prototypes=ThemePrototypes(UPR_INFO_ISSUES, model.classes_),
        residual=RESIDUAL_THEMES,
        examples=examples,
        reader=reader,
    )
