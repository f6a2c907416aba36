"""Matching engine for upr-match: TF-IDF cosine over an inverted index.

Pure Python + NumPy/SciPy; it imports nothing from the web service.

Examples
--------
>>> from matching import TfidfMatcher
>>> m = TfidfMatcher().fit(["Ratify the OPCAT", "Abolish the death penalty"], ids=["a", "b"])
>>> m.match("ratification of the OPCAT")[0].id
'a'
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matching.drafting import DraftGroup, DraftInput, DraftItem, draft_groups
    from matching.exceptions import MatchingError, NotFittedError, UnknownIdError
    from matching.matcher import Match, TermWeight, TfidfMatcher

# The public names, imported from their modules on first use: importing one light module of the engine
# (the settings read `matching.weights`) does not load scikit-learn.
_HOMES = {
    "TfidfMatcher": "matching.matcher",
    "Match": "matching.matcher",
    "TermWeight": "matching.matcher",
    "MatchingError": "matching.exceptions",
    "NotFittedError": "matching.exceptions",
    "UnknownIdError": "matching.exceptions",
    "DraftInput": "matching.drafting",
    "DraftItem": "matching.drafting",
    "DraftGroup": "matching.drafting",
    "draft_groups": "matching.drafting",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'matching' has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)


__all__ = [
    "TfidfMatcher",
    "Match",
    "TermWeight",
    "MatchingError",
    "NotFittedError",
    "UnknownIdError",
    "DraftInput",
    "DraftItem",
    "DraftGroup",
    "draft_groups",
]
