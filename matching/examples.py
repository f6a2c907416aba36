"""Profile examples: provider profiles whose themes are known, read a new profile by its nearest ones.

The tagger learnt its themes from recommendation language; a profile is organisation prose, and
what the tagger reads least well there is a profile's secondary lines of work. Profiles written by
similar organisations name similar work in similar words: a new profile borrows the themes of the
few example profiles closest to it in words (TF-IDF cosine over the examples' own vocabulary),
each weighted by its similarity. That reading joins the tagger's in a profile's theme vector
(:class:`matching.theme_space.ThemeSpace`, ``example_share``).

The examples are a fixed set given to the engine (the service passes its labelled demo profiles);
a profile's reading depends on them and on nothing else, so it is the same on every replica and
changes only with the set (:attr:`ProfileExamples.digest` is part of the reading's recipe).

Examples
--------
>>> examples = ProfileExamples(
...     ["We train prison staff and monitor places of detention", "We run schools for girls"],
...     [["Detention", "Torture"], ["Education"]],
...     ["Detention", "Education", "Torture"],
... )
>>> examples.borrowed(["Monitoring of detention by independent visitors"]).round(2).tolist()
[[1.0, 0.0, 1.0]]
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from matching.matcher import TfidfMatcher
from matching.texts import provider_text

__all__ = ["EXAMPLE_NEIGHBOURS", "ProfileExamples", "examples_from_profiles"]

FloatArray = npt.NDArray[np.float64]

#: How many of the closest example profiles a profile borrows from.
EXAMPLE_NEIGHBOURS = 5


class ProfileExamples:
    """Example profiles and their themes, aligned with a tagger's classes.

    Parameters
    ----------
    texts : sequence of str
        The example profiles, as the ranking reads a provider (name and description).
    themes : sequence of sequences of str
        Each example's themes; those not in ``classes`` are ignored, and so are examples left with none.
    classes : sequence of str
        The tagger's labels, in the column order of every matrix returned.
    neighbours : int
        How many of the closest examples a profile borrows from.
    """

    def __init__(
        self,
        texts: Sequence[str],
        themes: Sequence[Sequence[str]],
        classes: Sequence[str],
        *,
        neighbours: int = EXAMPLE_NEIGHBOURS,
    ) -> None:
        if len(texts) != len(themes):
            raise ValueError(f"{len(texts)} example texts but {len(themes)} theme lists")
        if neighbours < 1:
            raise ValueError(f"neighbours must be at least 1, not {neighbours}")
        self.classes = list(classes)
        self.neighbours = neighbours
        column = {c: j for j, c in enumerate(self.classes)}
        kept = [
            (text, sorted({column[t] for t in labels if t in column}))
            for text, labels in zip(texts, themes, strict=True)
            if text.strip()
        ]
        kept = [(text, cols) for text, cols in kept if cols]
        self.size = len(kept)
        self._labels = np.zeros((len(kept), len(self.classes)))
        for i, (_, cols) in enumerate(kept):
            self._labels[i, cols] = 1.0
        self._texts = [text.strip() for text, _ in kept]
        ids = [str(i) for i in range(len(kept))]
        self._matcher = TfidfMatcher().fit([text for text, _ in kept], ids=ids) if kept else None
        material = "\x1e".join(f"{text}\x1f{','.join(self.classes[j] for j in cols)}" for text, cols in kept)
        #: Changes with the examples, their themes or the neighbours taken (stored vectors are keyed on it).
        self.digest = hashlib.sha256(f"{neighbours}\x1d{material}".encode()).hexdigest()[:16]

    def __len__(self) -> int:
        return self.size

    def borrowed(self, texts: Sequence[str]) -> FloatArray:
        """Each text's themes as its closest examples have them, shape ``(len(texts), len(classes))``.

        The similarity-weighted mean of the ``neighbours`` closest examples' themes (1 each), scaled
        to a maximum of 1; a row of zeros for a text that shares no word with any example. An example
        with the very text being read is left out: a profile does not borrow from itself (so an
        example profile is read as any other, and the quality harness can read each profile of a
        half with the rest of the half as examples).
        """
        out = np.zeros((len(texts), len(self.classes)))
        if self._matcher is None:
            return out
        for i, text in enumerate(texts):
            if not text.strip():
                continue
            own = text.strip()
            found = self._matcher.match(text, top_k=self.neighbours + 1)
            hits = [h for h in found if h.score > 0 and self._texts[int(h.id)] != own][: self.neighbours]
            if not hits:
                continue
            weights = np.array([h.score for h in hits])
            rows = self._labels[[int(h.id) for h in hits]]
            mean = weights @ rows / weights.sum()
            out[i] = mean / mean.max()
        return out


def examples_from_profiles(
    profiles: Iterable[Mapping[str, Any]], classes: Sequence[str], *, neighbours: int = EXAMPLE_NEIGHBOURS
) -> ProfileExamples:
    """Examples from provider records (``name``, ``description``, ``themes``), each read as a profile
    registered with its name and description only is read (:func:`matching.texts.provider_text`).

    >>> examples_from_profiles([{"name": "Rights Lab", "description": "Trains judges.", "themes": ["Justice"]}],
    ...                        ["Justice"]).size
    1
    """
    chosen = list(profiles)
    return ProfileExamples(
        [provider_text(p["name"], None, p["description"], []) for p in chosen],
        [list(p.get("themes") or ()) for p in chosen],
        classes,
        neighbours=neighbours,
    )
