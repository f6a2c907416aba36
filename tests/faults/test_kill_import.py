"""kill -9 of the server in the middle of a 6,000-row import leaves 0 or all rows, never a part, and no corruption."""

from __future__ import annotations

import itertools
import shutil
import sqlite3
import threading
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine
from sqlmodel import Session

from app.core.config import get_settings
from tests.conftest import migrate
from tests.factories import auth, make_key
from tests.live import LiveServer

pytestmark = [pytest.mark.faults, pytest.mark.slow]

# Six write batches (core.BATCH_SIZE 1,000): what is tested is that no batch outlives a kill, not
# how large the import is (20,000 rows cost four times as much for the same outcome).
ROWS = 6_000
# Each trial restarts the server and kills it at one point of the import: once while it validates
# the file (before its write transaction), then at these fractions of the write transaction (the
# batches, relinking the groups, ANALYZE and the commit), counted from the moment this trial's
# server is seen holding the write lock, so the kills land where they are meant to however loaded
# the machine is. The transaction's length is measured once, on a whole import.
IN_WRITE = (0.05, 0.35, 0.7, 0.95)
POLL_S = 0.02
HOLD_S = 0.3


@pytest.fixture(scope="module")
def import_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = get_settings().UPR_DATA_DIR / "recommendations.jsonl"
    if not source.is_file():
        pytest.skip(f"shared data not found at {source}")
    path = tmp_path_factory.mktemp("kill") / "import.jsonl"
    with open(source, "rb") as src, open(path, "wb") as dst:
        for line in itertools.islice(src, ROWS):
            dst.write(line)
    return path


def _count(db: Path) -> tuple[int, str, int]:
    con = sqlite3.connect(db)
    try:
        count = con.execute("SELECT count(*) FROM recommendation").fetchone()[0]
        integrity = con.execute("PRAGMA integrity_check").fetchone()[0]
        dangling = len(con.execute("PRAGMA foreign_key_check").fetchall())
        return count, integrity, dangling
    finally:
        con.close()


def _write_locked(db: Path) -> bool:
    """True while another connection holds the database's write lock (the import's one transaction)."""
    probe = sqlite3.connect(db, timeout=0)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.rollback()
        return False
    except sqlite3.OperationalError:
        return True
    finally:
        probe.close()


def _write_began(db: Path, done: threading.Event) -> float:
    """When the import's write transaction began: the first probe of a write lock then held for
    HOLD_S on end (a request's own one-row writes hold it for milliseconds). The time the import ended if
    no such lock was seen."""
    first: float | None = None
    while not done.is_set():
        now = time.monotonic()
        if not _write_locked(db):
            first = None
        elif first is None:
            first = now
        elif now - first >= HOLD_S:
            return first
        time.sleep(POLL_S)
    return time.monotonic()


def test_kill_during_import_is_all_or_nothing(tmp_path: Path, import_file: Path) -> None:
    template = tmp_path / "template.db"
    migrate(f"sqlite:///{template}")
    engine = create_engine(f"sqlite:///{template}")
    with Session(engine) as session:
        _, admin = make_key(session, "admin")
    engine.dispose()
    body = import_file.read_bytes()

    def run_trial(db: Path, *, validating: float | None = None, writing: float | None = None) -> tuple[float, float]:
        """Import into a copy of the template; kill -9 the server `validating` seconds after the
        request was sent, or `writing` seconds after its write lock was first seen. Not killed,
        returns (seconds until the write lock, seconds it was held)."""
        shutil.copy(template, db)
        with LiveServer(env={"DATABASE_URL": f"sqlite:///{db}"}) as server:
            started = time.monotonic()
            done = threading.Event()

            def post() -> None:
                try:
                    httpx.post(
                        server.url + "/v1/recommendations/import",
                        content=body,
                        headers={**auth(admin), "Content-Type": "application/x-ndjson"},
                        timeout=120,
                    )
                except httpx.HTTPError:
                    pass  # the server died under us: expected
                finally:
                    done.set()

            thread = threading.Thread(target=post, daemon=True)
            thread.start()
            if validating is not None:
                time.sleep(validating)
                server.kill()
                thread.join(30)
                return 0.0, 0.0
            locked = _write_began(db, done)
            if writing is None:
                while not done.is_set() and _write_locked(db):
                    time.sleep(POLL_S)
                held = time.monotonic() - locked
                done.wait(120)
                return locked - started, held
            time.sleep(max(0.0, locked + writing - time.monotonic()))
            server.kill()
            thread.join(30)
            return 0.0, 0.0

    # Calibrate: how long the whole import and its write transaction take on this machine.
    before, write = run_trial(tmp_path / "calibrate.db")
    print(f"calibration: validating took {before:.1f}s, the write transaction {write:.1f}s")
    assert _count(tmp_path / "calibrate.db") == (ROWS, "ok", 0)

    outcomes = []
    trials = [("validating", before / 2), *(("writing", point) for point in IN_WRITE)]
    for trial, (phase, point) in enumerate(trials):
        db = tmp_path / f"trial-{trial}.db"
        if phase == "validating":
            run_trial(db, validating=point)
        else:
            run_trial(db, writing=point * write)
        count, integrity, dangling = _count(db)
        outcomes.append(count)
        print(f"trial {trial}: killed {phase} ({point:.2f}), {count} rows")
        assert integrity == "ok", f"trial {trial}: integrity_check said {integrity}"
        assert dangling == 0, f"trial {trial}: foreign_key_check found {dangling} rows"
        assert count in (0, ROWS), f"trial {trial}: {count} of {ROWS} rows after kill -9"
        db.unlink()
    # The kills must have landed inside the write transaction at least once, or nothing was tested.
    assert 0 in outcomes[1:], f"no kill interrupted a write (calibration {before:.1f}s + {write:.1f}s, {outcomes})"
