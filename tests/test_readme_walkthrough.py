"""The README's walkthrough, run as written against a fresh server, prints what the README shows."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from app.core.config import get_settings

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.slow]


def test_readme_walkthrough_outputs_match() -> None:
    if not (get_settings().UPR_DATA_DIR / "recommendations.jsonl").is_file():
        pytest.skip("the shared UPR data set is not beside the checkout")
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "check_walkthrough.py")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert "0 differ from the README" in result.stdout
