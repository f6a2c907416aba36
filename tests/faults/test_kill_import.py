"""kill -9 of the server in the middle of a 20,000-row import leaves 0 or all rows, never a part, and no corruption."""

from __future__ import annotations

import itertools
import random
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

ROWS = 20_000
# Each trial restarts the server and kills it at a random point of the import (its batches and its
# commit): eight points spread over the import, at two fifths of the cost of twenty; below, at least
# one kill must have interrupted an import, or nothing was tested.
TRIALS = 8


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


def test_kill_during_import_is_all_or_nothing(tmp_path: Path, import_file: Path) -> None:
    template = tmp_path / "template.db"
    migrate(f"sqlite:///{template}")
    engine = create_engine(f"sqlite:///{template}")
    with Session(engine) as session:
        _, admin = make_key(session, "admin")
    engine.dispose()
    body = import_file.read_bytes()

    def run_trial(db: Path, kill_after: float | None) -> float:
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
            if kill_after is None:
                done.wait(120)
                return time.monotonic() - started
            time.sleep(kill_after)
            server.kill()
            thread.join(30)
            return kill_after

    # Calibrate: how long one whole import takes on this machine.
    full = run_trial(tmp_path / "calibrate.db", None)
    print(f"calibration: a whole import took {full:.1f}s")
    assert _count(tmp_path / "calibrate.db") == (ROWS, "ok", 0)

    rng = random.Random(20261126)
    outcomes = []
    for trial in range(TRIALS):
        db = tmp_path / f"trial-{trial}.db"
        run_trial(db, rng.uniform(0.1, 0.9) * full)
        count, integrity, dangling = _count(db)
        outcomes.append(count)
        print(f"trial {trial}: {count} rows")
        assert integrity == "ok", f"trial {trial}: integrity_check said {integrity}"
        assert dangling == 0, f"trial {trial}: foreign_key_check found {dangling} rows"
        assert count in (0, ROWS), f"trial {trial}: {count} of {ROWS} rows after kill -9"
        db.unlink()
    # The kills must have landed inside the import at least sometimes, or nothing was tested.
    assert 0 in outcomes, f"no kill interrupted an import (calibration {full:.1f}s, outcomes {outcomes})"
