"""The importer: JSONL and CSV readers, row-level errors, all-or-nothing writes, upserts, real data."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.core.errors import PayloadTooLarge, UnprocessableEntity
from app.core.pagination import PageParams
from app.importing import core, store
from app.models.recommendation import (
    Recommendation,
    RecommendationRecommender,
    RecommendationSdg,
    RecommendationTheme,
)
from app.services import recommendations as service
from app.services.recommendations import RecommendationFilters

ROOT = Path(__file__).resolve().parent.parent


def rec(n: int = 1, **overrides: Any) -> dict[str, Any]:
    """One record in the shared JSONL schema."""
    base: dict[str, Any] = {
        "id": f"test-c2-s15-FRA-{n:04d}",
        "source": "test",
        "cycle": 2,
        "session": 15,
        "state_under_review": "France",
        "state_under_review_iso3": "FRA",
        "recommending_states": ["Denmark"],
        "recommending_states_iso3": ["DNK"],
        "text": f"Ratify the Optional Protocol to the Convention against Torture (number {n}).",
        "response": "supported",
        "response_raw": "accepted",
        "themes": ["Torture and other CID treatment"],
        "theme_scheme": "upr_info_issues",
        "sdgs": [],
        "affected_groups": [],
        "upr_info_action_category": [5],
        "source_document": None,
        "paragraph": None,
        "provisional": False,
    }
    base.update(overrides)
    return base


def write_jsonl(path: Path, records: list[Any]) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records), encoding="utf-8")
    return path


def run(session: Session, path: Path, fmt: str = "jsonl", **kw: Any) -> Any:
    return service.import_recommendations(session, file=path, fmt=fmt, max_rows=kw.pop("max_rows", 500_000), **kw)


def count(session: Session, model: Any = Recommendation) -> int:
    session.rollback()
    return session.execute(select(func.count()).select_from(model)).scalar_one()


def errors_of(exc: pytest.ExceptionInfo[UnprocessableEntity]) -> list[dict[str, Any]]:
    return list(exc.value.extensions["errors"])


# --- happy paths -----------------------------------------------------------------------------


def test_import_jsonl_inserts_and_fills_index_tables(session: Session, tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "a.jsonl",
        [rec(1), rec(2, recommending_states=["Norway", "Chile"], recommending_states_iso3=["NOR", None], sdgs=[5, 16])],
    )
    summary = run(session, path)
    assert (summary.rows_read, summary.inserted, summary.updated, summary.unchanged) == (2, 2, 0, 0)
    assert count(session) == 2
    assert count(session, RecommendationTheme) == 2
    assert count(session, RecommendationRecommender) == 3
    assert count(session, RecommendationSdg) == 2
    row = session.get(Recommendation, "test-c2-s15-FRA-0002")
    assert row is not None
    assert row.recommending_states == ["NOR", "CHL"]
    assert row.action_category == 5
    assert row.response == "supported" and row.response_raw == "accepted"


def test_reimport_same_file_changes_nothing_and_changed_rows_update(session: Session, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "a.jsonl", [rec(1), rec(2)])
    run(session, path)
    again = run(session, path)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)
    changed = write_jsonl(
        tmp_path / "b.jsonl", [rec(1), rec(2, themes=["Death penalty"], text="Abolish the death penalty.")]
    )
    summary = run(session, changed)
    assert (summary.inserted, summary.updated, summary.unchanged) == (0, 1, 1)
    themes = (
        session.execute(
            select(RecommendationTheme.theme).where(RecommendationTheme.recommendation_id == "test-c2-s15-FRA-0002")
        )
        .scalars()
        .all()
    )
    assert themes == ["D23"]  # the index holds the controlled code of the label
    # The FTS index follows the text change.
    rows, total = service.list_recommendations(
        session, filters=RecommendationFilters(q="death penalty"), page=PageParams()
    )
    assert total == 1 and rows[0].id == "test-c2-s15-FRA-0002"
    rows, total = service.list_recommendations(session, filters=RecommendationFilters(q="torture"), page=PageParams())
    assert [r.id for r in rows] == ["test-c2-s15-FRA-0001"]


def test_response_mapping_keeps_the_raw_value(session: Session, tmp_path: Path) -> None:
    values = [
        ("supported", "accepted"),
        ("noted", "noted"),
        ("under consideration", "under consideration"),
        ("supported/noted", "supported/noted"),
        (None, None),
    ]
    path = write_jsonl(
        tmp_path / "a.jsonl", [rec(i, response=r, response_raw=raw) for i, (r, raw) in enumerate(values)]
    )
    run(session, path)
    got = {r.id: (r.response, r.response_raw) for r in session.execute(select(Recommendation)).scalars()}
    assert sorted(got.values(), key=str) == sorted(
        [
            ("supported", "accepted"),
            ("noted", "noted"),
            ("pending", "under consideration"),
            ("pending", "supported/noted"),
            ("pending", None),
        ],
        key=str,
    )


def test_duplicate_id_with_same_content_is_one_record(session: Session, tmp_path: Path) -> None:
    summary = run(session, write_jsonl(tmp_path / "a.jsonl", [rec(1), rec(1)]))
    assert (summary.rows_read, summary.records, summary.inserted) == (2, 1, 1)


def test_dry_run_counts_but_writes_nothing(session: Session, tmp_path: Path) -> None:
    summary = run(session, write_jsonl(tmp_path / "a.jsonl", [rec(1), rec(2)]), dry_run=True)
    assert (summary.inserted, summary.dry_run) == (2, True)
    assert count(session) == 0


def test_bom_crlf_and_blank_lines_in_jsonl_are_accepted(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_bytes(
        b"\xef\xbb\xbf" + json.dumps(rec(1)).encode() + b"\r\n\r\n" + json.dumps(rec(2)).encode() + b"\r\n"
    )
    assert run(session, path).inserted == 2


# --- bad files: row-level errors, nothing written -------------------------------------------------

BAD_CASES: dict[str, tuple[list[Any], str, str]] = {
    "unknown country": (
        [rec(2, state_under_review="Atlantis", state_under_review_iso3=None)],
        "state_under_review",
        "unknown country",
    ),
    "unknown recommending state": (
        [rec(2, recommending_states=["Atlantis"], recommending_states_iso3=[None])],
        "recommending_states",
        "unknown country",
    ),
    "missing text": ([{k: v for k, v in rec(2).items() if k != "text"}], "text", "required"),
    "empty text": ([rec(2, text="   ")], "text", "required"),
    "text over 8000 chars": ([rec(2, text="x" * 10_001)], "text", "maximum is 8000"),
    "duplicate id, other content": ([rec(2), rec(2, text="Something else entirely.")], "id", "duplicate id"),
    "cycle does not match session": ([rec(2, cycle=3)], "cycle", "belongs to cycle 2"),
    "cycle not a number": ([rec(2, cycle="two")], "cycle", "integer"),
    "session out of range": ([rec(2, session=0)], "session", "integer from 1"),
    "invalid JSON": (['{"id": "x", "text": '], "row", "invalid JSON"),
    "not an object": (["[1, 2]"], "row", "JSON object"),
    "unknown response": ([rec(2, response="maybe")], "response", "unknown response"),
    "action category out of range": ([rec(2, upr_info_action_category=[9])], "action_category", "1 to 5"),
    "bad id": ([rec(2, id="has spaces/and slash")], "id", "1-128 characters"),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_jsonl_rows_are_reported_and_nothing_is_written(session: Session, tmp_path: Path, case: str) -> None:
    bad_rows, field, reason = BAD_CASES[case]
    path = write_jsonl(tmp_path / "bad.jsonl", [rec(1), *bad_rows, rec(3)])
    with pytest.raises(UnprocessableEntity) as exc:
        run(session, path)
    errors = errors_of(exc)
    assert errors, case
    assert any(e["field"] == field and reason in e["reason"] for e in errors), errors
    bad_line = 1 + len(bad_rows)
    assert all(e["line"] in range(2, bad_line + 1) for e in errors)
    assert count(session) == 0


def test_invalid_utf8_line_is_an_error(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    good = json.dumps(rec(1)).encode()
    path.write_bytes(good + b"\n" + b'{"id": "caf\xe9"}\n' + json.dumps(rec(3)).encode() + b"\n")
    with pytest.raises(UnprocessableEntity) as exc:
        run(session, path)
    assert [(e["line"], e["field"]) for e in errors_of(exc)] == [(2, "row")]
    assert "UTF-8" in errors_of(exc)[0]["reason"]
    assert count(session) == 0


def test_errors_are_capped_at_100_with_the_total(session: Session, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "bad.jsonl", [rec(i, text="") for i in range(150)])
    with pytest.raises(UnprocessableEntity) as exc:
        run(session, path)
    assert len(errors_of(exc)) == 100
    assert exc.value.extensions["total_errors"] == 150
    assert "150 row(s)" in exc.value.detail


def test_more_rows_than_the_limit_is_413_and_nothing_written(session: Session, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "a.jsonl", [rec(i) for i in range(5)])
    with pytest.raises(PayloadTooLarge):
        run(session, path, max_rows=3)
    assert count(session) == 0


def test_failure_during_the_write_rolls_everything_back(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(core, "BATCH_SIZE", 10)
    calls = {"n": 0}
    real = store._write_batch

    def flaky(*args: Any, **kwargs: Any) -> int:
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("disk on fire")
        return real(*args, **kwargs)

    monkeypatch.setattr(store, "_write_batch", flaky)
    with pytest.raises(RuntimeError):
        run(session, write_jsonl(tmp_path / "a.jsonl", [rec(i) for i in range(50)]))
    assert count(session) == 0
    assert count(session, RecommendationTheme) == 0


def test_formula_text_is_accepted_and_neutralised_in_csv_export(
    session: Session, engine: Engine, tmp_path: Path
) -> None:
    texts = ['=HYPERLINK("http://evil.example","click")', "+1 call now", "-2 remove", "@SUM(A1)", "'quoted"]
    run(session, write_jsonl(tmp_path / "a.jsonl", [rec(i, text=t) for i, t in enumerate(texts)]))
    stored = set(session.execute(select(Recommendation.text)).scalars())
    assert stored == set(texts)  # accepted as text, unchanged in the database
    exported = b"".join(service.export_lines(engine, filters=RecommendationFilters(), fmt="csv")).decode()
    cells = [row["text"] for row in csv.DictReader(io.StringIO(exported))]
    assert sorted(cells) == sorted("'" + t for t in texts)
    for row in csv.reader(io.StringIO(exported)):
        assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row)
    # Our CSV layout re-imports to the same records.
    csv_path = tmp_path / "export.csv"
    csv_path.write_text(exported, encoding="utf-8")
    again = run(session, csv_path, fmt="csv")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, len(texts))


# --- CSV: the UPR Info export layout -------------------------------------------------------------

UPR_HEADER = "To,To-Rgrp,To-Org,Text,From,From-Rgrp,From-Org,Response,Action,Issue,Session"


def upr_csv(rows: list[str], newline: str = "\r", encoding: str = "mac_roman", bom: bool = False) -> bytes:
    data = newline.join([UPR_HEADER, *rows]) + newline
    return (b"\xef\xbb\xbf" if bom else b"") + data.encode(encoding)


@pytest.mark.parametrize(
    ("newline", "encoding", "bom"),
    [("\r", "mac_roman", False), ("\n", "utf-8", False), ("\r\n", "utf-8", True), ("\r\n", "mac_roman", False)],
)
def test_upr_info_csv_merges_rows_and_computes_ids(
    session: Session, tmp_path: Path, newline: str, encoding: str, bom: bool
) -> None:
    rows = [
        'Côte d\'Ivoire,Africa,"AU, OIF",Ratify  the   OPCAT ,France,WEOG,"EU, OIF",Accepted,5,'
        '"Torture and other CID treatment,International instruments",6',
        "Côte d'Ivoire,Africa,AU,Ratify the OPCAT,Cyprus - Iceland,WEOG,EU,Accepted,4,"
        "Torture and other CID treatment,6",
        "Côte d'Ivoire,Africa,AU,Ratify the OPCAT,France,WEOG,EU,Noted,5,Torture and other CID treatment,6",
    ]
    path = tmp_path / "upr.csv"
    path.write_bytes(upr_csv(rows, newline, encoding, bom))
    summary = run(session, path, fmt="csv")
    assert summary.format == "csv-upr-info"
    assert (summary.rows_read, summary.records, summary.inserted) == (3, 2, 2)
    import hashlib

    digest = hashlib.sha1(b"Ratify the OPCAT|Accepted").hexdigest()[:10]
    row = session.get(Recommendation, f"uprinfo-c1-s6-CIV-{digest}")
    assert row is not None
    assert row.recommending_states == ["FRA", "CYP", "ISL"]
    assert row.themes == ["Torture and other CID treatment", "International instruments"]
    assert row.response == "supported" and row.response_raw == "accepted"
    assert row.action_category == 5
    assert row.state_under_review_name == "Côte d'Ivoire"


def test_upr_info_csv_row_errors_name_line_and_column(session: Session, tmp_path: Path) -> None:
    rows = [
        "France,WEOG,EU,Ratify the OPCAT,Atlantis,WEOG,EU,Accepted,5,Torture,6",
        "France,WEOG,EU,,Chile,GRULAC,,Accepted,5,Torture,6",
        "France,WEOG,EU,Abolish it,Chile,GRULAC,,Accepted,5,Torture,zero",
        "France,WEOG,EU," + "y" * 10_001 + ",Chile,GRULAC,,Accepted,5,Torture,6",
    ]
    path = tmp_path / "upr.csv"
    path.write_bytes(upr_csv(rows))
    with pytest.raises(UnprocessableEntity) as exc:
        run(session, path, fmt="csv")
    got = {(e["line"], e["field"]) for e in errors_of(exc)}
    assert {(2, "From"), (3, "Text"), (4, "Session"), (5, "Text")} <= got
    assert count(session) == 0


def test_unknown_recommending_states_are_kept_in_every_format(session: Session, tmp_path: Path) -> None:
    # The real UPR Info export names some recommending States "(Unknown)" (session 1): the row is
    # kept with the name as given and no ISO3 code, and counted; any other unknown name is an error.
    rows = [
        "Indonesia,Asia,ASEAN,Ratify the OPCAT,(Unknown),,,Accepted,4,Torture and other CID treatment,1",
        "Indonesia,Asia,ASEAN,Ratify the OPCAT,France,WEOG,EU,Accepted,4,Torture and other CID treatment,1",
        "Indonesia,Asia,ASEAN,Abolish the death penalty,,,,Noted,4,Death penalty,1",
    ]
    path = tmp_path / "upr.csv"
    path.write_bytes(upr_csv(rows))
    summary = run(session, path, fmt="csv")
    assert (summary.inserted, summary.unrecorded_recommenders) == (2, 2)
    opcat, death = sorted(session.execute(select(Recommendation)).scalars(), key=lambda r: r.text, reverse=True)
    assert (opcat.recommending_states, opcat.recommending_state_names) == (["FRA"], ["(Unknown)", "France"])
    assert (death.recommending_states, death.recommending_state_names) == ([], ["(Unknown)"])
    jsonl = write_jsonl(
        tmp_path / "a.jsonl",
        [rec(1, recommending_states=["(Unknown)"], recommending_states_iso3=[None]), rec(2)],
    )
    summary = run(session, jsonl)
    assert (summary.inserted, summary.unrecorded_recommenders) == (2, 1)
    assert session.get(Recommendation, "test-c2-s15-FRA-0001").recommending_state_names == ["(Unknown)"]  # type: ignore[union-attr]
    path.write_bytes(upr_csv(["Indonesia,Asia,ASEAN,Ratify the OPCAT,Atlantis,,,Accepted,4,Torture,1"]))
    with pytest.raises(UnprocessableEntity) as exc:
        run(session, path, fmt="csv")
    assert [(e["field"], e["reason"]) for e in errors_of(exc)] == [("From", "unknown country 'Atlantis'")]


SAMPLE_NAME = "upr-info-export-sessions-6-9-sample.csv"


def test_real_upr_info_sample_imports_as_it_is(session: Session, settings: Any) -> None:
    sample = Path(settings.UPR_DATA_DIR) / "samples" / SAMPLE_NAME
    if not sample.exists():
        pytest.skip(f"UPR Info sample not found at {sample}")
    raw = sample.read_bytes()
    assert b"\r" in raw and b"\n" not in raw  # the real shape: CR line endings
    summary = run(session, sample, fmt="csv")
    # 2,000 rows; rows with the same (session, SuR, text, response) merge: 1,966 recommendations.
    assert (summary.rows_read, summary.records, summary.inserted, summary.rejected) == (2000, 1966, 1966, 0)
    assert count(session) == 1966
    assert session.execute(select(func.count(func.distinct(Recommendation.state_under_review)))).scalar_one() == 16
    # The ids follow the shared rule: every merged record exists in the shared file.
    shared = Path(settings.UPR_DATA_DIR) / "recommendations.jsonl"
    if shared.exists():
        ids = {json.loads(line)["id"] for line in shared.open(encoding="utf-8")}
        ours = set(session.execute(select(Recommendation.id)).scalars())
        assert ours <= ids


# --- the real shared file (slow) -------------------------------------------------------------


def _shared(settings: Any) -> Path:
    path = Path(settings.UPR_DATA_DIR) / "recommendations.jsonl"
    if not path.exists():
        pytest.skip(f"shared data not found at {path}")
    return path


@pytest.mark.slow
def test_real_shared_file_imports_with_counts_and_reimport_is_a_no_op(session: Session, settings: Any) -> None:
    path = _shared(settings)
    expected = Counter()
    states = set()
    rows = 0
    for line in path.open(encoding="utf-8"):
        r = json.loads(line)
        rows += 1
        expected[{"supported": "supported", "noted": "noted"}.get(r["response"], "pending")] += 1
        states.add(r["state_under_review_iso3"])
    assert rows == 30_456 and len(states) == 135

    summary = run(session, path)
    assert (summary.rows_read, summary.inserted, summary.rejected) == (30_456, 30_456, 0)
    assert count(session) == 30_456
    split = dict(session.execute(select(Recommendation.response, func.count()).group_by(Recommendation.response)).all())
    assert split == dict(expected)
    assert session.execute(select(func.count(func.distinct(Recommendation.state_under_review)))).scalar_one() == 135

    again = run(session, path)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 30_456)

    # Search: OPCAT ratification comes first.
    found, total = service.list_recommendations(
        session, filters=RecommendationFilters(q="torture optional protocol"), page=PageParams(limit=5)
    )
    assert total > 100
    first = found[0].text.lower()
    assert "opcat" in first or ("optional protocol" in first and "torture" in first), first


@pytest.mark.slow
def test_kill_minus_9_during_import_leaves_the_database_unchanged(db_url: str, settings: Any, engine: Engine) -> None:
    path = _shared(settings)
    env = {**os.environ, "DATABASE_URL": db_url, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "import-recommendations", str(path)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    # Wait until the write transaction is open (SQLite: the WAL grows; PostgreSQL: an INSERT runs), then kill.
    deadline = time.monotonic() + 60
    writing = False
    while time.monotonic() < deadline and child.poll() is None and not writing:
        time.sleep(0.05)
        if engine.dialect.name == "sqlite":
            # The import holds the write lock for exactly its write transaction.
            probe = sqlite3.connect(engine.url.database, timeout=0)  # type: ignore[arg-type]
            try:
                probe.execute("BEGIN IMMEDIATE")
                probe.rollback()
            except sqlite3.OperationalError:
                writing = True
            finally:
                probe.close()
        else:
            with engine.connect() as conn:
                writing = bool(
                    conn.execute(
                        text(
                            "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' "
                            "AND query ILIKE 'INSERT INTO recommendation%'"
                        )
                    ).scalar_one()
                )
    assert writing and child.poll() is None, "the import finished or failed before its write phase was seen"
    time.sleep(0.5)  # let it write some batches
    child.send_signal(signal.SIGKILL)
    child.wait()
    with engine.connect() as conn:
        n = conn.execute(text("SELECT count(*) FROM recommendation")).scalar_one()
        assert n == 0
        assert conn.execute(text("SELECT count(*) FROM recommendation_theme")).scalar_one() == 0
        if engine.dialect.name == "sqlite":
            assert conn.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"


@pytest.mark.slow
def test_real_data_export_import_export_is_byte_identical(
    session: Session, engine: Engine, settings: Any, tmp_path: Path
) -> None:
    # CSV is the fragile format (quoting, formula escapes, JSON in cells); JSONL round trips
    # are covered on a small data set in tests/api/test_recommendations.py.
    fmt = "csv"
    path = _shared(settings)
    run(session, path)
    every = RecommendationFilters(include_linked=True)  # other sources' copies too (the Slovenia s20 overlap)
    first = b"".join(service.export_lines(engine, filters=every, fmt=fmt))
    exported = tmp_path / f"export.{fmt}"
    exported.write_bytes(first)
    # Re-importing our own export into the same database changes nothing...
    same = run(session, exported, fmt=fmt)
    assert (same.rows_read, same.inserted, same.updated, same.unchanged) == (30_456, 0, 0, 30_456)
    # ...and into an empty one it gives back the same bytes.
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM recommendation"))
    assert run(session, exported, fmt=fmt).inserted == 30_456
    second = b"".join(service.export_lines(engine, filters=every, fmt=fmt))
    assert second == first
