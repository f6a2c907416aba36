"""axe-core 4.x in the browser tests: the npm package `make axe-core` puts in .cache/axe-core, with WCAG 2.2 AA rules.

The script is injected into the page under test and run there; only the rules tagged for WCAG 2.0,
2.1 and 2.2 levels A and AA run, and the serious and critical violations are answered. The file is
fetched at install time from the npm registry (never committed); `AXE_CORE_JS` names another copy.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Any

from tests.live import ROOT

INSTALLED = ROOT / ".cache" / "axe-core" / "node_modules" / "axe-core" / "axe.min.js"  # where `make axe-core` puts it
AXE_JS = Path(os.environ.get("AXE_CORE_JS") or INSTALLED)
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
SERIOUS = {"serious", "critical"}

RUN = """
const done = arguments[arguments.length - 1];
axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}, resultTypes: ['violations']})
  .then(results => done({version: axe.version, violations: results.violations}))
  .catch(error => done({error: String(error)}));
"""


def missing_reason() -> str | None:
    """Why the browser tests cannot run axe-core, or None when they can."""
    if not AXE_JS.is_file():
        return f"needs axe-core 4.x at {AXE_JS}: run `make axe-core` (npm install axe-core@4)"
    return None


@cache
def _source() -> str:
    return AXE_JS.read_text(encoding="utf-8")


def version(driver: Any) -> str:
    """The axe-core version injected into the current page."""
    inject(driver)
    return str(driver.execute_script("return axe.version"))


def inject(driver: Any) -> None:
    if not driver.execute_script("return typeof window.axe !== 'undefined'"):
        driver.execute_script(_source())


def serious_violations(driver: Any) -> list[dict[str, Any]]:
    """The serious and critical WCAG 2.2 A/AA violations axe-core finds on the current page."""
    inject(driver)
    driver.set_script_timeout(60)
    results = driver.execute_async_script(RUN, WCAG_22_AA)
    assert "error" not in results, results.get("error")
    assert str(results["version"]).startswith("4."), results["version"]
    return [v for v in results["violations"] if v.get("impact") in SERIOUS]
