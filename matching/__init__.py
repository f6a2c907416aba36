"""Matching engine for upr-match: TF-IDF cosine over an inverted index.

Pure Python + NumPy/SciPy; it imports nothing from the web service.

Examples
--------
>>> from matching import TfidfMatcher
>>> m = TfidfMatcher().fit(["Ratify the OPCAT", "Abolish the death penalty"], ids=["a", "b"])
>>> m.match("ratification of the OPCAT")[0].id
'a'
"""

from matching.drafting import DraftGroup, DraftInput, DraftItem, draft_groups
from matching.exceptions import MatchingError, NotFittedError, UnknownIdError
from matching.matcher import Match, TermWeight, TfidfMatcher

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
