"""`upr-match serve --with-worker` (what `make run` runs): one command starts both; Ctrl-C stops both."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import migrate
from tests.live import ROOT, free_port

pytestmark = pytest.mark.slow


def _children(pid: int) -> list[tuple[int, str]]:
    """(pid, command line) of the processes whose parent is `pid` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            if parent == pid:
                found.append((int(entry.name), (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()))
        except (OSError, ValueError, IndexError):
            continue
    return found


def _serve_with_worker(tmp_path: Path, log: Path | None = None) -> tuple[subprocess.Popen[bytes], int]:
    """`serve --with-worker` in its own process group, once it answers and its worker holds the lock."""
    url = f"sqlite:///{tmp_path / 'run.db'}"
    migrate(url)
    port = free_port()
    level = "INFO" if log else "WARNING"
    env = {**os.environ, "DATABASE_URL": url, "MODEL_DIR": str(tmp_path / "models"), "LOG_LEVEL": level}
    out = log.open("ab") if log else subprocess.DEVNULL
    server = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--with-worker"],
        cwd=ROOT,
        env=env,
        stdout=out,
        stderr=out,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    workers: list[tuple[int, str]] = []
    lock = Path(str(tmp_path / "run.db") + ".worker.lock")
    while time.monotonic() < deadline:
        workers = [c for c in _children(server.pid) if "app.cli worker" in c[1]]
        try:
            serving = httpx.get(f"http://127.0.0.1:{port}/health/live", timeout=1).status_code == 200
        except httpx.HTTPError:
            serving = False
        if workers and serving and lock.exists() and lock.read_text().startswith("pid"):
            break
        time.sleep(0.2)
    assert workers, "no worker process beside the server"
    assert lock.read_text() == f"pid {workers[0][0]} on {os.uname().nodename}"  # it holds the SQLite lock
    return server, workers[0][0]


def _gone(pid: int, within: float = 30) -> bool:
    """True once the process has exited (a zombie waiting to be reaped counts as gone)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                return True
        except (OSError, IndexError):
            return True
        time.sleep(0.1)
    return False


def test_one_command_serves_with_the_worker_and_ctrl_c_stops_both(tmp_path: Path) -> None:
    server, worker_pid = _serve_with_worker(tmp_path)
    try:
        os.killpg(server.pid, signal.SIGINT)  # what Ctrl-C in a terminal sends to the foreground group
        server.wait(60)
        assert _gone(worker_pid), "the worker outlived the server"
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)


def test_a_sigterm_to_the_server_alone_stops_the_worker_too(tmp_path: Path) -> None:
    # What a service manager or a script sends: uvicorn ends the process by re-raising the signal,
    # which skipped the server's clean-up, so the worker was left running (orphaned) before.
    server, worker_pid = _serve_with_worker(tmp_path)
    try:
        server.terminate()
        server.wait(60)
        assert _gone(worker_pid), "the worker outlived the server"
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
        if not _gone(worker_pid, within=0):
            os.kill(worker_pid, signal.SIGKILL)


def _worker_of(server: subprocess.Popen[bytes]) -> int | None:
    found = [pid for pid, command in _children(server.pid) if "app.cli worker" in command]
    return found[0] if found else None


def test_a_killed_worker_is_started_again_and_the_log_says_so(tmp_path: Path) -> None:
    log = tmp_path / "serve.log"
    server, worker_pid = _serve_with_worker(tmp_path, log)
    try:
        os.kill(worker_pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        replacement = None
        while time.monotonic() < deadline:
            replacement = _worker_of(server)
            if replacement not in (None, worker_pid):
                break
            time.sleep(0.2)
        assert replacement not in (None, worker_pid), "the killed worker was not started again"
        text = log.read_text()
        assert f"worker (pid {worker_pid}) was killed by signal 9" in text and "restarting it in 1 s" in text
        assert f"worker started (pid {replacement})" in text
        # The replacement handles SIGTERM (a clean exit) once it holds the lock: until then the signal
        # would kill it outright, and the wait below would run to its deadline for a line never written.
        lock = Path(str(tmp_path / "run.db") + ".worker.lock")
        holder = f"pid {replacement} on {os.uname().nodename}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and lock.read_text() != holder:
            time.sleep(0.1)
        assert lock.read_text() == holder, "the restarted worker never took the lock"
        os.kill(replacement, signal.SIGTERM)  # even a clean exit outside a shutdown is a worker gone
        gone = f"worker (pid {replacement}) exited with code 0"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and gone not in log.read_text():
            time.sleep(0.1)
        text = log.read_text()
        assert gone in text and "restarting it in 2 s" in text  # backing off
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(60)
