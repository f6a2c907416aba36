"""One record of an import cannot take the server's memory: nesting depth and size are bounded in every format.

A JSON array nested 20,000 deep is 39 KiB of body; built as Python lists, with ijson's
prefix of every level, it took about 1 GB. Each format refuses such a record with a 422
naming the record and the limit, writes nothing, and the API and the command line say
the same. A live server answers within 2 s without its memory growing.
"""

from __future__ import annotations

import csv
import io
import json
import os
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from app.core.errors import UnprocessableEntity
from app.importing.core import RECORD_FIELDS
from app.importing.limits import MAX_DEPTH, MAX_RECORD_BYTES
from app.models.import_run import ImportRun
from app.models.recommendation import Recommendation
from app.services import recommendations as service
from tests.conftest import run_cli
from tests.factories import auth, make_key
from tests.live import LiveServer, migrated_with_admin
from tests.test_uhri_import import uhri

DEEP = 20_000
NESTED = b"[" * DEEP + b"]" * DEEP  # the whole body: one UHRI "record" nested 20,000 deep
MIB = MAX_RECORD_BYTES // (1024 * 1024)
DEPTH_REASON = f"arrays and objects nested more than {MAX_DEPTH} levels deep; at most {MAX_DEPTH}"
SIZE_REASON = f"the record takes more than {MIB} MiB; at most {MIB} MiB per record"


def _jsonl_record(n: int, **overrides: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": f"limits-{n}",
        "source": "test",
        "cycle": 2,
        "session": 15,
        "state_under_review": "FRA",
        "recommending_states": ["DEU"],
        "text": f"Ratify the Optional Protocol against Torture ({n}).",
        "response": "supported",
    }
    record.update(overrides)
    return record


def _uhri_file(second: bytes) -> bytes:
    return b"[" + json.dumps(uhri(1)).encode() + b"," + second + b"]"


def _jsonl_file(second: bytes) -> bytes:
    return json.dumps(_jsonl_record(1)).encode() + b"\n" + second + b"\n"


def _csv_file(second: dict[str, Any] | str) -> bytes:
    """Our CSV layout: one good row, then `second` (a record, or a raw line)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=RECORD_FIELDS, lineterminator="\n")
    writer.writeheader()
    for record in (_jsonl_record(1), second):
        if isinstance(record, str):
            buffer.write(record)
        else:
            writer.writerow({k: "; ".join(v) if isinstance(v, list) else v for k, v in record.items()})
    return buffer.getvalue().encode()


def _nested(levels: int) -> Any:
    return json.loads("[" * levels + "]" * levels)


def _refused(session: Session, path: Path, fmt: str) -> list[tuple[int, str, str]]:
    with pytest.raises(UnprocessableEntity) as exc:
        service.import_recommendations(session, file=path, fmt=fmt, max_rows=1000)
    session.rollback()
    assert session.execute(select(func.count()).select_from(Recommendation)).scalar_one() == 0
    assert session.execute(select(func.count()).select_from(ImportRun)).scalar_one() == 0
    return [(e["line"], e["field"], e["reason"]) for e in exc.value.extensions["errors"]]


@pytest.mark.parametrize(
    ("fmt", "content", "line", "limit"),
    [
        ("uhri", _uhri_file(NESTED), 2, True),
        # The record is level 1: a field may hold MAX_DEPTH - 1 levels (an ordinary field error), not one more.
        ("uhri", _uhri_file(json.dumps(uhri(2, Themes=_nested(MAX_DEPTH - 1))).encode()), 2, False),
        ("uhri", _uhri_file(json.dumps(uhri(2, Themes=_nested(MAX_DEPTH))).encode()), 2, True),
        ("jsonl", _jsonl_file(b'{"themes": ' + NESTED + b"}"), 2, True),
        ("jsonl", _jsonl_file(NESTED), 2, True),
        # A JSON list cell of our CSV layout: read as text past the depth, never recursed into.
        ("csv", _csv_file(_jsonl_record(2, themes="[" * DEEP)), 3, False),
    ],
    ids=["uhri-20000", "uhri-at-the-limit", "uhri-one-level-too-deep", "jsonl-field", "jsonl-line", "csv-cell"],
)
def test_deep_nesting_is_refused_naming_the_record_and_the_limit(
    session: Session, tmp_path: Path, fmt: str, content: bytes, line: int, limit: bool
) -> None:
    path = tmp_path / f"deep.{fmt}"
    path.write_bytes(content)
    errors = _refused(session, path, fmt)
    if limit:
        assert errors == [(line, "nesting", DEPTH_REASON)]
    else:  # within the limit: an ordinary field error
        assert len(errors) == 1 and errors[0][0] == line and errors[0][1] not in ("nesting", "size"), errors


@pytest.mark.parametrize(
    ("fmt", "content", "line"),
    [
        # 300,000 empty objects: 900 KB of JSON, over 16 MiB once built.
        ("uhri", _uhri_file(json.dumps(uhri(2, Themes=[{}] * 300_000)).encode()), 2),
        ("jsonl", _jsonl_file(json.dumps(_jsonl_record(2, themes=[{}] * 300_000)).encode()), 2),
        # A line longer than a record may take is refused before it is read whole.
        ("jsonl", _jsonl_file(b'{"text": "' + b"x" * (MAX_RECORD_BYTES + 10) + b'"}'), 2),
        # A line of commas: each one a cell.
        ("csv", _csv_file("," * 1_100_000 + "\n"), 3),
        # No line end at all.
        ("csv", _csv_file("x" * (MAX_RECORD_BYTES + 10)), 3),
    ],
    ids=["uhri-objects", "jsonl-objects", "jsonl-long-line", "csv-cells", "csv-long-line"],
)
def test_a_record_over_the_memory_limit_is_refused(
    session: Session, tmp_path: Path, fmt: str, content: bytes, line: int
) -> None:
    path = tmp_path / f"big.{fmt}"
    path.write_bytes(content)
    assert _refused(session, path, fmt) == [(line, "size", SIZE_REASON)]


def test_the_api_and_the_command_line_refuse_the_nested_body_alike(
    client: Any, session: Session, settings: Any, tmp_path: Path
) -> None:
    _row, key = make_key(session, role="admin")
    r = client.post(
        "/v1/recommendations/import", content=NESTED, headers={**auth(key), "Content-Type": "application/json"}
    )
    assert r.status_code == 422, r.text
    assert [(e["line"], e["field"], e["reason"]) for e in r.json()["errors"]] == [(1, "nesting", DEPTH_REASON)]
    assert r.json()["unit"] == "record"
    path = tmp_path / "export-full-en.json"
    path.write_bytes(NESTED)
    result = run_cli(["import-recommendations", str(path)], database_url=settings.DATABASE_URL)
    assert result.exit_code == 1
    assert f"record 1: nesting: {DEPTH_REASON}" in result.output
    assert r.json()["detail"] in result.output
    session.rollback()
    assert session.execute(select(func.count()).select_from(Recommendation)).scalar_one() == 0


def _rss_bytes(session_id: int) -> int:
    """The resident memory of every process of a session (the server and any worker it started)."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            if int(fields[3]) != session_id:  # field 6 of stat: the session id
                continue
            total += int(fields[21]) * os.sysconf("SC_PAGE_SIZE")  # field 24: resident pages
        except (OSError, ValueError, IndexError):
            continue
    return total


@pytest.mark.slow
def test_a_live_server_refuses_the_nested_body_quickly_without_growing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'live.db'}"
    admin = migrated_with_admin(url)
    headers = {**auth(admin), "Content-Type": "application/json"}
    with LiveServer(env={"DATABASE_URL": url}) as server:
        assert server.process is not None
        warm = httpx.post(server.url + "/v1/recommendations/import", content=b"[]", headers=headers, timeout=30)
        assert warm.status_code == 200, warm.text
        before = _rss_bytes(server.process.pid)
        answers = []
        for _ in range(3):
            started = time.monotonic()
            r = httpx.post(server.url + "/v1/recommendations/import", content=NESTED, headers=headers, timeout=60)
            answers.append((r, time.monotonic() - started))
        grown = _rss_bytes(server.process.pid) - before
        assert [r.status_code for r, _ in answers] == [422] * 3
        assert max(elapsed for _, elapsed in answers) < 2.0, [elapsed for _, elapsed in answers]
        assert grown < 50 * 1024 * 1024, f"the server grew by {grown / 2**20:.0f} MiB"
        for r, _ in answers:
            assert (r.json()["errors"][0]["line"], r.json()["errors"][0]["field"]) == (1, "nesting"), r.text[:300]
        assert httpx.get(server.url + "/health/ready", timeout=5).status_code == 200
