"""`upr-match sync` against a local stand-in for OHCHR's server (no network).

The server (`benchmarks/export_server.py`) serves a copy of the shared UHRI sample with an
ETag, Last-Modified, 304, byte ranges with If-Range, and the faults the sync must survive: a
transfer cut mid-way, a lying Content-Length, a 200 HTML page, a truncated body. Every bad case
leaves the previous data served and names what was wrong.
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlmodel import Session

from app.core.config import Settings
from app.models.common import table_of
from app.models.recommendation import Recommendation
from app.models.sync import SyncRun
from app.services import sync as sync_service
from benchmarks.export_server import ExportServer
from tests.conftest import run_cli

SAMPLE = "uhri-export-sample.json"
R = table_of(Recommendation)
RUN = table_of(SyncRun)


@pytest.fixture
def export(settings: Settings, tmp_path: Path) -> Path:
    sample = Path(settings.UPR_DATA_DIR) / "samples" / SAMPLE
    if not sample.exists():
        pytest.skip(f"UHRI sample not found at {sample} (UPR_DATA_DIR)")
    target = tmp_path / "site" / "export-full-en.json"
    target.parent.mkdir()
    target.write_bytes(sample.read_bytes())
    return target


@pytest.fixture
def server(export: Path) -> Any:
    with ExportServer(export) as running:
        yield running


def sync(db_url: str, tmp_path: Path, url: str, **env: str) -> tuple[int, str]:
    result = run_cli(
        ["sync", "--url", url],
        database_url=db_url,
        env={"SYNC_DIR": str(tmp_path / "sync"), "MODEL_DIR": str(tmp_path / "models"), "SYNC_RETRIES": "3", **env},
    )
    return result.exit_code, result.output


def count(session: Session, *, withdrawn: bool | None = None) -> int:
    stmt = select(func.count()).select_from(R)
    if withdrawn is not None:
        stmt = stmt.where(R.c.withdrawn_at.is_not(None) if withdrawn else R.c.withdrawn_at.is_(None))
    value = int(session.execute(stmt).scalar_one())
    session.commit()
    return value


def fingerprint(session: Session) -> list[tuple[Any, ...]]:
    """Every stored record's id, hash, update time and withdrawal: equal before and after means nothing changed."""
    rows = session.execute(select(R.c.id, R.c.content_hash, R.c.updated_at, R.c.withdrawn_at).order_by(R.c.id)).all()
    session.commit()
    return [tuple(row) for row in rows]


def runs(session: Session) -> list[tuple[Any, ...]]:
    rows = session.execute(
        select(RUN.c.outcome, RUN.c.inserted, RUN.c.updated, RUN.c.unchanged, RUN.c.withdrawn, RUN.c.detail).order_by(
            RUN.c.id
        )
    ).all()
    session.commit()
    return [tuple(row) for row in rows]


def rewrite(path: Path, records: list[dict[str, Any]]) -> None:
    """Write a new version of the export (a later modification time, so a new ETag)."""
    path.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    later = time.time() + 10
    os.utime(path, (later, later))


def changed_version(export: Path) -> tuple[list[dict[str, Any]], list[str], str]:
    """The export with three UPR texts edited and one UPR record removed: (records, edited ids, removed id)."""
    records: list[dict[str, Any]] = json.loads(export.read_text(encoding="utf-8"))
    upr = [r for r in records if r.get("Body") == "- UPR" and " and " in r["Text"]]
    edited = upr[:3]
    for record in edited:
        record["Text"] = record["Text"].replace(" and ", " and also ", 1)
    removed = upr[3]
    records.remove(removed)
    return records, [f"uhri-{r['AnnotationId']}" for r in edited], f"uhri-{removed['AnnotationId']}"


def test_first_sync_imports_the_sample_then_not_modified_changes_nothing(
    db_url: str, session: Session, server: ExportServer, tmp_path: Path
) -> None:
    code, out = sync(db_url, tmp_path, server.url)
    assert code == 0, out
    assert "(1,782,703 bytes received): 2289 new, 0 updated, 0 unchanged, 0 withdrawn" in out
    assert "skipped 3 records that are not UPR recommendations" in out
    assert count(session) == 2289
    before = fingerprint(session)

    code, out = sync(db_url, tmp_path, server.url)
    assert code == 0, out
    assert out.startswith(f"not modified: {server.url} has not changed since the sync of ")
    etag = server.validators()[0]
    assert server.requests[-1].headers.get("if-none-match") == etag
    assert server.requests[-1].status == 304 and server.requests[-1].sent == 0
    assert fingerprint(session) == before
    assert [r[0] for r in runs(session)] == ["imported", "not_modified"]
    assert not list((tmp_path / "sync").iterdir())  # the downloaded file is gone once imported


def test_a_changed_file_updates_only_what_changed_and_withdraws_what_is_gone(
    db_url: str, session: Session, server: ExportServer, export: Path, tmp_path: Path, client: TestClient
) -> None:
    assert sync(db_url, tmp_path, server.url)[0] == 0
    original = export.read_bytes()
    before = {row[0]: row for row in fingerprint(session)}
    records, edited, removed = changed_version(export)
    rewrite(export, records)

    code, out = sync(db_url, tmp_path, server.url)
    assert code == 0, out
    assert ": 0 new, 3 updated, 2285 unchanged, 1 withdrawn" in out
    after = {row[0]: row for row in fingerprint(session)}
    assert set(after) == set(before)  # nothing deleted
    changed = sorted(rid for rid in after if after[rid] != before[rid])
    assert changed == sorted([*edited, removed])
    assert after[removed][3] is not None and all(after[rid][3] is None for rid in edited)
    assert runs(session)[-1][:5] == ("imported", 0, 3, 2285, 1)

    # The API leaves the withdrawn record out unless asked, and says when it was withdrawn.
    listed = client.get("/v1/recommendations", params={"limit": 1}).json()
    assert listed["total"] == 2288
    assert client.get("/v1/recommendations", params={"limit": 1, "include_withdrawn": "true"}).json()["total"] == 2289
    facets = client.get("/v1/recommendations/facets").json()
    assert facets["total"] == 2288
    shown = client.get(f"/v1/recommendations/{removed}").json()
    assert shown["withdrawn_at"] is not None
    theme = shown["theme_codes"][0]  # the counts read off the index tables (by code) leave it out too
    by_theme = {f["value"]: f["count"] for f in facets["themes"]}
    with_it = client.get("/v1/recommendations/facets", params={"include_withdrawn": "true"}).json()
    assert {f["value"]: f["count"] for f in with_it["themes"]}[theme] == by_theme[theme] + 1
    one_theme = client.get("/v1/recommendations", params={"theme": theme, "limit": 1}).json()["total"]
    assert one_theme == by_theme[theme]
    assert removed not in [r["id"] for r in client.get("/v1/recommendations", params={"theme": theme}).json()["items"]]
    page = client.get(f"/recommendations/{removed}")
    assert page.status_code == 200 and "Withdrawn" in page.text

    # Back in the export: restored, and the edited texts are as they were.
    export.write_bytes(original)
    later = time.time() + 20
    os.utime(export, (later, later))
    code, out = sync(db_url, tmp_path, server.url)
    assert code == 0, out
    assert ": 0 new, 4 updated, 2285 unchanged, 0 withdrawn" in out
    assert "1 withdrawn records are back in the export: restored" in out
    assert count(session, withdrawn=True) == 0


def test_an_interrupted_transfer_resumes_where_it_stopped(
    db_url: str, session: Session, server: ExportServer, export: Path, tmp_path: Path
) -> None:
    size = export.stat().st_size
    server.mode = "disconnect-once"
    code, out = sync(db_url, tmp_path, server.url)
    assert code == 0, out
    first, second = server.requests
    assert "range" not in first.headers and first.sent == size // 2
    assert second.headers["range"] == f"bytes={size // 2}-"
    assert second.headers["if-range"] == server.validators()[0]
    assert second.status == 206 and second.sent == size - size // 2
    assert server.bytes_sent == size  # no byte fetched twice
    assert f"connection lost after {size // 2:,} of {size:,} bytes" in out
    assert f"resuming from byte {size // 2:,} (attempt 2 of 4)" in out
    assert f"resumed from byte {size // 2:,}): 2289 new" in out
    assert count(session) == 2289


def test_a_transfer_cut_in_every_attempt_is_resumed_by_the_next_run(
    db_url: str, session: Session, server: ExportServer, export: Path, tmp_path: Path
) -> None:
    size = export.stat().st_size
    server.mode = "disconnect"
    code, out = sync(db_url, tmp_path, server.url, SYNC_RETRIES="0")
    assert code == 1
    assert f"error: the connection to 127.0.0.1:{server.port} was lost after {size // 2:,} of the {size:,} bytes" in out
    assert "the part received is kept: the next sync resumes it" in out
    assert count(session) == 0
    server.mode = ""
    code, out = sync(db_url, tmp_path, server.url, SYNC_RETRIES="0")
    assert code == 0, out
    assert server.requests[-1].headers["range"] == f"bytes={size // 2}-"
    assert server.bytes_sent == size
    assert count(session) == 2289
    assert [r[0] for r in runs(session)] == ["failed", "imported"]


BAD_CASES = {
    "html": "answered 200 with an HTML page (text/html), not the JSON export",
    "lying-length": "bytes announced (Content-Length)",
    "truncated": "it is truncated",
}


@pytest.mark.parametrize("mode", sorted(BAD_CASES))
def test_a_bad_download_leaves_the_previous_data_and_says_what_was_wrong(
    db_url: str, session: Session, server: ExportServer, export: Path, tmp_path: Path, mode: str
) -> None:
    assert sync(db_url, tmp_path, server.url)[0] == 0
    before = fingerprint(session)
    records, _, _ = changed_version(export)
    rewrite(export, records)
    server.mode = mode
    code, out = sync(db_url, tmp_path, server.url, SYNC_RETRIES="1")
    assert code == 1
    assert "error: " in out and BAD_CASES[mode] in out.split("error: ", 1)[1], out
    assert fingerprint(session) == before
    outcome, *_, detail = runs(session)[-1]
    assert outcome == "failed" and BAD_CASES[mode] in detail
    assert not [p for p in (tmp_path / "sync").iterdir() if p.suffix == ".part"] if mode != "lying-length" else True


def test_offline_is_one_line_and_changes_nothing(db_url: str, session: Session, tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed once the block ends: nothing listens there
    code, out = sync(db_url, tmp_path, f"http://127.0.0.1:{port}/export-full-en.json")
    assert code == 1
    assert out.strip().splitlines() == [
        f"error: cannot reach 127.0.0.1:{port} (connection refused); offline or the source is down"
    ]
    assert count(session) == 0
    code, out = sync(db_url, tmp_path, "http://no-such-host.invalid/export-full-en.json")
    assert code == 1 and "cannot reach no-such-host.invalid (unknown host (DNS))" in out


def test_an_export_missing_most_records_withdraws_nothing(
    db_url: str, session: Session, server: ExportServer, export: Path, tmp_path: Path
) -> None:
    assert sync(db_url, tmp_path, server.url)[0] == 0
    before = fingerprint(session)
    records = json.loads(export.read_text(encoding="utf-8"))
    rewrite(export, records[:100])
    code, out = sync(db_url, tmp_path, server.url)
    assert code == 1 and "more than 50% would be withdrawn, so the export looks incomplete" in out
    assert fingerprint(session) == before


def test_one_sync_at_a_time(db_url: str, session: Session, server: ExportServer, tmp_path: Path) -> None:
    assert sync_service.acquire_lease(session, holder="replica-b:42", lease_s=600) is None
    assert sync_service.acquire_lease(session, holder="replica-c:7", lease_s=600) is not None
    code, out = sync(db_url, tmp_path, server.url)
    assert code == 1 and "error: another sync is running (replica-b:42, until " in out
    assert server.requests == [] and count(session) == 0
    sync_service.release_lease(session, holder="replica-b:42")
    assert sync(db_url, tmp_path, server.url)[0] == 0


def test_a_file_path_or_file_url_is_a_mirror(db_url: str, session: Session, export: Path, tmp_path: Path) -> None:
    code, out = sync(db_url, tmp_path, export.as_uri())
    assert code == 0 and ": 2289 new, 0 updated, 0 unchanged, 0 withdrawn" in out, out
    code, out = sync(db_url, tmp_path, export.as_uri())
    assert code == 0 and out.startswith("not modified: ")
    code, out = sync(db_url, tmp_path, str(export))
    assert code == 0 and ": 0 new, 0 updated, 2289 unchanged, 0 withdrawn" in out  # another source: read again


def test_coverage_shows_the_last_sync(
    db_url: str, session: Session, server: ExportServer, tmp_path: Path, client: TestClient
) -> None:
    assert client.get("/v1/coverage").json()["last_sync"] is None
    assert sync(db_url, tmp_path, server.url)[0] == 0
    found = client.get("/v1/coverage").json()["last_sync"]
    assert (found["outcome"], found["inserted"], found["withdrawn"], found["source_url"]) == (
        "imported",
        2289,
        0,
        server.url,
    )
    assert found["bytes"] == 1_782_703 and found["summary"].startswith("Last synced from OHCHR on ")
    assert "2289 new, 0 updated, 0 unchanged, 0 withdrawn" in client.get("/recommendations").text
    server.mode = "html"
    session.execute(update(RUN).values(etag=None, last_modified=None))
    session.commit()
    assert sync(db_url, tmp_path, server.url)[0] == 1
    failed = client.get("/v1/coverage").json()["last_sync"]
    assert failed["outcome"] == "failed" and "the data is that of the sync of " in failed["summary"]


def test_other_languages_are_found_beside_the_english_export(settings: Settings) -> None:
    url = "https://dataex.ohchr.org/uhri/export-results/export-full-en.json"
    assert sync_service.language_url(url, "fr").endswith("/export-full-fr.json")
    assert sync_service.language_url(url, "es").endswith("/export-full-es.json")
    with pytest.raises(sync_service.SyncError, match="must end in -en.json"):
        sync_service.language_url("https://mirror.example/uhri.json", "fr")
    assert Settings(ENVIRONMENT="test", _env_file=None).SYNC_INTERVAL_HOURS == 0  # type: ignore[call-arg]
    assert Settings(ENVIRONMENT="development", _env_file=None).SYNC_INTERVAL_HOURS == 24  # type: ignore[call-arg]


def test_the_worker_syncs_on_its_schedule(
    settings: Settings, session: Session, server: ExportServer, tmp_path: Path
) -> None:
    from app.worker.loop import Worker

    scheduled = settings.model_copy(
        update={"SYNC_INTERVAL_HOURS": 24.0, "SYNC_URL": server.url, "SYNC_DIR": tmp_path / "sync"}
    )
    worker = Worker(scheduled)
    try:
        assert worker.maybe_sync() is True
        assert worker.sync_thread is not None
        worker.sync_thread.join(60)
        assert count(session) == 2289
        worker._next_sync_check = 0.0
        assert worker.maybe_sync() is False  # one sync a day
    finally:
        worker.close()


def test_the_lease_is_renewed_while_the_file_downloads(session: Session) -> None:
    from app.models.sync import SyncLease

    assert sync_service.acquire_lease(session, holder="me:1", lease_s=60) is None
    first = session.get(SyncLease, sync_service.LEASE_NAME)
    assert first is not None
    before = first.expires_at
    session.commit()
    seen: list[tuple[str, int]] = []
    report = sync_service._renewing(lambda p, d, t: seen.append((p, d)), session, holder="me:1", lease_s=0.004)
    time.sleep(0.01)
    report("download", 10, 100)
    report("validate", 5, None)
    assert seen == [("download", 10), ("validate", 5)]
    renewed = session.get(SyncLease, sync_service.LEASE_NAME)
    assert renewed is not None and renewed.holder == "me:1" and renewed.expires_at < before  # 0.004 s from now
    session.commit()


def test_french_and_spanish_exports_attach_their_texts(
    db_url: str, session: Session, export: Path, tmp_path: Path
) -> None:
    from tests.test_translations import language_export

    sample = json.loads(export.read_text(encoding="utf-8"))
    french = {0: "Prendre de nouvelles mesures pour ratifier les traités (Croatie);"}
    spanish = {0: "Adoptar nuevas medidas para ratificar los tratados (Croacia);", 1: "Ratificar la OPCAT (Francia);"}
    for code, texts in (("fr", french), ("es", spanish)):
        (export.parent / f"export-full-{code}.json").write_text(
            json.dumps(language_export(sample, code, texts), ensure_ascii=False), encoding="utf-8"
        )
    code, out = sync(db_url, tmp_path, export.as_uri(), SYNC_LANGUAGES='["en", "fr", "es"]')
    assert code == 0, out
    result = run_cli(
        ["sync", "--language", "en", "--language", "fr", "--language", "es"],
        database_url=db_url,
        env={"SYNC_URL": export.as_uri(), "SYNC_DIR": str(tmp_path / "sync"), "MODEL_DIR": str(tmp_path / "m")},
    )
    assert result.exit_code == 0, result.output
    assert "not modified: " in result.output  # English: the same file as the first run
    assert "fr texts of 1 recommendations attached, 0 updated, 0 unchanged" in result.output
    assert "es texts of 2 recommendations attached, 0 updated, 0 unchanged" in result.output
    from app.models.translation import RecommendationTranslation

    rows = session.execute(select(RecommendationTranslation.language, RecommendationTranslation.text)).all()
    # Stored as the English texts are: without the paragraph number and the attribution in parentheses.
    assert sorted(rows) == [
        ("es", "Adoptar nuevas medidas para ratificar los tratados"),
        ("es", "Ratificar la OPCAT"),
        ("fr", "Prendre de nouvelles mesures pour ratifier les traités"),
    ]
    assert count(session) == 2289  # nothing inserted or withdrawn by the other languages
    again = run_cli(["sync", "--language", "xx"], database_url=db_url, env={"SYNC_URL": export.as_uri()})
    assert again.exit_code == 2 and "--language must be one of en, fr, es, got 'xx'" in again.output
