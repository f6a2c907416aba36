"""Provider-held-out evaluation: the ranking judged on providers whose profiles chose none of its settings.

The demo profiles and their relevance labels were written by the hands that tuned the ranking, so a
setting measured on all of them flatters itself. Here the providers are split into folds
(:func:`provider_folds`): settings are chosen on one part of each split (``tune``) and reported on
the other (``report``); the mean and spread over the folds are what a new set of profiles can expect.

Queries arrive as the service receives them: a recommendation's text alone (``POST /v1/match``), or a
need filed on recommendations imported **without** labels (:func:`need_as_filed`), whose themes are
then predicted, never declared.

Examples
--------
>>> providers = [{"slug": f"p{i}", "kind": "ngo" if i % 2 else "un_entity"} for i in range(8)]
>>> folds = provider_folds(providers, repeats=2, seed=0)
>>> len(folds), sorted(folds[0].tune + folds[0].report) == [f"p{i}" for i in range(8)]
(4, True)
>>> folds[0].tune == folds[1].report
True
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from matching.ranking import Preferences
from matching.texts import need_text

__all__ = [
    "GENERIC_TITLE",
    "CachedModel",
    "Fold",
    "NeedQuery",
    "mean_and_spread",
    "need_as_filed",
    "provider_folds",
]

#: The title of a harness need: it names no theme, so the need's themes come from its recommendations.
GENERIC_TITLE = "Technical cooperation on supported recommendations"


@dataclass(frozen=True, slots=True)
class Fold:
    """One split of the providers: settings are chosen on ``tune``, numbers reported on ``report``."""

    tune: list[str]
    report: list[str]


def provider_folds(providers: Sequence[Mapping[str, Any]], *, repeats: int = 5, seed: int = 0) -> list[Fold]:
    """``repeats`` random halvings of the providers, each used both ways (``2 * repeats`` folds).

    Each kind of organisation (``kind``) is split evenly between the halves, so every half holds UN
    entities, NGOs, donors... as a real registry does. Halves of the 82 demo profiles hold 41, close
    to the few dozen profiles an evaluation outside the repository registers.
    """
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    rng = np.random.default_rng(seed)
    kinds = sorted({str(p["kind"]) for p in providers})
    folds = []
    for _ in range(repeats):
        halves: tuple[list[str], list[str]] = ([], [])
        offset = 0
        for kind in kinds:
            slugs = [str(p["slug"]) for p in providers if p["kind"] == kind]
            for j, k in enumerate(rng.permutation(len(slugs))):
                halves[(j + offset) % 2].append(slugs[int(k)])
            offset += len(slugs)  # an odd kind's extra profile goes to the other half next time
        first, second = sorted(halves[0]), sorted(halves[1])
        folds += [Fold(first, second), Fold(second, first)]
    return folds


@dataclass(frozen=True, slots=True)
class NeedQuery:
    """A need as the service ranks providers for it: its text and its preferences."""

    text: str
    prefs: Preferences


def need_as_filed(state: str, recommendation_texts: Sequence[str], *, title: str = GENERIC_TITLE) -> NeedQuery:
    """A need filed by ``state`` on recommendations imported without labels, as the service builds it.

    No theme is declared (the recommendations have only predicted themes), so the ranking reads the
    themes from the recommendations themselves (``Preferences.parts``); the State is the asking State.

    Examples
    --------
    >>> q = need_as_filed("MEX", ["Ratify OPCAT", "Train prison staff"])
    >>> q.text.splitlines()[1:], q.prefs.state, q.prefs.themes, q.prefs.parts
    (['Ratify OPCAT', 'Train prison staff'], 'MEX', (), ('Ratify OPCAT', 'Train prison staff'))
    """
    texts = tuple(recommendation_texts)
    return NeedQuery(need_text(title, "", texts, ()), Preferences(state=state, parts=texts))


class CachedModel:
    """A tagger's ``proba_matrix`` remembered per text, so many rankings of the same queries tag each once.

    Same answers as the wrapped tagger (rows are copies of what it returned for that text).
    """

    def __init__(self, model: Any) -> None:
        self.model = model
        self.classes_: list[str] = list(model.classes_)
        self._rows: dict[str, npt.NDArray[np.float64]] = {}

    def proba_matrix(self, texts: Sequence[str]) -> npt.NDArray[np.float64]:
        missing = [t for t in dict.fromkeys(texts) if t not in self._rows]
        if missing:
            for text, row in zip(missing, np.asarray(self.model.proba_matrix(missing), dtype=float), strict=True):
                self._rows[text] = row
        if not texts:
            return np.zeros((0, len(self.classes_)))
        return np.vstack([self._rows[t] for t in texts])


def mean_and_spread(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for one value).

    Examples
    --------
    >>> [round(x, 4) for x in mean_and_spread([0.8, 0.9])]
    [0.85, 0.0707]
    """
    if not values:
        raise ValueError("no values")
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0
