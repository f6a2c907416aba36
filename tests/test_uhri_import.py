"""The OHCHR Universal Human Rights Index export: mapping, spellings, skipped records, bad input, streaming.

Records are built here in the export's layout (`uhri()`); the real 2,292-record
sample in UPR_DATA_DIR is imported at the end (skipped, saying so, without it).
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from app.core.errors import UnprocessableEntity
from app.importing import detect_format
from app.importing.uhri import UhriSource
from app.models.import_run import ImportRun
from app.models.recommendation import (
    Recommendation,
    RecommendationAffectedGroup,
    RecommendationSdgTarget,
)
from app.services import recommendations as service

SAMPLE = "uhri-export-sample.json"


def uhri(n: int = 1, **overrides: Any) -> dict[str, Any]:
    """One UPR recommendation as the UHRI export lays it out."""
    record: dict[str, Any] = {
        "AffectedPersons": ["Women & girls"],
        "AnnotationId": f"00000000-0000-4000-8000-{n:012d}",
        "AnnotationType": "- Recommendations",
        "Body": "- UPR",
        "Countries": ["Mexico"],
        "DocumentId": "d4d90d98-9c4b-5bec-9d90-7bdc23f055aa",
        "PublicationDate": "2024-03-12T00:00:00",
        "PublicationDateOnUhri": "2024-04-01T10:00:00.000",
        "Regions": ["Latin America and the Caribbean"],
        "Sdgs": ["5.2 - End all violence against and exploitation of women", "16 - Peace, justice and institutions"],
        "Symbol": "A/HRC/55/9",
        "Text": f"<p>{n}.{n} Adopt a comprehensive law against femicide (number {n}) (Spain);</p>",
        "Themes": ["Violence against women"],
        "UprCycle": "4",
        "UprPositions": ["Supported"],
        "UprRecommendingCountry": ["Spain"],
        "UprRecommendingRegions": ["Western European and other States"],
        "UprSession": ["45"],
    }
    record.update(overrides)
    return record


def other_body(body: str, n: int) -> dict[str, Any]:
    return uhri(n, Body=f"- {body}", UprCycle=None, UprSession=[], UprPositions=[], UprRecommendingCountry=[])


def write(path: Path, records: list[Any]) -> Path:
    path.write_text(json.dumps(records), encoding="utf-8")
    return path


def run(session: Session, path: Path, fmt: str = "uhri", **kw: Any) -> Any:
    return service.import_recommendations(session, file=path, fmt=fmt, max_rows=500_000, **kw)


def count(session: Session, model: Any = Recommendation) -> int:
    session.rollback()
    return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def rejected(session: Session, path: Path) -> list[tuple[int, str, str]]:
    with pytest.raises(UnprocessableEntity) as exc:
        run(session, path)
    assert count(session) == 0 and count(session, ImportRun) == 0  # nothing written
    assert exc.value.extensions["unit"] == "record"
    return [(e["line"], e["field"], e["reason"]) for e in exc.value.extensions["errors"]]


# --- mapping -----------------------------------------------------------------------------------


def test_a_upr_record_maps_to_every_field(session: Session, tmp_path: Path) -> None:
    summary = run(session, write(tmp_path / "export.json", [uhri(7)]))
    assert (summary.format, summary.rows_read, summary.inserted, summary.skipped) == ("uhri", 1, 1, 0)
    row = session.get(Recommendation, "uhri-00000000-0000-4000-8000-000000000007")
    assert row is not None
    assert (row.source, row.cycle, row.session, row.state_under_review) == ("ohchr_uhri", 4, 45, "MEX")
    assert row.text == "Adopt a comprehensive law against femicide (number 7)"  # HTML, paragraph, attribution off
    assert row.paragraph == "7.7"
    assert (row.recommending_states, row.recommending_state_names) == (["ESP"], ["Spain"])
    assert (row.response, row.response_raw) == ("supported", "supported")
    assert (row.themes, row.theme_scheme) == (["Violence against women"], "uhri")
    assert (row.sdgs, row.sdg_targets) == ([5, 16], ["5.2"])
    assert (row.affected_groups, row.affected_groups_source) == (["Women", "Girls"], ["Women & girls"])
    assert row.source_document == "A/HRC/55/9"
    assert str(row.publication_date) == "2024-03-12"
    assert count(session, RecommendationSdgTarget) == 1 and count(session, RecommendationAffectedGroup) == 2


def test_other_bodies_are_skipped_and_counted_per_reason(session: Session, tmp_path: Path) -> None:
    records = [uhri(1), other_body("CRC", 2), other_body("CAT", 3), other_body("CRC", 4)]
    records.append(uhri(5, AnnotationType="- Concerns/Observations"))
    summary = run(session, write(tmp_path / "export.json", records))
    assert (summary.rows_read, summary.records, summary.inserted, summary.skipped) == (5, 1, 1, 4)
    assert summary.skipped_reasons == {
        "not UPR (CRC)": 2,
        "not UPR (CAT)": 1,
        "not a recommendation (Concerns/Observations)": 1,
    }


@pytest.mark.parametrize(
    ("positions", "response", "raw"),
    [
        (["Supported"], "supported", "supported"),
        (["supported"], "supported", "supported"),
        (["Noted"], "noted", "noted"),
        (["Supported/Noted"], "pending", "supported/noted"),
        (["Supported", "Noted"], "pending", "supported/noted"),
        ([], "pending", None),
    ],
)
def test_position_spellings(session: Session, tmp_path: Path, positions: list[str], response: str, raw: Any) -> None:
    run(session, write(tmp_path / "export.json", [uhri(1, UprPositions=positions)]))
    row = session.exec(select(Recommendation)).scalars().one()  # type: ignore[call-overload]
    assert (row.response, row.response_raw) == (response, raw)


@pytest.mark.parametrize("cycle", [4, "4", "Cycle 4", "4th cycle", "Fourth cycle", " fourth  CYCLE ", None])
@pytest.mark.parametrize("sessions", [["45"], [45], ["Session 45"], "45"])
def test_cycle_and_session_spellings(session: Session, tmp_path: Path, cycle: Any, sessions: Any) -> None:
    run(session, write(tmp_path / "export.json", [uhri(1, UprCycle=cycle, UprSession=sessions)]))
    row = session.exec(select(Recommendation)).scalars().one()  # type: ignore[call-overload]
    assert (row.cycle, row.session) == (4, 45)


def test_unrecorded_recommending_states_are_kept_and_counted(session: Session, tmp_path: Path) -> None:
    records = [
        uhri(1, UprRecommendingCountry=["(Unknown)"], Text="1.1 Ratify the OP-CAT (Unknown);"),
        uhri(2, UprRecommendingCountry=[""]),
        uhri(3, UprRecommendingCountry=["Spain", "(Unknown)"]),
    ]
    summary = run(session, write(tmp_path / "export.json", records))
    assert (summary.inserted, summary.unrecorded_recommenders) == (3, 3)
    rows = {r.id[-1]: r for r in session.exec(select(Recommendation)).scalars()}  # type: ignore[call-overload]
    assert (rows["1"].recommending_states, rows["1"].recommending_state_names) == ([], ["(Unknown)"])
    assert rows["1"].text == "Ratify the OP-CAT"
    assert (rows["3"].recommending_states, rows["3"].recommending_state_names) == (["ESP"], ["Spain", "(Unknown)"])


def test_attribution_names_the_recommending_states_when_the_export_does_not(session: Session, tmp_path: Path) -> None:
    text = "88.23. Ratify the Convention against Torture and its Optional Protocol (ICRMW) (Costa Rica) (Uruguay);"
    run(session, write(tmp_path / "export.json", [uhri(1, UprRecommendingCountry=[], Text=text)]))
    row = session.exec(select(Recommendation)).scalars().one()  # type: ignore[call-overload]
    assert row.recommending_states == ["CRI", "URY"]
    assert row.text == "Ratify the Convention against Torture and its Optional Protocol (ICRMW)"


def test_reimport_changes_nothing_and_logs_the_run(session: Session, tmp_path: Path) -> None:
    path = write(tmp_path / "export.json", [uhri(1), uhri(2), other_body("CRC", 3)])
    first = run(session, path)
    again = run(session, path)
    assert (first.inserted, again.inserted, again.updated, again.unchanged, again.skipped) == (2, 0, 0, 2, 1)
    runs = session.exec(select(ImportRun).order_by(ImportRun.id)).scalars().all()  # type: ignore[call-overload,arg-type]
    assert [(r.format, r.inserted, r.unchanged, r.skipped, r.sources) for r in runs] == [
        ("uhri", 2, 0, 1, {"ohchr_uhri": 2}),
        ("uhri", 0, 2, 1, {"ohchr_uhri": 2}),
    ]


def test_dry_run_writes_nothing(session: Session, tmp_path: Path) -> None:
    summary = run(session, write(tmp_path / "export.json", [uhri(1)]), dry_run=True)
    assert (summary.dry_run, summary.inserted) == (True, 1)
    assert count(session) == 0 and count(session, ImportRun) == 0


def test_the_format_is_told_by_the_content(tmp_path: Path) -> None:
    assert detect_format(write(tmp_path / "export.txt", [uhri(1)])) == "uhri"
    assert detect_format(io.BytesIO(b"\xef\xbb\xbf  \n [ {}]")) == "uhri"
    assert detect_format(io.BytesIO(b'{"id": "x"}\n')) == "jsonl"
    assert detect_format(io.BytesIO(b"To,To-Rgrp\n")) == "csv"


# --- bad input: a clear error naming the record, field and value; nothing written ---------------


def test_missing_fields_name_the_record_and_field(session: Session, tmp_path: Path) -> None:
    records = [uhri(1), uhri(2, AnnotationId=None), uhri(3, Text=""), uhri(4, Countries=[])]
    got = rejected(session, write(tmp_path / "export.json", records))
    assert {(n, f) for n, f, _ in got} == {(2, "AnnotationId"), (3, "Text"), (4, "Countries")}
    assert all(reason == "is required" for _, _, reason in got)


@pytest.mark.parametrize(
    ("override", "field", "words"),
    [
        ({"Countries": ["Atlantis"]}, "Countries", "unknown country 'Atlantis'"),
        ({"UprRecommendingCountry": ["Narnia"]}, "UprRecommendingCountry", "unknown country 'Narnia'"),
        ({"UprPositions": ["Acepted"]}, "UprPositions", "unknown position 'Acepted'"),
        ({"UprCycle": "Cycle four and a half"}, "UprCycle", "unknown cycle 'Cycle four and a half'"),
        ({"UprCycle": "3"}, "UprCycle", "session 45 belongs to cycle 4, not 3"),
        ({"UprSession": ["forty-five"]}, "UprSession", "unknown session 'forty-five'"),
        ({"UprSession": ["45", "46"]}, "UprSession", "several sessions"),
        ({"UprSession": []}, "UprSession", "is required for a UPR recommendation"),
        ({"Sdgs": ["Goal: peace"]}, "Sdgs", "cannot read 'Goal: peace'"),
        ({"Sdgs": ["18.1 - Nothing"]}, "Sdgs", "cannot read '18.1 - Nothing'"),
        ({"PublicationDate": "12/03/2024"}, "PublicationDate", "must be a date such as 2025-02-12"),
        ({"Countries": ["Mexico", "Peru"]}, "Countries", "names 2 States"),
        ({"Themes": ["Violence", 7]}, "Themes", "must be a list of strings; found 7"),
    ],
)
def test_bad_values_are_row_errors_naming_field_and_value(
    session: Session, tmp_path: Path, override: dict[str, Any], field: str, words: str
) -> None:
    got = rejected(session, write(tmp_path / "export.json", [uhri(1), uhri(2, **override)]))
    assert [(n, f) for n, f, _ in got] == [(2, field)], got
    assert words in got[0][2]


def test_a_10_mb_text_is_refused_without_echoing_it(session: Session, tmp_path: Path) -> None:
    got = rejected(session, write(tmp_path / "export.json", [uhri(1, Text="x" * 10_000_000)]))
    assert [(n, f) for n, f, _ in got] == [(1, "Text")]
    assert "10000000 characters" in got[0][2] and len(got[0][2]) < 200


def test_duplicate_annotation_id_with_other_content_is_refused(session: Session, tmp_path: Path) -> None:
    records = [uhri(1), uhri(2), uhri(1, Themes=["Death penalty"])]
    got = rejected(session, write(tmp_path / "export.json", records))
    assert got == [
        (
            3,
            "id",
            "duplicate id 'uhri-00000000-0000-4000-8000-000000000001' with different content (first seen on record 1)",
        )
    ]


def test_the_same_record_twice_is_one_recommendation(session: Session, tmp_path: Path) -> None:
    summary = run(session, write(tmp_path / "export.json", [uhri(1), uhri(1)]))
    assert (summary.rows_read, summary.records, summary.inserted) == (2, 1, 1)


@pytest.mark.parametrize(
    ("content", "number", "words"),
    [
        (b'{"AnnotationId": "x"}', 1, "must be a JSON array of records"),
        (b"", 1, "it starts with an empty file"),
        (b"[" + json.dumps(uhri(1)).encode() + b', {"Body": "- UPR", "Text": "cut', 2, "truncated"),
        (b"[" + json.dumps(uhri(1)).encode() + b"] trailing", 2, "after the closing ']'"),
        (b'[{"Body": "- UPR", "Text": "caf\xe9"}]', 1, "not valid UTF-8"),
        (b"[" + json.dumps(uhri(1)).encode() + b", nope]", 2, "is not valid JSON"),
    ],
)
def test_broken_files_name_the_record(
    session: Session, tmp_path: Path, content: bytes, number: int, words: str
) -> None:
    path = tmp_path / "export.json"
    path.write_bytes(content)
    got = rejected(session, path)
    assert got[-1][:2] == (number, "file") and words in got[-1][2], got


def test_a_record_that_is_not_an_object_is_an_error(session: Session, tmp_path: Path) -> None:
    got = rejected(session, write(tmp_path / "export.json", [uhri(1), "a string", 42]))
    assert got == [(2, "row", "must be a JSON object, got str"), (3, "row", "must be a JSON object, got int")]


# --- streaming ---------------------------------------------------------------------------------


class CountingStream(io.RawIOBase):
    """A file that counts the bytes read from it."""

    def __init__(self, data: bytes) -> None:
        self._inner = io.BytesIO(data)
        self.read_so_far = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._inner.read(min(len(buffer), 4096))
        buffer[: len(data)] = data
        self.read_so_far += len(data)
        return len(data)


def test_the_reader_streams_the_array_instead_of_holding_it() -> None:
    data = json.dumps([uhri(n) for n in range(1, 3001)]).encode()
    streams: list[CountingStream] = []

    def opener() -> Any:
        streams.append(CountingStream(data))
        return io.BufferedReader(streams[-1], 4096)

    rows = UhriSource(opener).rows()
    number, record, errors = next(rows)
    assert (number, errors) == (1, []) and record is not None
    # The first record is out after reading a small part of a ~3 MB file.
    assert streams[-1].read_so_far < 200_000 < len(data)
    assert sum(1 for _ in rows) == 2999


# --- the command line and the API --------------------------------------------------------------


def test_cli_recognises_the_export_and_reports_skipped(
    tmp_path: Path, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from app.cli import cli
    from app.core.config import get_settings

    monkeypatch.setenv("DATABASE_URL", settings.DATABASE_URL)
    monkeypatch.setenv("MODEL_DIR", str(settings.MODEL_DIR))
    get_settings.cache_clear()
    path = write(tmp_path / "export-full-en.json", [uhri(1), other_body("CRC", 2)])
    try:
        result = CliRunner().invoke(cli, ["import-recommendations", str(path)])
        forced = CliRunner().invoke(cli, ["import-recommendations", "--format", "uhri", str(path)])
        bad = CliRunner().invoke(
            cli, ["import-recommendations", str(write(tmp_path / "b.json", [uhri(1, Countries=["Atlantis"])]))]
        )
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "inserted 1" in result.output
    assert "skipped 1 records that are not UPR recommendations (not UPR (CRC): 1)" in result.output
    assert forced.exit_code == 0 and "unchanged 1" in forced.output
    assert bad.exit_code == 1 and "record 1: Countries: unknown country 'Atlantis'" in bad.output


def test_api_takes_the_export_as_application_json(client: Any, session: Session) -> None:
    from tests.factories import auth, make_key

    _row, key = make_key(session, role="admin")
    body = json.dumps([uhri(1), other_body("CAT", 2)]).encode()
    r = client.post(
        "/v1/recommendations/import", content=body, headers={**auth(key), "Content-Type": "application/json"}
    )
    assert r.status_code == 201, r.text
    assert (r.json()["format"], r.json()["inserted"], r.json()["skipped_reasons"]) == ("uhri", 1, {"not UPR (CAT)": 1})
    bad = json.dumps([uhri(3, UprPositions=["Maybe"])]).encode()
    r = client.post(
        "/v1/recommendations/import", content=bad, headers={**auth(key), "Content-Type": "application/json"}
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["line"] == 1 and r.json()["errors"][0]["field"] == "UprPositions"


# --- the real sample ---------------------------------------------------------------------------


def _sample(settings: Any) -> Path:
    path = Path(settings.UPR_DATA_DIR) / "samples" / SAMPLE
    if not path.exists():
        pytest.skip(f"UHRI sample not found at {path} (UPR_DATA_DIR)")
    return path


def test_real_uhri_sample_imports_2289_and_skips_3(session: Session, settings: Any) -> None:
    path = _sample(settings)
    summary = run(session, path, fmt="auto")
    assert (summary.format, summary.rows_read, summary.inserted, summary.rejected) == ("uhri", 2292, 2289, 0)
    assert (summary.skipped, summary.skipped_reasons) == (
        3,
        {"not UPR (CRC)": 1, "not UPR (CAT)": 1, "not UPR (Special Procedures)": 1},
    )
    assert count(session) == 2289
    again = run(session, path, fmt="auto")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2289)
