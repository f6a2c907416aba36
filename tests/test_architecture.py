"""The contracts of the code base, checked on the source (AST), so a change that breaks one fails here.

The import graph is built from every `import` of every module of `app/`, `matching/` and `evaluation/`,
wherever it stands (at the top, inside a function, under `TYPE_CHECKING`): an import inside a function
is still a dependency, and the one that closes a cycle is the one that hides it. An import points at
the module it names (`from a.b import c` points at `a.b.c` when that is a module, else at `a.b`).

1. No import cycles.
2. The layers, followed transitively (what a module imports, and what those import...):
   - `matching/` is the engine: pure Python + NumPy/SciPy/scikit-learn; it reaches nothing of the app,
     the web framework, the database layer or the evaluation lab;
   - `app/core/` (settings, database, problem exceptions, identity, metrics) reaches nothing of the
     rest of the app, nor the web framework, nor the engine; `app/reference/` and `app/models/` stand on
     it only;
   - the match index (`app/match_index/`) stands on core, reference, models and the engine;
   - services (`app/services/`) reach neither the web framework nor the HTTP side (`app/http/`, routes,
     pages, the application, the commands, the worker);
   - routes, pages and the HTTP plumbing reach the engine only through services and the match index;
   - readers of recommendation files (`app/importing/`) stand on core, reference and models;
   - the worker and the demo loader reach no HTTP side; the lab (`evaluation/`) reaches nothing of the app.
3. Routes, pages and the demo loader run no SQL: they call services.
4. A private name (`_x`) is imported only within its own package.
5. No module under `app/`, `matching/` or `evaluation/` is over 600 lines, except the engine's
   index (`matching/matcher.py`).
6. No absolute path to the shared data: it is found through `UPR_DATA_DIR`.

`test_the_checker_*` build small module trees and show each check fails on what it forbids.
"""

from __future__ import annotations

import ast
import re
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("app", "matching", "evaluation")


# --- the import graph ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Imported:
    """One import statement: the dotted names it may load, the names it takes, its line."""

    candidates: tuple[str, ...]  # most specific first
    names: tuple[str, ...]
    line: int


@dataclass
class Graph:
    """Modules (dotted name -> file), internal edges, and what each module imports from outside the tree."""

    files: dict[str, Path]
    edges: dict[str, dict[str, int]] = field(default_factory=dict)  # module -> {imported module: line}
    external: dict[str, dict[str, int]] = field(default_factory=dict)  # module -> {outside name: line}
    private: list[str] = field(default_factory=list)  # "module:line imports _x from other"


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _statements(path: Path, name: str) -> Iterator[Imported]:
    """Every import in the file, at any depth, as absolute dotted names."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Imported((alias.name,), (), node.lineno)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*base_parts, node.module] if node.module else base_parts)
            else:
                base = node.module or ""
            names = tuple(alias.name for alias in node.names)
            for alias in names:
                yield Imported((f"{base}.{alias}", base), (alias,), node.lineno)


def _owner(dotted: str, files: Mapping[str, Path]) -> str | None:
    """The module of the tree that `dotted` names, or that holds it (longest prefix); None outside the tree."""
    parts = dotted.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in files:
            return candidate
    return None


def build_graph(root: Path, packages: Iterable[str] = PACKAGES) -> Graph:
    files = {module_name(root, p): p for pkg in packages for p in sorted((root / pkg).rglob("*.py"))}
    graph = Graph(files)
    for name, path in files.items():
        edges = graph.edges.setdefault(name, {})
        external = graph.external.setdefault(name, {})
        for statement in _statements(path, name):
            target = next((t for c in statement.candidates if (t := _owner(c, files)) is not None), None)
            if target is None:
                external.setdefault(statement.candidates[-1], statement.line)
                continue
            if target != name:
                edges.setdefault(target, statement.line)
            private = [n for n in statement.names if n.startswith("_") and not n.startswith("__")]
            holder = statement.candidates[-1]
            if private and holder.rpartition(".")[0] != name.rpartition(".")[0] and holder != name.rpartition(".")[0]:
                graph.private.append(f"{name}:{statement.line} imports {', '.join(private)} from {holder}")
    return graph


# --- cycles ----------------------------------------------------------------------------------------


def _components(edges: Mapping[str, Mapping[str, int]]) -> list[list[str]]:
    """Strongly connected components (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(edges):
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(edges.get(start, {}))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            for nxt in successors:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(edges.get(nxt, {})))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    found.append(sorted(component))
    return found


def _path(edges: Mapping[str, Mapping[str, int]], start: str, goal: str, within: set[str]) -> list[str]:
    """A shortest chain of imports from `start` to `goal`, staying inside `within`."""
    parent: dict[str, str | None] = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for nxt in sorted(edges.get(node, {})):
            if nxt in within and nxt not in parent:
                parent[nxt] = node
                if nxt == goal:
                    chain = [goal]
                    while (back := parent[chain[-1]]) is not None:
                        chain.append(back)
                    return chain[::-1]
                queue.append(nxt)
    return []


def find_cycles(graph: Graph) -> list[str]:
    """Each import cycle as `a (line) -> b (line) -> a`, one per group of modules that import each other."""
    cycles = []
    for component in _components(graph.edges):
        if len(component) < 2:
            continue
        start = component[0]
        members = set(component)
        loop = [start]
        for nxt in sorted(graph.edges[start]):
            if nxt in members:
                loop = [start, *(_path(graph.edges, nxt, start, members) or [nxt])]
                break
        steps = [f"{a} (line {graph.edges[a][b]})" for a, b in zip(loop, loop[1:], strict=False)]
        cycles.append(" -> ".join([*steps, loop[-1]]))
    return cycles


# --- layers ----------------------------------------------------------------------------------------


def _under(name: str, prefixes: Iterable[str]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


@dataclass(frozen=True)
class Rule:
    """Modules under `sources` reach (transitively) nothing under `never`, and nothing of the tree outside
    `only` when it is given. Modules under `through` may be reached whatever `never` says, and the walk
    does not go past them: they are the way further (services and the match index lead to the engine).
    The engine's default weights (`matching.weights`), which the settings start from, are one for all."""

    name: str
    sources: tuple[str, ...]
    never: tuple[str, ...] = ()
    only: tuple[str, ...] | None = None
    through: tuple[str, ...] = ("matching.weights",)


def broken(graph: Graph, rule: Rule) -> list[str]:
    """Every way a module of `rule.sources` breaks it, with the chain of imports that leads there."""
    found = []
    for source in sorted(n for n in graph.files if _under(n, rule.sources)):
        parent: dict[str, str | None] = {source: None}
        queue = deque([source])
        while queue:
            node = queue.popleft()
            if node != source and _under(node, rule.through):
                continue
            bad_internal = _under(node, rule.never) or (
                rule.only is not None and not _under(node, rule.only) and node != source
            )
            bad_external = sorted(e for e in graph.external[node] if _under(e, rule.never))
            if bad_internal or bad_external:
                chain = [node]
                while (back := parent[chain[-1]]) is not None:
                    chain.append(back)
                what = node if bad_internal else f"{node} -> {', '.join(bad_external)}"
                found.append(f"{' -> '.join(chain[::-1][:-1] + [what])}")
                continue
            for nxt in sorted(graph.edges[node]):
                if nxt not in parent:
                    parent[nxt] = node
                    queue.append(nxt)
    return found


WEB_FRAMEWORK = ("fastapi", "starlette", "uvicorn")
DATABASE = ("sqlalchemy", "sqlmodel", "alembic")
HTTP_SIDE = ("app.http", "app.routes", "app.web", "app.main", "app.cli", "app.commands")

RULES = (
    Rule(
        "the engine is pure: nothing of the app, the lab, the web framework or the database layer",
        ("matching",),
        never=("app", "evaluation", *WEB_FRAMEWORK, *DATABASE, "pydantic", "bm25s"),
    ),
    Rule(
        "core stands on nothing of the app above it, nor the web framework, nor the engine",
        ("app.core",),
        never=(*WEB_FRAMEWORK, "matching"),
        only=("app.core", "matching.weights"),
    ),
    Rule(
        "reference data and models stand on core only",
        ("app.reference", "app.models"),
        never=WEB_FRAMEWORK,
        only=("app.core", "app.reference", "app.models"),
    ),
    Rule(
        "the match index stands on core, reference, models and the engine",
        ("app.match_index",),
        never=WEB_FRAMEWORK,
        only=("app.core", "app.reference", "app.models", "app.match_index", "matching"),
    ),
    Rule(
        "services reach neither the web framework nor the HTTP side, the worker or the demo",
        ("app.services",),
        never=(*WEB_FRAMEWORK, *HTTP_SIDE, "app.worker", "app.demo"),
    ),
    Rule(
        "readers of recommendation files stand on core, reference and models",
        ("app.importing",),
        never=WEB_FRAMEWORK,
        only=("app.core", "app.reference", "app.models", "app.importing"),
    ),
    Rule(
        "routes, pages and the HTTP plumbing reach the engine only through services and the match index",
        ("app.routes", "app.web", "app.http"),
        never=("matching", "app.commands", "app.worker", "app.demo"),
        through=("app.services", "app.match_index", "matching.weights"),
    ),
    Rule(
        "the worker and the demo loader reach no HTTP side",
        ("app.worker", "app.demo"),
        never=(*WEB_FRAMEWORK, *HTTP_SIDE),
    ),
    Rule("the lab reaches nothing of the app", ("evaluation",), never=("app", *WEB_FRAMEWORK, *DATABASE)),
)


@pytest.fixture(scope="module")
def graph() -> Graph:
    return build_graph(ROOT)


def test_no_import_cycles(graph: Graph) -> None:
    cycles = find_cycles(graph)
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.name)
def test_layers(graph: Graph, rule: Rule) -> None:
    found = broken(graph, rule)
    assert not found, f"{rule.name}:\n" + "\n".join(found)


def test_private_names_stay_in_their_package(graph: Graph) -> None:
    assert not graph.private, "\n".join(graph.private)


# --- SQL, size, paths ------------------------------------------------------------------------------

SQL_NAMES = {"select", "update", "delete", "insert", "text", "func", "col", "exists"}
SQL_METHODS = {"exec", "execute", "scalar", "scalars", "query"}


def _files(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


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


@pytest.mark.parametrize("path", _files("app/routes") + _files("app/web") + _files("app/demo"), ids=_rel)
def test_routes_pages_and_demo_run_no_sql(path: Path) -> None:
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


# --- the checker, on small trees -------------------------------------------------------------------


def _tree(root: Path, modules: Mapping[str, str]) -> Path:
    for name, source in modules.items():
        path = root / (name.replace(".", "/") + ".py")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")
    return root


CLEAN = {
    "app.__init__": "",
    "app.core.__init__": "",
    "app.core.errors": "class Problem(Exception): ...\n",
    "app.services.__init__": "",
    "app.services.needs": "from app.core.errors import Problem\nfrom matching.ranking import Ranker\n",
    "app.web.__init__": "",
    "app.web.pages": "from app.services import needs\n",
    "matching.__init__": "",
    "matching.ranking": "import numpy\nfrom matching.texts import need_text\n",
    "matching.texts": "def need_text(): ...\n",
}


def test_the_checker_passes_a_clean_tree(tmp_path: Path) -> None:
    graph = build_graph(_tree(tmp_path, CLEAN))
    assert graph.edges["app.web.pages"] == {"app.services.needs": 1}
    assert graph.external["matching.ranking"] == {"numpy": 1}
    assert find_cycles(graph) == []
    assert [found for rule in RULES for found in broken(graph, rule)] == []
    assert graph.private == []


def test_the_checker_finds_a_cycle(tmp_path: Path) -> None:
    graph = build_graph(_tree(tmp_path, {**CLEAN, "matching.texts": "from matching.ranking import Ranker\n"}))
    assert find_cycles(graph) == ["matching.ranking (line 2) -> matching.texts (line 1) -> matching.ranking"]


def test_the_checker_finds_a_lazy_import_closing_a_cycle(tmp_path: Path) -> None:
    lazy = "def need_text():\n    from matching.ranking import Ranker\n    return Ranker\n"
    graph = build_graph(_tree(tmp_path, {**CLEAN, "matching.texts": lazy}))
    assert find_cycles(graph) == ["matching.ranking (line 2) -> matching.texts (line 2) -> matching.ranking"]


def test_the_checker_finds_a_relative_import_closing_a_cycle(tmp_path: Path) -> None:
    graph = build_graph(_tree(tmp_path, {**CLEAN, "matching.texts": "from .ranking import Ranker\n"}))
    assert len(find_cycles(graph)) == 1


def test_the_checker_finds_a_page_importing_the_engine(tmp_path: Path) -> None:
    page = "from app.services import needs\n\ndef explain():\n    from matching.ranking import Ranker\n"
    graph = build_graph(_tree(tmp_path, {**CLEAN, "app.web.pages": page}))
    [rule] = [r for r in RULES if r.sources == ("app.routes", "app.web", "app.http")]
    assert broken(graph, rule) == ["app.web.pages -> matching.ranking"]


def test_the_checker_follows_imports_transitively(tmp_path: Path) -> None:
    modules = {
        **CLEAN,
        "app.web.pages": "from app.web import reasons\n",
        "app.web.reasons": "from app.web.words import STOP\n",
        "app.web.words": "from matching.preprocessing import STOP\n",
        "matching.preprocessing": "STOP = set()\n",
        "app.core.db": "from fastapi import Request\n",
        "app.services.audit": "from app.core import db\n",
    }
    graph = build_graph(_tree(tmp_path, modules))
    found = [f for rule in RULES for f in broken(graph, rule)]
    assert "app.web.pages -> app.web.reasons -> app.web.words -> matching.preprocessing" in found
    # a service reaches the web framework through the database module, and core itself breaks its rule
    assert "app.services.audit -> app.core.db -> fastapi" in found
    assert "app.core.db -> fastapi" in found


def test_the_checker_finds_a_private_name_taken_from_another_package(tmp_path: Path) -> None:
    modules = {
        **CLEAN,
        "evaluation.__init__": "",
        "evaluation.metrics": "from matching.texts import _label_of\n",
        "matching.ranking": "from matching.texts import _shared\n",
    }
    graph = build_graph(_tree(tmp_path, modules))
    assert graph.private == ["evaluation.metrics:1 imports _label_of from matching.texts"]
