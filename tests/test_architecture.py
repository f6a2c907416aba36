"""The contracts of the code base, checked on the source (AST), so a change that breaks one fails here.

1. `matching/` is the engine: pure Python + NumPy/SciPy/scikit-learn; it imports nothing of the
   app, the web framework, the database layer or the evaluation lab.
2. Services (`app/services/`) hold the logic: they import neither the web framework nor the
   HTTP-side modules of the app (authentication headers, ETag headers, routes, pages).
3. Routes and pages run no SQL: they call services.
4. No module under `app/`, `matching/` or `evaluation/` is over 600 lines, except the engine's
   index (`matching/matcher.py`).
5. No absolute path to the shared data: it is found through `UPR_DATA_DIR`.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _files(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def _imports(path: Path) -> set[str]:
    """Every module `path` imports, absolute (`a.b.c`; `from a.b import c` gives `a.b` and `a.b.c`)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _hits(imported: set[str], forbidden: set[str]) -> list[str]:
    return sorted(m for m in imported for f in forbidden if m == f or m.startswith(f + "."))


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


ENGINE_FORBIDDEN = {
    "fastapi", "starlette", "sqlmodel", "sqlalchemy", "pydantic", "uvicorn", "alembic", "app", "evaluation", "bm25s"
}  # fmt: skip
SERVICE_FORBIDDEN = {
    "fastapi",
    "starlette",
    "app.http.auth",
    "app.http.etag",
    "app.routes",
    "app.web",
    "app.http.deps",
    "app.main",
}
SQL_NAMES = {"select", "update", "delete", "insert", "text", "func", "col", "exists"}
SQL_METHODS = {"exec", "execute", "scalar", "scalars", "query"}


@pytest.mark.parametrize("path", _files("matching"), ids=_rel)
def test_engine_imports_nothing_of_the_app_web_or_database(path: Path) -> None:
    bad = _hits(_imports(path), ENGINE_FORBIDDEN)
    assert not bad, f"{_rel(path)} imports {bad}"


@pytest.mark.parametrize("path", _files("app/services"), ids=_rel)
def test_services_import_no_web_framework_nor_http_side_modules(path: Path) -> None:
    bad = _hits(_imports(path), SERVICE_FORBIDDEN)
    assert not bad, f"{_rel(path)} imports {bad}"


def _sql_in(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in {"sqlmodel", "sqlalchemy"}:
            found += [f"imports {node.module}.{a.name}" for a in node.names if a.name in SQL_NAMES]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in SQL_METHODS
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in {"session", "conn", "connection", "db"}
        ):
            found.append(f"line {node.lineno}: {node.func.value.id}.{node.func.attr}(...)")
    return found


@pytest.mark.parametrize("path", _files("app/routes") + _files("app/web"), ids=_rel)
def test_routes_and_pages_run_no_sql(path: Path) -> None:
    found = _sql_in(path)
    assert not found, f"{_rel(path)} runs SQL itself: {found}"


LONG_ALLOWED = {"matching/matcher.py"}


@pytest.mark.parametrize("path", _files("app") + _files("matching") + _files("evaluation"), ids=_rel)
def test_modules_stay_readable(path: Path) -> None:
    if _rel(path) in LONG_ALLOWED:
        return
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= 600, f"{_rel(path)} has {lines} lines; split it by job"


SHARED_PATH = re.compile(r"/work/|shared/data/upr/[a-z_]+\.(jsonl|csv|json)")


@pytest.mark.parametrize(
    "path", _files("app") + _files("matching") + _files("evaluation") + _files("benchmarks") + _files("tests"), ids=_rel
)
def test_no_absolute_path_to_the_shared_data(path: Path) -> None:
    if path == Path(__file__):
        return
    found = [m.group(0) for m in SHARED_PATH.finditer(path.read_text(encoding="utf-8"))]
    assert not found, f"{_rel(path)} names {found}; use settings UPR_DATA_DIR"


def test_the_checks_catch_what_they_forbid(tmp_path: Path) -> None:
    sample = tmp_path / "x.py"
    sample.write_text(
        "import numpy\nfrom sqlalchemy.orm import Session\nfrom app.http.auth import Principal\n"
        "from sqlmodel import select\n\ndef f(session):\n    return session.exec(select(1))\n"
    )
    assert _hits(_imports(sample), ENGINE_FORBIDDEN) == [
        "app.http.auth",
        "app.http.auth.Principal",
        "sqlalchemy.orm",
        "sqlalchemy.orm.Session",
        "sqlmodel",
        "sqlmodel.select",
    ]
    assert _hits(_imports(sample), SERVICE_FORBIDDEN) == ["app.http.auth", "app.http.auth.Principal"]
    assert _sql_in(sample) == ["imports sqlmodel.select", "line 7: session.exec(...)"]
