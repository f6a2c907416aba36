"""What the engine reads of a provider and of a need: one text each, the same wherever it is read.

The service's index, the example profiles of :mod:`matching.examples` and the quality harness all
build their texts here, so a profile reads the same words whichever of them ranks it.
"""

from __future__ import annotations

from collections.abc import Sequence


def provider_text(name: str, acronym: str | None, description: str, themes: Sequence[str]) -> str:
    """What the engine reads for a provider: name, acronym, description and declared themes.

    Examples
    --------
    >>> provider_text("Rights Lab", None, "Trains judges.", [])
    'Rights Lab\\nTrains judges.'
    """
    parts = [name, acronym or "", description, ". ".join(themes)]
    return "\n".join(p for p in parts if p)


def need_text(title: str, description: str, recommendation_texts: Sequence[str], themes: Sequence[str]) -> str:
    """What the engine reads for a need: its title, description, the recommendations it cites, its themes.

    Examples
    --------
    >>> need_text("Prisons", "", ["Ratify OPCAT"], ["Detention"])
    'Prisons\\nRatify OPCAT\\nDetention'
    """
    return "\n".join(p for p in [title, description, *recommendation_texts, ". ".join(themes)] if p)


__all__ = ["need_text", "provider_text"]
