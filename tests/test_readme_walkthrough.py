"""The README's walkthrough, run as written against a fresh server, prints what the README shows.

The walkthrough serves the trained theme tagger, as `make run` does. Training it takes minutes,
so the artifact is kept in the user's cache folder (tests/model_cache.py) under a digest of
everything training reads: the shared data file, the source of every module `upr-match train`
can import (followed through every import, those inside functions too, with the import graph of
tests/test_architecture.py), the data files of `app/` and `matching/`, and the versions of Python
and of every library those modules import. Training gives the same model for the same data, so a
cached artifact is the one this checkout would train; a change to any of those inputs trains
(once) a new one, while a change elsewhere (a route, a page, a test) reuses it.
`UPR_TEST_MODEL_DIR` still overrides it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from app.core.config import get_settings
from tests.model_cache import ROOT, cached, digest, imported_modules, library_versions

# `python -m app.cli train`: the entry point and the command's module.
ENTRY_POINT, TRAINING_COMMAND = "app.cli", "app.commands.themes"


def _training_modules(root: Path = ROOT) -> tuple[list[Path], list[str]]:
    """The source files `upr-match train` runs and the outside modules they import, both sorted.

    `app.cli` itself is read but not followed: it only registers the other commands, whose code
    training never calls."""
    return imported_modules(TRAINING_COMMAND, also=[ENTRY_POINT], root=root)


def _training_digest(data: Path, root: Path = ROOT) -> str:
    sources, external = _training_modules(root)
    data_files = sorted(
        p for folder in ("app", "matching") for p in (root / folder).rglob("*.json") if "static" not in p.parts
    )
    return digest([data, *sources, *data_files], external, root)


def _train(folder: Path) -> None:
    with tempfile.TemporaryDirectory() as scratch:  # the empty database training reads (no imported rows)
        env = {**os.environ, "MODEL_DIR": str(folder), "DATABASE_URL": f"sqlite:///{scratch}/train.db"}
        subprocess.run(
            # The walkthrough is English: the cross-language lexicon (a minute of Apertium) is not needed.
            [sys.executable, "-m", "app.cli", "train", "--no-lexicon"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )


def _cached_model_dir(data: Path) -> Path:
    """The folder holding the tagger trained on these inputs, trained there first if missing."""
    return cached("walkthrough-tagger", _training_digest(data), _train, marker="theme-tagger.joblib")


@pytest.mark.slow
@pytest.mark.timeout(900)  # the first run on a machine trains the tagger (2-3 minutes, more on a busy machine)
def test_readme_walkthrough_outputs_match() -> None:
    data = get_settings().UPR_DATA_DIR / "recommendations.jsonl"
    if not data.is_file():
        pytest.skip("the shared UPR data set is not beside the checkout")
    model_dir = os.environ.get("UPR_TEST_MODEL_DIR") or str(_cached_model_dir(data))
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "check_walkthrough.py")],
        cwd=ROOT,
        env={**os.environ, "UPR_TEST_MODEL_DIR": model_dir},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert "0 differ from the README" in result.stdout


def test_the_tagger_cache_key_covers_the_training_code_and_libraries() -> None:
    sources, external = _training_modules()
    names = {str(p.relative_to(ROOT)) for p in sources}
    trained_by = {"app/cli.py", "app/commands/themes.py", "app/services/themes.py", "matching/tagger.py"}
    assert trained_by | {"app/__init__.py", "matching/__init__.py", "app/core/config.py"} <= names
    assert not {n for n in names if n.startswith(("app/routes/", "app/web/", "app/http/", "tests/"))}
    assert "app/main.py" not in names
    libraries = {v.partition("==")[0].lower() for v in library_versions(external)}
    assert {"scikit-learn", "numpy", "scipy", "joblib", "snowballstemmer"} <= libraries


def test_the_tagger_cache_key_changes_with_training_code_only(tmp_path: Path) -> None:
    for folder in ("app", "matching"):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__", "static"))
    data = tmp_path / "recommendations.jsonl"
    data.write_text('{"id": "r1", "text": "Ratify the convention."}\n', encoding="utf-8")
    before = _training_digest(data, tmp_path)
    with open(tmp_path / "app" / "routes" / "__init__.py", "a", encoding="utf-8") as route:
        route.write("# a change the training never runs\n")
    assert _training_digest(data, tmp_path) == before
    for changed in ("matching/preprocessing.py", "app/services/themes.py", "app/reference/theme_sdg.json"):
        with open(tmp_path / changed, "a", encoding="utf-8") as source:
            source.write("\n")
        assert _training_digest(data, tmp_path) != before, changed
        before = _training_digest(data, tmp_path)
    data.write_text('{"id": "r1", "text": "Ratify the covenant."}\n', encoding="utf-8")
    assert _training_digest(data, tmp_path) != before
