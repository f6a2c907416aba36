"""Multi-label theme tagger for UPR recommendations (pure scikit-learn / numpy).

Model
-----
``ThemeTagger`` is one-vs-rest over ONE label scheme:

1. text normalisation (:func:`normalize_text`: Unicode accent folding,
   lower case, whitespace collapsing; acronyms such as OPCAT, CEDAW, CRPD
   survive as their own tokens);
2. TF-IDF over word 1-2 grams and ``char_wb`` 2-5 grams (sublinear tf);
3. one ``LinearSVC`` per label, stored as a single dense weight matrix so
   that scoring is one sparse matrix product;
4. per-label Platt scaling fitted on out-of-fold scores (K-fold, grouped by
   State when ``groups`` is given) -> calibrated probabilities;
5. one decision threshold tuned on the same out-of-fold probabilities to
   maximise micro F1; every text gets at least ``min_labels`` labels (its
   top one), since every UPR Info recommendation has one.

Why these choices (and what lost): ``docs/decisions/2026-11-26-theme-tagger.md``.
One tagger per label scheme: :class:`matching.schemes.MultiSchemeTagger`.

Artifacts
---------
``save(path)`` writes ``path`` (joblib pickle) and ``path + ".json"`` (the
metadata, readable without unpickling: ``format_version``, ``version``,
``scheme``, ``n_train``, ``data_sha256``, ``trained_at``, ``metrics``,
library versions, and the SHA-256 of the pickle; see :mod:`matching.artifacts`).
``ThemeTagger.load`` raises :class:`IncompatibleArtifactError` for another
format version and :class:`TaggerArtifactError` for a missing, truncated,
corrupted or foreign file.  Pickles can run code when loaded: load only
artifacts you built.
"""

from __future__ import annotations

import hashlib
import json
import platform
import time
import warnings
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import numpy.typing as npt
import scipy
import scipy.sparse as sp
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import GroupKFold, KFold
from sklearn.svm import LinearSVC

from matching.artifacts import (
    FORMAT_VERSION,
    IncompatibleArtifactError,
    TaggerArtifactError,
    read_artifact,
    write_artifact,
)
from matching.preprocessing import normalize_text

__all__ = [
    "FORMAT_VERSION",
    "TaggerArtifactError",
    "IncompatibleArtifactError",
    "normalize_text",
    "ThemeTagger",
]

ARTIFACT_KIND = "upr-match/theme-tagger"
#: Parameters of earlier releases, accepted when loading an artifact if they hold the value that
#: shipped (the only one this code implements).
_RETIRED_PARAMS = {"model": "svc", "threshold_shrinkage": None, "min_positives_to_tune": 10}

FloatArray = npt.NDArray[np.float64]


def _sha256_texts_labels(texts: Sequence[str], label_lists: Sequence[Iterable[str]]) -> str:
    digest = hashlib.sha256()
    for text, labels in zip(texts, label_lists, strict=True):
        digest.update(json.dumps([text, sorted(labels)], ensure_ascii=False).encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _fit_platt(scores: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Fit ``p = sigmoid(a * s + b)`` on one label's out-of-fold scores."""
    lr = LogisticRegression(C=1e4)
    lr.fit(scores.reshape(-1, 1), y)
    return float(lr.coef_[0, 0]), float(lr.intercept_[0])


def _fit_one(C: float, X: sp.csr_matrix, y: npt.NDArray[np.bool_], random_state: int) -> tuple[FloatArray, float]:
    """Train one binary ``LinearSVC``; return ``(coef, intercept)``."""
    n_pos = int(y.sum())
    if n_pos == 0 or n_pos == len(y):
        # a constant label in this fold: a constant score far on the right side
        return np.zeros(X.shape[1]), (-5.0 if n_pos == 0 else 5.0)
    clf = LinearSVC(C=C, random_state=random_state)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    return np.asarray(clf.coef_, dtype=float).ravel(), float(np.ravel(clf.intercept_)[0])


class ThemeTagger:
    """One-vs-rest linear theme tagger with calibrated probabilities and one decision threshold.

    Parameters
    ----------
    scheme : str, default "upr_info_issues"
        Name of the label scheme (metadata only; one tagger = one scheme).
    C : float, default 0.5
        Inverse regularisation of each label's ``LinearSVC``.
    word_ngram_range, char_ngram_range : tuple of int
        TF-IDF n-gram ranges; ``char_ngram_range=None`` disables char n-grams.
    min_df : int, default 2
        Minimum document frequency of a word n-gram (char n-grams use ``min_df + 1``).
    min_positives : int, default 2
        Labels with fewer training examples are dropped (listed in ``dropped_labels_``).
    calibration_folds : int, default 3
        Folds for out-of-fold scores (Platt scaling and threshold tuning).
        ``0`` or too little data: a fixed sigmoid ``p = sigmoid(2 s)`` and
        ``default_threshold`` for every label.
    tune_thresholds : bool, default True
        Tune the probability threshold for out-of-fold micro F1 (one for every
        label: per-label thresholds over-fitted on held-out States).
    default_threshold : float, default 0.5
    min_labels : int, default 1
        ``predict`` always returns at least this many labels (the top ones).
    n_jobs : int, default 2
        Worker processes (joblib) used to train the per-label classifiers.
    random_state : int, default 0

    Attributes
    ----------
    classes_ : list of str
        Label order of every matrix the tagger returns.
    thresholds_ : numpy.ndarray
        Per-label probability thresholds used by ``predict(threshold=None)`` (all equal).
    metadata_ : dict
        ``version``, ``scheme``, ``n_train``, ``data_sha256``, ``trained_at``,
        ``metrics`` (out-of-fold micro/macro F1 when calibrated), timings,
        library versions.

    Examples
    --------
    >>> texts = ["abolish the death penalty", "ratify the convention against torture",
    ...          "end the death penalty now", "prevent torture in prisons"] * 5
    >>> labels = [["Death penalty"], ["Torture"], ["Death penalty"], ["Torture"]] * 5
    >>> tagger = ThemeTagger(calibration_folds=0, n_jobs=1).fit(texts, labels)
    >>> tagger.classes_
    ['Death penalty', 'Torture']
    >>> tagger.predict(["the death penalty must go"])
    [['Death penalty']]
    >>> tagger.predict_proba(["torture"])[0][0][0]
    'Torture'
    """

    def __init__(
        self,
        scheme: str = "upr_info_issues",
        C: float = 0.5,
        word_ngram_range: tuple[int, int] = (1, 2),
        char_ngram_range: tuple[int, int] | None = (2, 5),
        min_df: int = 2,
        min_positives: int = 2,
        calibration_folds: int = 3,
        tune_thresholds: bool = True,
        default_threshold: float = 0.5,
        min_labels: int = 1,
        n_jobs: int = 2,
        random_state: int = 0,
    ) -> None:
        self.scheme = scheme
        self.C = C
        self.word_ngram_range = word_ngram_range
        self.char_ngram_range = char_ngram_range
        self.min_df = min_df
        self.min_positives = min_positives
        self.calibration_folds = calibration_folds
        self.tune_thresholds = tune_thresholds
        self.default_threshold = default_threshold
        self.min_labels = min_labels
        self.n_jobs = n_jobs
        self.random_state = random_state

    # ------------------------------------------------------------------ params
    def get_params(self) -> dict[str, Any]:
        """The constructor parameters (JSON-serialisable)."""
        return {
            "scheme": self.scheme,
            "C": self.C,
            "word_ngram_range": list(self.word_ngram_range),
            "char_ngram_range": None if self.char_ngram_range is None else list(self.char_ngram_range),
            "min_df": self.min_df,
            "min_positives": self.min_positives,
            "calibration_folds": self.calibration_folds,
            "tune_thresholds": self.tune_thresholds,
            "default_threshold": self.default_threshold,
            "min_labels": self.min_labels,
            "n_jobs": self.n_jobs,
            "random_state": self.random_state,
        }

    def __repr__(self) -> str:
        return f"ThemeTagger(scheme={self.scheme!r}, C={self.C!r})"

    # --------------------------------------------------------------- features
    def _make_vectorizers(self) -> list[TfidfVectorizer]:
        vectorizers = [
            TfidfVectorizer(
                preprocessor=normalize_text,
                ngram_range=tuple(self.word_ngram_range),
                min_df=self.min_df,
                sublinear_tf=True,
                dtype=np.float32,
            )
        ]
        if self.char_ngram_range is not None:
            vectorizers.append(
                TfidfVectorizer(
                    preprocessor=normalize_text,
                    analyzer="char_wb",
                    ngram_range=tuple(self.char_ngram_range),
                    min_df=self.min_df + 1,
                    sublinear_tf=True,
                    dtype=np.float32,
                )
            )
        return vectorizers

    def _analyzers(self) -> list[tuple[Any, dict[str, int], np.ndarray]]:
        cache = getattr(self, "_analyzer_cache", None)
        if cache is None or cache[0] is not self.vectorizers_:
            for v in self.vectorizers_:
                if not (v.use_idf and v.sublinear_tf and v.norm == "l2" and not v.binary):
                    raise RuntimeError("the fast TF-IDF path supports only use_idf, sublinear_tf, l2 norm")
            parts = [
                (v.build_analyzer(), v.vocabulary_, np.asarray(v.idf_, dtype=np.float64)) for v in self.vectorizers_
            ]
            cache = (self.vectorizers_, parts)
            self._analyzer_cache = cache
        return cache[1]

    def _transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """TF-IDF features of ``texts``: the fitted vectorizers' analyzers and weights, without
        scikit-learn's per-call input validation (about 1 ms of a ~1.5 ms single-text call).

        Same result as ``hstack([v.transform(texts) for v in vectorizers_])`` up to float32
        rounding: sublinear tf (``1 + log(count)``) times idf, L2-normalised per vectorizer.
        """
        self._check_fitted()
        parts = self._analyzers()
        n_features = sum(len(idf) for _, _, idf in parts)
        indptr = [0]
        indices: list[np.ndarray] = []
        data: list[np.ndarray] = []
        for text in texts:
            offset = 0
            nnz = 0
            for analyze, vocab, idf in parts:
                counts = Counter(j for j in map(vocab.get, analyze(text)) if j is not None)
                if counts:
                    idx = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
                    val = np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts))) + 1.0
                    val *= idf[idx]
                    val /= np.sqrt(np.dot(val, val))
                    order = np.argsort(idx)
                    indices.append(idx[order] + offset)
                    data.append(val[order])
                    nnz += len(idx)
                offset += len(idf)
            indptr.append(indptr[-1] + nnz)
        X = sp.csr_matrix(
            (
                np.concatenate(data).astype(np.float32) if data else np.zeros(0, dtype=np.float32),
                np.concatenate(indices).astype(np.int32) if indices else np.zeros(0, dtype=np.int32),
                np.asarray(indptr, dtype=np.int32),
            ),
            shape=(len(texts), n_features),
        )
        X.has_sorted_indices = True
        return X

    def _train_linear(self, X: sp.csr_matrix, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # liblinear wants float64 (it would convert once per label) and holds the GIL,
        # so convert once here and parallelise over processes, not threads.
        X = X.astype(np.float64)
        # below a few thousand rows, starting worker processes costs more than it saves
        n_jobs = self.n_jobs if X.shape[0] >= 2000 else 1
        results = joblib.Parallel(n_jobs=n_jobs)(
            joblib.delayed(_fit_one)(self.C, X, Y[:, j], self.random_state) for j in range(Y.shape[1])
        )
        W = np.column_stack([r[0] for r in results]).astype(np.float32)
        b = np.array([r[1] for r in results], dtype=np.float64)
        return W, b

    # -------------------------------------------------------------------- fit
    def fit(
        self,
        texts: Sequence[str],
        label_lists: Sequence[Iterable[str]],
        groups: Sequence[Any] | None = None,
    ) -> ThemeTagger:
        """Train on texts and their label lists.

        Parameters
        ----------
        texts : sequence of str
        label_lists : sequence of iterables of str
            The labels of each text (may be empty: a negative for every label).
        groups : sequence, optional
            A group per text (e.g. the State under Review).  The out-of-fold
            calibration then holds out whole groups (``GroupKFold``), which
            gives honest thresholds and metrics for unseen States.

        Returns
        -------
        ThemeTagger
            ``self``.
        """
        texts = [str(t) for t in texts]
        label_lists = [sorted(set(labels)) for labels in label_lists]
        if len(texts) != len(label_lists):
            raise ValueError(f"{len(texts)} texts but {len(label_lists)} label lists")
        if groups is not None and len(groups) != len(texts):
            raise ValueError(f"{len(texts)} texts but {len(groups)} groups")
        if not texts:
            raise ValueError("cannot fit on zero texts")
        started = time.perf_counter()
        counts = Counter(label for labels in label_lists for label in labels)
        self.classes_ = sorted(label for label, n in counts.items() if n >= self.min_positives)
        self.dropped_labels_ = sorted(label for label, n in counts.items() if n < self.min_positives)
        if not self.classes_:
            raise ValueError(f"no label has at least {self.min_positives} examples")
        index = {label: j for j, label in enumerate(self.classes_)}
        Y = np.zeros((len(texts), len(self.classes_)), dtype=bool)
        for i, labels in enumerate(label_lists):
            for label in labels:
                if label in index:
                    Y[i, index[label]] = True

        self.vectorizers_ = self._make_vectorizers()
        blocks = [v.fit_transform(texts) for v in self.vectorizers_]
        for v in self.vectorizers_:
            v.stop_words_ = None  # the pruned vocabulary is large and useless at inference
        X = sp.hstack(blocks, format="csr") if len(blocks) > 1 else blocks[0].tocsr()
        X.sort_indices()

        L = len(self.classes_)
        self.platt_ = np.tile([2.0, 0.0], (L, 1))
        self.thresholds_ = np.full(L, float(self.default_threshold))
        metrics: dict[str, Any] = {}
        folds = self._folds(len(texts), groups)
        if folds:
            oof = np.zeros(Y.shape)
            for train_idx, test_idx in folds:
                W, b = self._train_linear(X[train_idx], Y[train_idx])
                oof[test_idx] = np.asarray(X[test_idx] @ W) + b
            for j in range(L):
                y = Y[:, j]
                if 0 < y.sum() < len(y):
                    self.platt_[j] = _fit_platt(oof[:, j], y)
            oof_proba = _sigmoid(oof * self.platt_[:, 0] + self.platt_[:, 1])
            self.oof_proba_ = oof_proba  # kept in memory for diagnostics, never saved
            if self.tune_thresholds:
                self.thresholds_ = self._tune_thresholds(oof_proba, Y)
            metrics = self._oof_metrics(Y, oof_proba)
            metrics["calibration"] = "group_kfold" if groups is not None else "kfold"
            metrics["folds"] = len(folds)
        self.coef_, self.intercept_ = self._train_linear(X, Y)
        fit_seconds = time.perf_counter() - started

        params = self.get_params()
        data_sha = _sha256_texts_labels(texts, label_lists)
        model_params = {k: v for k, v in params.items() if k != "n_jobs"}  # n_jobs does not change the model
        version = hashlib.sha256(json.dumps([model_params, data_sha], sort_keys=True).encode()).hexdigest()[:16]
        self.metadata_ = {
            "kind": ARTIFACT_KIND,
            "format_version": FORMAT_VERSION,
            "version": version,
            "scheme": self.scheme,
            "params": params,
            "classes": list(self.classes_),
            "dropped_labels": list(self.dropped_labels_),
            "n_train": len(texts),
            "n_features": int(X.shape[1]),
            "data_sha256": data_sha,
            "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "fit_seconds": round(fit_seconds, 2),
            "metrics": metrics,
            "sklearn_version": sklearn.__version__,
            "numpy_version": np.__version__,
            "scipy_version": scipy.__version__,
            "python_version": platform.python_version(),
        }
        return self

    def _tune_thresholds(self, proba: FloatArray, Y: npt.NDArray[np.bool_]) -> FloatArray:
        """The threshold in 0.05..0.95 with the best out-of-fold micro F1 (ties: the lowest), for every label."""
        grid = np.round(np.arange(0.05, 0.951, 0.01), 2)
        best_micro, global_t = -1.0, float(self.default_threshold)
        for t in grid:
            f1 = float(f1_score(Y, self._decide(proba, t), average="micro", zero_division=0.0))
            if f1 > best_micro:
                best_micro, global_t = f1, float(t)
        self.global_threshold_ = global_t
        return np.full(Y.shape[1], global_t)

    def _folds(self, n: int, groups: Sequence[Any] | None) -> list[tuple[np.ndarray, np.ndarray]]:
        k = int(self.calibration_folds)
        if k < 2 or n < 10 * k:
            return []
        if groups is not None:
            if len(set(groups)) < k:
                return []
            return list(GroupKFold(n_splits=k).split(np.zeros(n), groups=list(groups)))
        return list(KFold(n_splits=k, shuffle=True, random_state=self.random_state).split(np.zeros(n)))

    def _oof_metrics(self, Y: npt.NDArray[np.bool_], proba: FloatArray) -> dict[str, Any]:
        pred = self._decide(proba, self.thresholds_)
        present = (Y | pred).any(axis=0)  # labels with no true and no predicted positive carry no evidence
        top = proba.argmax(axis=1)
        micro = f1_score(Y, pred, average="micro", zero_division=0.0)
        macro = f1_score(Y[:, present], pred[:, present], average="macro") if present.sum() > 1 else None
        if present.sum() == 1:  # one column reads as a binary target to scikit-learn
            macro = f1_score(Y[:, present].ravel(), pred[:, present].ravel())
        return {
            "oof_micro_f1": round(float(micro), 4),
            "oof_macro_f1": round(float(macro), 4) if macro is not None else 1.0,
            "oof_precision_at_1": round(float(Y[np.arange(len(Y)), top].mean()), 4),
        }

    # ---------------------------------------------------------------- predict
    def _check_fitted(self) -> None:
        if not hasattr(self, "coef_"):
            raise RuntimeError("this ThemeTagger is not fitted yet; call fit() or ThemeTagger.load()")

    def decision_function(self, texts: Sequence[str]) -> np.ndarray:
        """Raw linear scores, shape ``(n_texts, n_labels)``."""
        if isinstance(texts, str):
            raise TypeError("pass a list of texts, not a single string")
        X = self._transform(list(texts))
        scores: FloatArray = np.asarray(X @ self.coef_, dtype=np.float64) + self.intercept_
        return scores

    def proba_matrix(self, texts: Sequence[str]) -> np.ndarray:
        """Calibrated probabilities, shape ``(n_texts, n_labels)``, columns in ``classes_`` order.

        Probabilities are per label (one-vs-rest): rows do not sum to 1.
        """
        scores = self.decision_function(texts)
        return _sigmoid(scores * self.platt_[:, 0] + self.platt_[:, 1])

    def predict_proba(self, texts: Sequence[str], top: int | None = None) -> list[list[tuple[str, float]]]:
        """Per text, ``(label, probability)`` pairs sorted by decreasing probability.

        Parameters
        ----------
        texts : sequence of str
        top : int, optional
            Keep only the ``top`` most probable labels.
        """
        proba = self.proba_matrix(texts)
        order = np.argsort(-proba, axis=1, kind="stable")
        if top is not None:
            order = order[:, :top]
        return [[(self.classes_[j], float(row[j])) for j in idx] for row, idx in zip(proba, order, strict=True)]

    def _decide(self, proba: np.ndarray, thresholds: np.ndarray | float) -> np.ndarray:
        pred = proba >= thresholds
        k = min(int(self.min_labels), proba.shape[1])
        if k > 0 and len(proba):
            top = np.argsort(-proba, axis=1, kind="stable")[:, :k]
            pred[np.arange(len(proba))[:, None], top] = True
        return pred

    def predict(self, texts: Sequence[str], threshold: float | None = None) -> list[list[str]]:
        """Labels per text, most probable first.

        Parameters
        ----------
        texts : sequence of str
        threshold : float, optional
            One probability threshold for every label.  Default: the per-label
            thresholds tuned during ``fit`` (``thresholds_``).  Either way the
            top ``min_labels`` labels are always returned.
        """
        proba = self.proba_matrix(texts)
        pred = self._decide(proba, self.thresholds_ if threshold is None else float(threshold))
        out = []
        for row, mask in zip(proba, pred, strict=True):
            idx = np.flatnonzero(mask)
            idx = idx[np.argsort(-row[idx], kind="stable")]
            out.append([self.classes_[j] for j in idx])
        return out

    # ------------------------------------------------------------ persistence
    def _state(self) -> dict[str, Any]:
        self._check_fitted()
        return {
            "params": self.get_params(),
            "classes_": list(self.classes_),
            "dropped_labels_": list(self.dropped_labels_),
            "vectorizers_": self.vectorizers_,
            "coef_": self.coef_,
            "intercept_": self.intercept_,
            "platt_": self.platt_,
            "thresholds_": self.thresholds_,
            "metadata_": self.metadata_,
        }

    @classmethod
    def _from_state(cls, state: Mapping[str, Any]) -> ThemeTagger:
        params = dict(state["params"])
        for name, shipped in _RETIRED_PARAMS.items():
            if name in params and params.pop(name) != shipped:
                raise IncompatibleArtifactError(
                    f"this tagger was trained with {name}={state['params'][name]!r}, which this release no "
                    "longer implements; retrain it"
                )
        params["word_ngram_range"] = tuple(params["word_ngram_range"])
        if params["char_ngram_range"] is not None:
            params["char_ngram_range"] = tuple(params["char_ngram_range"])
        tagger = cls(**params)
        for key in ("classes_", "dropped_labels_", "vectorizers_", "coef_", "intercept_", "platt_", "thresholds_"):
            setattr(tagger, key, state[key])
        tagger.metadata_ = dict(state["metadata_"])
        return tagger

    def save(self, path: str | Path) -> Path:
        """Write the artifact to ``path`` and its metadata to ``path + ".json"``.

        Returns
        -------
        pathlib.Path
            The artifact path.
        """
        path = Path(path)
        return write_artifact(path, ARTIFACT_KIND, self._state(), dict(self.metadata_))

    @classmethod
    def load(cls, path: str | Path) -> ThemeTagger:
        """Load an artifact written by :meth:`save`.

        Raises
        ------
        IncompatibleArtifactError
            The artifact has another ``FORMAT_VERSION``.
        TaggerArtifactError
            The file is missing, truncated, corrupted (checksum mismatch with
            the sidecar), unreadable or not a theme-tagger artifact.
        """
        payload = read_artifact(Path(path), ARTIFACT_KIND)
        try:
            return cls._from_state(payload["state"])
        except (KeyError, TypeError) as exc:
            raise TaggerArtifactError(f"{path}: incomplete tagger state ({exc!r})") from exc
