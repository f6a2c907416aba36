"""`upr-match import-funding` and `upr-match report` on the hand-built fixture."""

from __future__ import annotations

import json
from pathlib import Path

from sqlmodel import Session

from app.services.analytics import cache
from tests.analytics.fixture import build
from tests.conftest import run_cli


def test_import_funding_command(db_url: str, session: Session, tmp_path: Path) -> None:
    path = tmp_path / "funding.json"
    path.write_text(json.dumps([{"country": "Mexico", "sdg": 16, "resources_required": 10, "resources_available": 4}]))
    result = run_cli(["import-funding", str(path)], database_url=db_url)
    assert result.exit_code == 0, result.output
    assert "imported 1 for 1 countries" in result.output
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"country": "Mexico", "sdg": 40}]))
    refused = run_cli(["import-funding", str(bad)], database_url=db_url)
    assert refused.exit_code == 1 and "sdg: must be an SDG number from 1 to 17" in refused.output
    missing = run_cli(["import-funding", str(tmp_path / "none.json")], database_url=db_url)
    assert missing.exit_code == 1 and "no funding file" in missing.output


def test_report_as_markdown_and_html(db_url: str, session: Session, tmp_path: Path) -> None:
    cache.clear()
    build(session)
    md = tmp_path / "mex.md"
    result = run_cli(["report", "--state", "MEX", "--format", "md", "--output", str(md)], database_url=db_url)
    assert result.exit_code == 0, result.output
    text = md.read_text(encoding="utf-8")
    # As an administrator sees it: m1 requested, m2 under way, m3 done, m4 requested (ND).
    assert "Of 4 supported recommendations, 2 are requested in an open need, 1 under way" in text
    assert "| SDG 16: Peace, justice and strong institutions | 100 | 40 | 60 | 2 | 1 |" in text
    assert "UPR Working Group sessions in the data for Mexico: 23 (2015), 24 (2016)" in text
    html = tmp_path / "mex.html"
    result = run_cli(["report", "--state", "MEX", "--format", "html", "--output", str(html)], database_url=db_url)
    assert result.exit_code == 0, result.output
    page = html.read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") and "<style>" in page and 'href="/static' not in page
    assert '<svg role="img" aria-labelledby="pipeline-title"' in page
    assert not list(tmp_path.glob("*.part"))
    refused = run_cli(["report", "--state", "XX1", "--format", "md"], database_url=db_url)
    assert refused.exit_code == 1 and "no State with the code" in refused.output
