"""The engine stays pure: matching/ imports no web, database or app code (walks the AST)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {"fastapi", "starlette", "sqlmodel", "sqlalchemy", "pydantic", "app", "uvicorn", "alembic"}


def _imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


ENGINE_FILES = sorted((ROOT / "matching").rglob("*.py"))


@pytest.mark.parametrize("path", ENGINE_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_matching_imports_nothing_forbidden(path: Path) -> None:
    bad = _imported_roots(path) & FORBIDDEN
    assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


def test_engine_package_exists() -> None:
    assert ENGINE_FILES, "matching/ has no modules"


def test_detector_catches_a_forbidden_import(tmp_path: Path) -> None:
    sample = tmp_path / "x.py"
    sample.write_text("import numpy\nfrom sqlalchemy.orm import Session\n")
    assert _imported_roots(sample) & FORBIDDEN == {"sqlalchemy"}
