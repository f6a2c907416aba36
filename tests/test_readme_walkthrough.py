"""The README's walkthrough, run as written against a fresh server, prints what the README shows.

The walkthrough serves the trained theme tagger, as `make run` does. Training it takes minutes,
so the artifact is kept in the user's cache folder (`$XDG_CACHE_HOME/upr-match`, else
`~/.cache/upr-match`) under a digest of everything training reads: the shared data file, the
code of `matching/` and `app/`, and the versions of scikit-learn, NumPy and SciPy. Training gives
the same model for the same data, so a cached artifact is the one this checkout would train; any
change to those inputs trains (once) a new one. `UPR_TEST_MODEL_DIR` still overrides it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy
import pytest
import scipy
import sklearn

from app.core.config import get_settings

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.slow]
STALE_AFTER_S = 7 * 24 * 3600


def _training_digest(data: Path) -> str:
    digest = hashlib.sha256()
    for version in (sklearn.__version__, numpy.__version__, scipy.__version__, sys.version):
        digest.update(version.encode())
    sources = sorted(p for folder in ("matching", "app") for p in (ROOT / folder).rglob("*.py"))
    for path in [data, *sources]:
        digest.update(str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name).encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]


def _cached_model_dir(data: Path) -> Path:
    """The folder holding the tagger trained on these inputs, trained there first if missing."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "upr-match" / "walkthrough-tagger"
    folder = cache / _training_digest(data)
    if (folder / "theme-tagger.joblib").is_file():
        os.utime(folder)  # in use: kept by the clean-up below
        return folder
    cache.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="training-", dir=cache))
    try:
        with tempfile.TemporaryDirectory() as scratch:  # the empty database training reads (no imported rows)
            env = {**os.environ, "MODEL_DIR": str(staging), "DATABASE_URL": f"sqlite:///{scratch}/train.db"}
            subprocess.run(
                # The walkthrough is English: the cross-language lexicon (a minute of Apertium) is not needed.
                [sys.executable, "-m", "app.cli", "train", "--no-lexicon"],
                cwd=ROOT,
                env=env,
                check=True,
                capture_output=True,
            )
        staging.rename(folder)  # atomic: a concurrent run sees the whole artifact or none
    except OSError:
        pass  # another run got there first with the same inputs
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # gone if renamed; a failed training leaves nothing
    for old in cache.iterdir():  # artifacts of inputs unused for a week (other checkouts may use recent ones)
        if time.time() - old.stat().st_mtime > STALE_AFTER_S:
            shutil.rmtree(old, ignore_errors=True)
    return folder


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
