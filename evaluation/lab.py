"""The lab's theme spaces: the service's reading of texts, with the settings the quality harness varies.

The service reads texts one way (:class:`matching.theme_space.ThemeSpace`). The harness
(`benchmarks/quality.py`) also ranks with readings that were tried and left: a floor under the
tagger's probabilities (0.2 until 2026-12), profiles read sentence by sentence rather than clause
by clause, max-pooling over the pieces, no expansion or more expansion themes, other shares. Those
settings live here, not in the service.

Examples
--------
>>> LabThemeSpace().recipe == ThemeSpace().recipe  # the lab's defaults are the service's reading
True
>>> LabThemeSpace(floor=0.2, pieces="sentences").recipe.split(";")[1:4:2]
['floor=0.2', 'pieces=sentences']
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from matching.examples import ProfileExamples
from matching.theme_space import EXPANSION_TOP, PROBA_FLOOR, ProbaModel, ThemeSpace, service_space

__all__ = ["LabThemeSpace", "lab_space"]


@dataclass(frozen=True, slots=True)
class LabThemeSpace(ThemeSpace):
    """A theme space whose reading the lab sets: ``floor`` (probabilities under it count 0), ``pieces``
    (``"clauses"`` or ``"sentences"``), ``pooling`` over them (``"mean"`` or ``"max"``), and how many
    predicted themes lend their description to a query (``expansion_top``)."""

    floor: float = PROBA_FLOOR
    pieces: str = "clauses"
    pooling: str = "mean"
    expansion_top: int = EXPANSION_TOP

    def reading(self) -> tuple[float, str, str]:
        return self.floor, self.pieces, self.pooling

    def expansion_themes(self) -> int:
        return self.expansion_top


def lab_space(model: ProbaModel | None, examples: ProfileExamples | None = None, **settings: Any) -> ThemeSpace:
    """The service's theme space (:func:`matching.theme_space.service_space`) with ``settings`` over it:
    any :class:`LabThemeSpace` field (``floor``, ``pieces``, ``pooling``, ``expansion_top``, the shares)."""
    base = service_space(model, examples)
    if not settings:
        return base
    return LabThemeSpace(**{**{f.name: getattr(base, f.name) for f in fields(ThemeSpace)}, **settings})
