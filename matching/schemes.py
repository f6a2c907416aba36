"""Several label schemes: one :class:`~matching.tagger.ThemeTagger` per scheme with enough labels.

What a record's labels are in each scheme (the field names of the shared data) is the
application's knowledge (``app/services/themes.py``); this module takes texts and labels.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from matching.artifacts import TaggerArtifactError, read_artifact, write_artifact
from matching.tagger import FloatArray, ThemeTagger

__all__ = ["Labelled", "MultiSchemeTagger"]

MULTI_ARTIFACT_KIND = "upr-match/multi-scheme-tagger"


@dataclass(frozen=True, slots=True)
class Labelled:
    """Texts with their labels in one scheme, and a group per text (e.g. the State under Review, or None)."""

    texts: Sequence[str]
    labels: Sequence[Sequence[str]]
    groups: Sequence[str | None]


class MultiSchemeTagger:
    """One :class:`ThemeTagger` per label scheme that has enough labelled rows.

    ``main_scheme`` (``upr_info_issues``, about 28k rows) is mandatory.  The OHCHR schemes
    (``uhri`` ~470 rows / 90 labels, ``sdgs`` ~460 rows, ``affected_groups``
    ~610 rows, all from few States) are trained only if they have at least
    ``min_rows`` labelled rows, and within them only labels with at least
    ``min_positives`` examples; skipped schemes are listed in ``skipped_``
    with the reason.  Expect those small taggers to be much weaker.

    Parameters
    ----------
    min_rows : int, default 200
    min_positives : int, default 10
        Per-label minimum for the small schemes (the main scheme uses the
        ``ThemeTagger`` default).
    tagger_params : dict, optional
        Extra ``ThemeTagger`` parameters for every scheme.
    main_scheme : str, default "upr_info_issues"
        The scheme that must be trained; ``predict`` and ``proba_matrix`` use it by default.
    """

    def __init__(
        self,
        min_rows: int = 200,
        min_positives: int = 10,
        tagger_params: dict[str, Any] | None = None,
        main_scheme: str = "upr_info_issues",
    ) -> None:
        self.main_scheme = main_scheme
        self.min_rows = min_rows
        self.min_positives = min_positives
        self.tagger_params = tagger_params

    def fit(self, data: Mapping[str, Labelled]) -> MultiSchemeTagger:
        """Train one tagger per scheme of ``data`` that has enough labelled texts.

        ``main_scheme`` is mandatory (``ValueError`` if it has fewer than ``min_rows`` texts);
        other schemes with too few are listed in ``skipped_``.
        """
        self.taggers_: dict[str, ThemeTagger] = {}
        self.skipped_: dict[str, str] = {}
        for scheme, found in data.items():
            if len(found.texts) < self.min_rows:
                if scheme == self.main_scheme:
                    raise ValueError(f"{scheme} has only {len(found.texts)} labelled rows")
                self.skipped_[scheme] = f"{len(found.texts)} labelled rows < min_rows={self.min_rows}"
                continue
            params = dict(self.tagger_params or {})
            params["scheme"] = scheme
            if scheme != self.main_scheme:
                params.setdefault("min_positives", self.min_positives)
            # few States label the small schemes: group folds would be too coarse
            use_groups = found.groups if len(set(found.groups)) >= 10 else None
            self.taggers_[scheme] = ThemeTagger(**params).fit(found.texts, found.labels, groups=use_groups)
        return self

    @property
    def schemes(self) -> list[str]:
        return list(self.taggers_)

    def __getitem__(self, scheme: str) -> ThemeTagger:
        try:
            return self.taggers_[scheme]
        except KeyError:
            raise KeyError(f"no tagger for scheme {scheme!r}; have {self.schemes}") from None

    def predict(
        self, texts: Sequence[str], scheme: str | None = None, threshold: float | None = None
    ) -> list[list[str]]:
        return self[scheme or self.main_scheme].predict(texts, threshold=threshold)

    def proba_matrix(self, texts: Sequence[str], scheme: str | None = None) -> FloatArray:
        return self[scheme or self.main_scheme].proba_matrix(texts)

    def save(self, path: str | Path) -> Path:
        """One artifact file (+ ``.json`` sidecar) holding every scheme's tagger."""
        state = {
            "params": {
                "min_rows": self.min_rows,
                "min_positives": self.min_positives,
                "tagger_params": self.tagger_params,
                "main_scheme": self.main_scheme,
            },
            "taggers": {s: t._state() for s, t in self.taggers_.items()},
            "skipped": dict(self.skipped_),
        }
        metadata = {
            "schemes": {s: t.metadata_ for s, t in self.taggers_.items()},
            "skipped": dict(self.skipped_),
            "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        return write_artifact(Path(path), MULTI_ARTIFACT_KIND, state, metadata)

    @classmethod
    def load(cls, path: str | Path) -> MultiSchemeTagger:
        """Load a :meth:`save` artifact; raises like :meth:`ThemeTagger.load`."""
        payload = read_artifact(Path(path), MULTI_ARTIFACT_KIND)
        try:
            state = payload["state"]
            multi = cls(**state["params"])
            multi.taggers_ = {s: ThemeTagger._from_state(t) for s, t in state["taggers"].items()}
            multi.skipped_ = dict(state["skipped"])
        except (KeyError, TypeError) as exc:
            raise TaggerArtifactError(f"{path}: incomplete multi-scheme state ({exc!r})") from exc
        return multi
