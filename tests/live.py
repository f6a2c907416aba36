"""Run the real server (`upr-match serve`) in a subprocess on a free loopback port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent


def migrated_with_admin(url: str) -> str:
    """Migrate the database at `url` and give it an admin key (returned), for a live server to use."""
    from sqlalchemy import create_engine
    from sqlmodel import Session

    from tests.conftest import migrate
    from tests.factories import make_key

    migrate(url)
    engine = create_engine(url)
    with Session(engine) as session:
        _, admin = make_key(session, "admin")
    engine.dispose()
    return admin


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """`with LiveServer(env={...}, workers=2) as server: httpx.get(server.url + "/health/live")`."""

    def __init__(
        self, *, env: dict[str, str], workers: int = 1, log: Path | None = None, with_worker: bool = False
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # No trained tagger unless the test gives one: results must not depend on a developer's var/models.
        # No start-up reading of the recommendations behind a test's back (it holds a database connection).
        defaults = {
            "LOG_LEVEL": "WARNING",
            "MODEL_DIR": str(Path(tempfile.gettempdir()) / "upr-match-no-models"),
            "RELATED_WARM_AT_START": "false",
        }
        self.env = {**os.environ, **defaults, **env}
        self.workers = workers
        self.log_path = log
        self.with_worker = with_worker
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 120.0) -> LiveServer:
        # Generous: on a loaded 2-core CI machine, two workers importing the app can take over 30 s.
        # These tests are about behaviour; how fast the server starts is not what they check.
        out: Any = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--port", str(self.port), "--workers", str(self.workers)]
            + (["--with-worker"] if self.with_worker else []),
            cwd=ROOT,
            env=self.env,
            stdout=out,
            stderr=out,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}")
            try:
                if httpx.get(self.url + "/health/live", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise TimeoutError("server did not start")

    def kill(self) -> None:
        """SIGKILL the whole process group (server and workers), as a crash would."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
