"""The engine package: its modules, their docstrings and its public API (imports: tests/test_architecture.py)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import matching

PACKAGE = Path(matching.__file__).parent
MODULES = sorted(PACKAGE.glob("*.py"))


def test_package_has_the_expected_modules() -> None:
    names = {p.name for p in MODULES}
    assert {"__init__.py", "matcher.py", "preprocessing.py", "ranking.py", "themes.py", "tagger.py"} <= names


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_every_module_has_a_docstring(path: Path) -> None:
    assert ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))


def test_public_api() -> None:
    assert set(matching.__all__) == {
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
    }
    assert issubclass(matching.NotFittedError, matching.MatchingError)
    assert issubclass(matching.NotFittedError, ValueError)
