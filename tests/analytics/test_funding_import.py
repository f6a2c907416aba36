"""`import_funding`: every row checked first, nothing written on a bad row, the figures replaced whole."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import Session, select

from app.core.errors import UnprocessableEntity
from app.models.analytics import FundingResource
from app.services.analytics.funding import import_funding


def _write(path: Path, rows: object) -> Path:
    path.write_text(json.dumps(rows), encoding="utf-8")
    return path


def test_import_skips_rows_without_sdg_and_unknown_countries(session: Session, tmp_path: Path) -> None:
    rows = [
        {"country": "Mexico", "sdg": 16, "resources_required": 100.5, "resources_available": 40},
        {"country": "North Macedonia, Republic of", "sdg": 5, "resources_required": None, "resources_available": 3},
        {"country": "Mexico", "sdg": None, "resources_required": 9, "resources_available": 9},
        {"country": "Kosovo", "sdg": 1, "resources_required": 1, "resources_available": 1},
    ]
    summary = import_funding(session, path=_write(tmp_path / "f.json", rows))
    assert (summary.rows_read, summary.imported, summary.countries, summary.skipped_no_sdg) == (4, 2, 2, 1)
    assert summary.skipped_countries == ["Kosovo"]
    stored = {(r.state, r.sdg): (r.required, r.available) for r in session.exec(select(FundingResource))}
    assert stored == {("MEX", 16): (100.5, 40.0), ("MKD", 5): (None, 3.0)}
    # A second import replaces the figures.
    import_funding(session, path=_write(tmp_path / "g.json", rows[:1]))
    assert len(session.exec(select(FundingResource)).all()) == 1


def test_a_bad_row_writes_nothing_and_every_problem_is_named(session: Session, tmp_path: Path) -> None:
    import_funding(session, path=_write(tmp_path / "ok.json", [{"country": "Mexico", "sdg": 1}]))
    bad = [
        {"country": "Mexico", "sdg": 18, "resources_required": 1},
        {"country": "Peru", "sdg": 2, "resources_required": -5, "resources_available": "lots"},
        {"country": "", "sdg": 3},
    ]
    with pytest.raises(UnprocessableEntity) as caught:
        import_funding(session, path=_write(tmp_path / "bad.json", bad))
    pointers = [e["pointer"] for e in caught.value.extensions["errors"]]
    assert pointers == [
        "/body/1/sdg",
        "/body/2/resources_required",
        "/body/2/resources_available",
        "/body/3/country",
    ]
    session.rollback()
    assert [(r.state, r.sdg) for r in session.exec(select(FundingResource))] == [("MEX", 1)]
    with pytest.raises(UnprocessableEntity, match="JSON list"):
        import_funding(session, path=_write(tmp_path / "obj.json", {"country": "Mexico"}))
