"""Trained models kept between test runs, in the user's cache folder, under a digest of their inputs.

Training gives the same model for the same inputs, so an artifact cached under a digest of
everything its training reads (the data, the source of every module the training runs, followed
through every import with the graph of tests/test_architecture.py, and the versions of Python and
of the libraries those modules import) is the one this checkout would train. A change to any input
trains (once) a new one; a change elsewhere reuses it. The folder is `$XDG_CACHE_HOME/upr-match`,
else `~/.cache/upr-match`; artifacts unused for a week are removed.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from tests.test_architecture import build_graph

ROOT = Path(__file__).resolve().parent.parent
STALE_AFTER_S = 7 * 24 * 3600


def imported_modules(start: str, *, also: Iterable[str] = (), root: Path = ROOT) -> tuple[list[Path], list[str]]:
    """The source files module `start` runs and the outside modules they import, both sorted.

    Every import is followed (lazy ones included); the packages holding a module come too (their
    `__init__` runs first). The modules of `also` are read but not followed."""
    graph = build_graph(root)
    seen: set[str] = set()
    todo = [start]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo.extend(graph.edges[name])
        parent = name.rpartition(".")[0]
        if parent in graph.files:
            todo.append(parent)
    seen.update(also)
    external = {dotted.split(".")[0] for name in seen for dotted in graph.external[name]}
    return sorted(graph.files[name] for name in seen), sorted(external)


def library_versions(modules: list[str]) -> list[str]:
    """`name==version` of each installed distribution providing one of `modules` (the standard library has none)."""
    providers = importlib.metadata.packages_distributions()
    dists = sorted({d for m in modules for d in providers.get(m, ())})
    return [f"{d}=={importlib.metadata.version(d)}" for d in dists]


def digest(files: Iterable[Path], external: list[str], root: Path = ROOT) -> str:
    """A short digest of the files (named relative to `root`, else by their name) and of the versions
    of Python and of the libraries providing `external`."""
    sha = hashlib.sha256()
    for version in (sys.version, *library_versions(external)):
        sha.update(version.encode())
    for path in files:
        sha.update(str(path.relative_to(root) if path.is_relative_to(root) else path.name).encode())
        sha.update(hashlib.sha256(path.read_bytes()).digest())
    return sha.hexdigest()[:16]


def cached(kind: str, key: str, build: Callable[[Path], None], *, marker: str) -> Path:
    """The folder of the `kind` artifact of inputs `key`, built there first by `build(folder)` if
    `marker` (a file `build` writes) is missing."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "upr-match" / kind
    folder = cache / key
    if (folder / marker).is_file():
        os.utime(folder)  # in use: kept by the clean-up below
        return folder
    cache.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="training-", dir=cache))
    try:
        build(staging)
        staging.rename(folder)  # atomic: a concurrent run sees the whole artifact or none
    except OSError:
        pass  # another run got there first with the same inputs
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # gone if renamed; a failed training leaves nothing
    for old in cache.iterdir():  # artifacts of inputs unused for a week (other checkouts may use recent ones)
        if time.time() - old.stat().st_mtime > STALE_AFTER_S:
            shutil.rmtree(old, ignore_errors=True)
    return folder
