"""`upr-match backup` copies a live SQLite database while it is written; `restore` refuses unsound files."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine
from sqlmodel import Session

from app.core.backups import BackupError, check, sqlite_path
from app.core.config import Settings, get_settings
from app.core.db import create_db_engine
from tests.conftest import migrate, run_cli
from tests.factories import auth, make_key
from tests.live import ROOT, LiveServer


def _migrated(path: Path) -> str:
    url = f"sqlite:///{path}"
    migrate(url)
    return url


def _admin_key(url: str) -> str:
    engine = create_engine(url)
    with Session(engine) as session:
        _, key = make_key(session, "admin")
    engine.dispose()
    return key


def _key_ids(path: Path) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        return {row[0] for row in conn.execute("SELECT id FROM api_key")}
    finally:
        conn.close()


def _cli(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.slow
def test_backup_during_a_write_loop_restores_every_acknowledged_write(tmp_path: Path) -> None:
    db = tmp_path / "live.db"
    url = _migrated(db)
    admin = _admin_key(url)
    acknowledged: list[str] = []
    stop = threading.Event()
    failures: list[str] = []
    progress = threading.Condition()

    def write_loop(base: str) -> None:
        with httpx.Client(base_url=base, headers=auth(admin), timeout=10) as client:
            n = 0
            while not stop.is_set():
                n += 1
                response = client.post("/v1/keys", json={"name": f"writer {n}", "role": "admin"})
                with progress:
                    if response.status_code == 201:
                        acknowledged.append(response.json()["id"])
                    else:
                        failures.append(f"{response.status_code} {response.text[:200]}")
                    progress.notify_all()

    def acknowledged_beyond(count: int) -> None:
        with progress:
            progress.wait_for(lambda: len(acknowledged) > count or bool(failures), timeout=60)

    # The loop writes as fast as the server answers (over 1,000 in the seconds a backup takes on a fast
    # machine): neither the request rate nor the hourly write quota may refuse a write here.
    limits = {"RATE_LIMIT_PER_MINUTE": "1000000", "WRITE_QUOTA_PER_HOUR": "1000000"}
    with LiveServer(env={"DATABASE_URL": url, **limits}) as server:
        writer = threading.Thread(target=write_loop, args=(server.url,))
        writer.start()
        try:
            acknowledged_beyond(5)
            before_backup = set(acknowledged)
            result = _cli("backup", str(tmp_path / "copy.db"), url=url)
            acknowledged_beyond(len(acknowledged))  # writes go on after the snapshot
        finally:
            stop.set()
            writer.join(30)
    assert result.returncode == 0, result.stderr
    assert "integrity ok" in result.stdout
    assert failures == []
    assert len(before_backup) >= 5 and len(acknowledged) > len(before_backup)
    everything = set(acknowledged)

    restored = _cli("restore", "--yes", str(tmp_path / "copy.db"), url=url)
    assert restored.returncode == 0, restored.stderr
    in_backup = _key_ids(db)
    assert before_backup <= in_backup, "a write acknowledged before the backup is missing"
    kept = next(tmp_path.glob("live.db.before-restore-*"))
    assert everything <= _key_ids(kept), "the contents replaced by the restore were not kept"
    with LiveServer(env={"DATABASE_URL": url}) as server:
        response = httpx.get(server.url + "/v1/keys?limit=1", headers=auth(admin), timeout=10)
        assert response.status_code == 200
        assert response.json()["total"] == len(in_backup)


def _corrupt(path: Path) -> None:
    data = bytearray(path.read_bytes())
    page = 4096
    for start in range(2 * page, len(data) - page, 3 * page):  # scribble over b-tree pages, not the header
        data[start + 8 : start + 64] = b"\xff" * 56
    path.write_bytes(bytes(data))


def test_restore_refuses_a_file_failing_integrity_check(tmp_path: Path) -> None:
    url = _migrated(tmp_path / "live.db")
    _admin_key(url)
    copy = tmp_path / "copy.db"
    assert run_cli(["backup", str(copy)], database_url=url).exit_code == 0
    _corrupt(copy)
    before = (tmp_path / "live.db").read_bytes()
    result = run_cli(["restore", "--yes", str(copy)], database_url=url)
    assert result.exit_code == 1
    assert "integrity_check" in result.output or "cannot be read" in result.output
    assert (tmp_path / "live.db").read_bytes() == before, "a refused restore changed the database"
    assert not list(tmp_path.glob("live.db.before-restore-*"))


def test_restore_refuses_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    url = _migrated(tmp_path / "live.db")
    junk = tmp_path / "notes.txt"
    junk.write_text("not a database\n" * 100)
    result = run_cli(["restore", "--yes", str(junk)], database_url=url)
    assert result.exit_code == 1 and "is not an SQLite database" in result.output


def test_backup_never_overwrites_by_accident(tmp_path: Path) -> None:
    url = _migrated(tmp_path / "live.db")
    target = tmp_path / "copy.db"
    target.write_text("precious")
    result = run_cli(["backup", str(target)], database_url=url)
    assert result.exit_code == 1 and "already exists" in result.output
    assert target.read_text() == "precious"
    assert run_cli(["backup", "--overwrite", str(target)], database_url=url).exit_code == 0
    assert check(target) > 5


def test_postgresql_points_at_pg_dump() -> None:
    with pytest.raises(BackupError, match="pg_dump"):
        sqlite_path("postgresql+psycopg://postgres@127.0.0.1:5432/upr")


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_the_database_and_its_backups_are_readable_by_their_owner_only(tmp_path: Path) -> None:
    previous = os.umask(0o022)  # the usual umask, which left both at 0644
    try:
        db = tmp_path / "var" / "upr-match.db"
        url = _migrated(db)
        _admin_key(url)  # a write, so the WAL files exist
        assert _mode(db) == 0o600
        assert _mode(db.parent) == 0o700
        for companion in (db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
            if companion.exists():
                assert _mode(companion) == 0o600, companion
        target = tmp_path / "backups" / "nightly.db"
        result = run_cli(["backup", str(target)], database_url=url)
        assert result.exit_code == 0, result.output
        assert _mode(target) == 0o600
        assert _mode(target.parent) == 0o700
        result = run_cli(["restore", str(target), "--yes"], database_url=url)
        assert result.exit_code == 0, result.output
        kept = next(db.parent.glob("upr-match.db.before-restore-*"))
        assert _mode(kept) == 0o600 and _mode(db) == 0o600
    finally:
        os.umask(previous)


def test_an_existing_database_file_open_to_others_is_made_private(tmp_path: Path) -> None:
    db = tmp_path / "upr-match.db"
    url = _migrated(db)
    db.chmod(0o644)
    tmp_path.chmod(0o755)
    get_settings.cache_clear()
    engine = create_db_engine(Settings(DATABASE_URL=url, _env_file=None))  # type: ignore[call-arg]
    engine.dispose()
    assert _mode(db) == 0o600
    assert _mode(tmp_path) == 0o755  # a folder that existed is left as it is
