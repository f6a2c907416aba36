"""SQLite on a full disk: the failing write is a 507, nothing is half-written, writes resume once space is freed."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.core.config import Settings
from app.core.db import create_db_engine
from app.main import create_app
from tests.conftest import migrate
from tests.factories import auth, make_key

pytestmark = [pytest.mark.faults]


@pytest.fixture
def small_disk() -> Iterator[Path]:
    mount = Path("/tmp") / f"upr-match-full-{uuid.uuid4().hex[:8]}"
    mount.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount)], capture_output=True)
    if result.returncode != 0:
        mount.rmdir()
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        # Lazy unmount: a connection a failed test left open must not leave the mount behind.
        subprocess.run(["umount", "-l", str(mount)], check=False)
        mount.rmdir()


def _fill(directory: Path, leave: int) -> Path:
    """Fill the file system, then free `leave` bytes; return the filler file."""
    filler = directory / "filler"
    # Unbuffered, so closing the file has nothing left to flush onto the full disk.
    with open(filler, "wb", buffering=0) as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)
        except OSError:
            pass
    size = filler.stat().st_size
    os.truncate(filler, max(0, size - leave))
    return filler


def test_full_disk_gives_507_and_no_corruption(small_disk: Path) -> None:
    db = small_disk / "upr.db"
    url = f"sqlite:///{db}"
    migrate(url)
    settings = Settings(
        DATABASE_URL=url, ENVIRONMENT="test", RATE_LIMIT_PER_MINUTE=10**6, WRITE_QUOTA_PER_HOUR=10**6, _env_file=None
    )  # type: ignore[call-arg]
    engine = create_db_engine(settings)
    with Session(engine) as session:
        _, admin = make_key(session, "admin")
    filler = _fill(small_disk, leave=48 * 1024)
    statuses: list[int] = []
    with TestClient(create_app(settings, engine=engine), raise_server_exceptions=False) as client:
        created = 0
        for i in range(5000):
            response = client.post(
                "/v1/keys", json={"name": f"k{i}-" + "x" * 100, "role": "admin"}, headers=auth(admin)
            )
            statuses.append(response.status_code)
            if response.status_code != 201:
                break
            created += 1
        failure = response
        print(f"created {created} keys before the disk filled; failure {failure.status_code}")
        assert failure.status_code in (507, 503), failure.text
        assert failure.headers["content-type"].startswith("application/problem+json")
        assert created >= 1, "the disk was full before the first write; nothing was tested"
        assert 500 not in statuses

        engine.dispose()
        con = sqlite3.connect(db)
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert con.execute("SELECT count(*) FROM api_key").fetchone()[0] == created + 1  # + the admin key
        con.close()

        filler.unlink()
        again = client.post("/v1/keys", json={"name": "after", "role": "admin"}, headers=auth(admin))
        assert again.status_code == 201, again.text
    engine.dispose()
