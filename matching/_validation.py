"""Argument checks shared by the public methods of :mod:`matching`.

Each checker returns the cleaned value or raises ``TypeError``/``ValueError``
with a message that names the argument, the expected value and the value
received, e.g. ``"top_k must be >= 1, got 0"``.  Computation lives elsewhere.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Collection, Iterable, Sequence
from typing import cast

__all__ = [
    "check_top_k",
    "check_min_score",
    "check_query",
    "check_queries",
    "check_documents",
    "check_ids",
    "check_same_length",
    "check_allowed_ids",
    "check_ngram_range",
    "check_df",
]


def _describe(value: object) -> str:
    return f"{value!r} ({type(value).__name__})"


def check_top_k(top_k: object) -> int:
    """Return ``top_k`` as an ``int`` >= 1.

    Examples
    --------
    >>> check_top_k(3)
    3
    >>> check_top_k(0)
    Traceback (most recent call last):
    ...
    ValueError: top_k must be >= 1, got 0
    >>> check_top_k(2.5)
    Traceback (most recent call last):
    ...
    TypeError: top_k must be an int, got 2.5 (float)
    """
    if isinstance(top_k, bool) or not isinstance(top_k, numbers.Integral):
        raise TypeError(f"top_k must be an int, got {_describe(top_k)}")
    if top_k < 1:
        raise ValueError(f"top_k must be >= 1, got {top_k}")
    return int(top_k)


def check_min_score(min_score: object) -> float:
    """Return ``min_score`` as a ``float`` in ``[0, 1]``.

    Examples
    --------
    >>> check_min_score(0)
    0.0
    >>> check_min_score(1.5)
    Traceback (most recent call last):
    ...
    ValueError: min_score must be between 0.0 and 1.0, got 1.5
    """
    if isinstance(min_score, bool) or not isinstance(min_score, numbers.Real):
        raise TypeError(f"min_score must be a real number, got {_describe(min_score)}")
    value = float(min_score)
    if math.isnan(value) or not 0.0 <= value <= 1.0:
        raise ValueError(f"min_score must be between 0.0 and 1.0, got {min_score!r}")
    return value


def check_query(query: object, name: str = "query") -> str:
    """Return ``query`` if it is a ``str``.

    Examples
    --------
    >>> check_query(None)
    Traceback (most recent call last):
    ...
    TypeError: query must be a str, got None (NoneType)
    """
    if not isinstance(query, str):
        raise TypeError(f"{name} must be a str, got {_describe(query)}")
    return query


def _as_list(values: object, name: str) -> list[object]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise TypeError(f"{name} must be a sequence of str (not a single string), got {_describe(values)}")
    return list(values)


def check_queries(queries: object) -> list[str]:
    """Return ``queries`` as a list of ``str``.

    Examples
    --------
    >>> check_queries(("a", "b"))
    ['a', 'b']
    >>> check_queries("ab")
    Traceback (most recent call last):
    ...
    TypeError: queries must be a sequence of str (not a single string), got 'ab' (str)
    """
    items = _as_list(queries, "queries")
    for i, q in enumerate(items):
        check_query(q, f"queries[{i}]")
    return cast(list[str], items)


def check_documents(documents: object, name: str = "documents") -> list[str]:
    """Return ``documents`` as a list of ``str``.

    Examples
    --------
    >>> check_documents(["a", 3])
    Traceback (most recent call last):
    ...
    TypeError: documents[1] must be a str, got 3 (int)
    """
    items = _as_list(documents, name)
    for i, doc in enumerate(items):
        if not isinstance(doc, str):
            raise TypeError(f"{name}[{i}] must be a str, got {_describe(doc)}")
    return cast(list[str], items)


def check_ids(ids: object, name: str = "ids") -> list[str]:
    """Return ``ids`` as a list of unique ``str``.

    Examples
    --------
    >>> check_ids(["a", "b", "a"])
    Traceback (most recent call last):
    ...
    ValueError: ids must be unique, got duplicate id 'a' at positions 0 and 2
    """
    items = _as_list(ids, name)
    seen: dict[str, int] = {}
    for i, id_ in enumerate(items):
        if not isinstance(id_, str):
            raise TypeError(f"{name}[{i}] must be a str, got {_describe(id_)}")
        first = seen.setdefault(id_, i)
        if first != i:
            raise ValueError(f"{name} must be unique, got duplicate id {id_!r} at positions {first} and {i}")
    return cast(list[str], items)


def check_same_length(documents: Sequence[str], ids: Sequence[str]) -> None:
    """Raise if ``documents`` and ``ids`` differ in length.

    Examples
    --------
    >>> check_same_length(["x", "y"], ["1"])
    Traceback (most recent call last):
    ...
    ValueError: documents and ids must have the same length, got 2 documents and 1 ids
    """
    if len(documents) != len(ids):
        raise ValueError(
            f"documents and ids must have the same length, got {len(documents)} documents and {len(ids)} ids"
        )


def check_allowed_ids(allowed_ids: object) -> Collection[str] | None:
    """Return ``allowed_ids`` (``None`` or a collection of ids, not a string).

    Examples
    --------
    >>> check_allowed_ids("abc")
    Traceback (most recent call last):
    ...
    TypeError: allowed_ids must be a collection of ids or None, got 'abc' (str)
    """
    if allowed_ids is None:
        return None
    if isinstance(allowed_ids, (str, bytes)) or not isinstance(allowed_ids, Iterable):
        raise TypeError(f"allowed_ids must be a collection of ids or None, got {_describe(allowed_ids)}")
    if not isinstance(allowed_ids, Collection):
        return list(allowed_ids)
    return allowed_ids


def check_ngram_range(ngram_range: object) -> tuple[int, int]:
    """Return ``ngram_range``; only word unigrams and bigrams are supported.

    Examples
    --------
    >>> check_ngram_range((1, 2))
    (1, 2)
    >>> check_ngram_range((1, 3))
    Traceback (most recent call last):
    ...
    ValueError: ngram_range must be (1, 1), (1, 2) or (2, 2), got (1, 3)
    """
    allowed: dict[tuple[object, ...], tuple[int, int]] = {(1, 1): (1, 1), (1, 2): (1, 2), (2, 2): (2, 2)}
    value = tuple(ngram_range) if isinstance(ngram_range, (tuple, list)) else None
    if value is None or value not in allowed:
        raise ValueError(f"ngram_range must be (1, 1), (1, 2) or (2, 2), got {ngram_range!r}")
    return allowed[value]


def check_df(value: object, name: str) -> int | float:
    """Check ``min_df``/``max_df``: an int >= 0 (count) or a float in [0, 1].

    Examples
    --------
    >>> check_df(2, "min_df"), check_df(0.5, "max_df")
    (2, 0.5)
    >>> check_df(1.5, "max_df")
    Traceback (most recent call last):
    ...
    ValueError: max_df must be an int >= 0 or a float in [0.0, 1.0], got 1.5
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be an int or a float, got {_describe(value)}")
    if isinstance(value, numbers.Integral):
        if value < 0:
            raise ValueError(f"{name} must be an int >= 0 or a float in [0.0, 1.0], got {value}")
        return int(value)
    if not 0.0 <= float(value) <= 1.0:
        raise ValueError(f"{name} must be an int >= 0 or a float in [0.0, 1.0], got {value!r}")
    return float(value)
