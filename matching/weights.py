"""The weight of each component in a score: the engine's defaults, which the service's settings start from."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Weights:
    """The weight of each component in a score (the service reads them from its settings).

    Examples
    --------
    >>> Weights().as_dict()["theme"]
    0.55
    """

    text: float = 0.45
    theme: float = 0.55
    language: float = 0.05
    presence: float = 0.08
    modality: float = 0.07
    history: float = 0.05
    #: Recommendations for a text: both name the same affected persons (``matching.persons``).
    affected: float = 0.08

    def as_dict(self) -> dict[str, float]:
        return {
            "text": self.text,
            "theme": self.theme,
            "language": self.language,
            "presence": self.presence,
            "modality": self.modality,
            "history": self.history,
            "affected": self.affected,
        }


__all__ = ["Weights"]
