"""Exceptions raised by the :mod:`matching` engine.

Every exception derives from :class:`MatchingError`, so callers (for example
the web service) can catch engine problems with a single ``except`` clause
while still getting the built-in type they expect (``ValueError`` for bad
arguments, ``KeyError`` for unknown ids).
"""

from __future__ import annotations

__all__ = ["MatchingError", "NotFittedError", "UnknownIdError"]


class MatchingError(Exception):
    """Base class for every error raised by the matching engine.

    Examples
    --------
    >>> issubclass(NotFittedError, MatchingError)
    True
    """


class NotFittedError(MatchingError, ValueError, AttributeError):
    """Raised when a matcher is used before :meth:`TfidfMatcher.fit`.

    Like scikit-learn's ``NotFittedError`` it is also a ``ValueError`` and an
    ``AttributeError`` (so ``hasattr(m, "idf_")`` is ``False`` before fit).

    Examples
    --------
    >>> from matching import TfidfMatcher
    >>> try:
    ...     TfidfMatcher().match("torture")
    ... except NotFittedError as exc:
    ...     print(exc)
    This TfidfMatcher is not fitted yet; call fit(documents, ids) first.
    """


class UnknownIdError(MatchingError, KeyError):
    """Raised when a document id is not in the index (``remove``, ``explain``).

    It is also a ``KeyError``.  ``str()`` gives the plain message (a bare
    ``KeyError`` would show its argument's ``repr``).

    Examples
    --------
    >>> str(UnknownIdError("unknown id 'x'"))
    "unknown id 'x'"
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""
