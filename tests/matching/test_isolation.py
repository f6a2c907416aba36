"""The engine must stay independent of the web service and its stack."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import matching

FORBIDDEN = {"fastapi", "starlette", "sqlmodel", "sqlalchemy", "pydantic", "app"}
PACKAGE = Path(matching.__file__).parent
MODULES = sorted(PACKAGE.glob("*.py"))


def _imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_package_has_the_expected_modules() -> None:
    names = {p.name for p in MODULES}
    assert {"__init__.py", "matcher.py", "preprocessing.py", "_validation.py", "exceptions.py"} <= names


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_no_web_or_database_imports(path: Path) -> None:
    assert _imported_roots(path) & FORBIDDEN == set()


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
