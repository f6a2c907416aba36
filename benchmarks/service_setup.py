"""The service as `make run` leaves it, for the HTTP benchmarks: demo data, the trained tagger loaded.

`upr-match train` takes 2-3 minutes, so the tagger is trained once into a cache folder
(`benchmarks/out/models`, or `--model-dir`) and reused; the demo database is loaded once
(`benchmarks/out/demo.db`) and copied for each run, then migrated (a no-op unless the schema moved).
Also: starting `upr-match serve --workers N` on it, and the CPU time of the server's processes.
"""

from __future__ import annotations

import http.client
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
ARTIFACT = "theme-tagger.joblib"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_env(db_url: str, model_dir: Path, **extra: str) -> dict[str, str]:
    """The server's environment: the database, the tagger, rate limits lifted, warnings only."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=db_url,
        UPR_DATA_DIR=os.environ.get("UPR_DATA_DIR", str(ROOT.parent / "shared" / "data" / "upr")),
        MODEL_DIR=str(model_dir),
        RATE_LIMIT_PER_MINUTE="10000000",
        WRITE_QUOTA_PER_HOUR="10000000",
        AUTH_FAILURES_PER_MINUTE="10000000",
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
    )
    env.update(extra)
    return env


def cli(args: list[str], env: dict[str, str], cwd: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", *args], env=env, cwd=cwd, check=True, capture_output=True, text=True
    )
    return done.stdout


def trained_tagger(model_dir: Path | None) -> Path:
    """A folder holding the trained tagger: `model_dir` as given, or the cache (trained now if empty)."""
    if model_dir is not None:
        if not (model_dir / ARTIFACT).is_file():
            raise SystemExit(f"no {ARTIFACT} in {model_dir}; train one with MODEL_DIR={model_dir} upr-match train")
        return model_dir
    cache = OUT / "models"
    if not (cache / ARTIFACT).is_file():
        cache.mkdir(parents=True, exist_ok=True)
        print(f"training the tagger once into {cache} (2-3 minutes)...", flush=True)
        started = time.perf_counter()
        # As `make run`: trained before the demo data is loaded, on the shared file alone.
        cli(["train", "--if-missing"], server_env(f"sqlite:///{cache / 'empty.db'}", cache), cache)
        print(f"tagger trained in {time.perf_counter() - started:.0f} s", flush=True)
    return cache


def demo_database(dest: Path, model_dir: Path, source: Path | None = None) -> str:
    """A demo SQLite database at `dest` (copied from `source` or the cache, else loaded now); its URL."""
    url = f"sqlite:///{dest}"
    env = server_env(url, model_dir)
    cache = OUT / "demo.db"
    origin = source or (cache if cache.is_file() else None)
    if origin is not None:
        shutil.copy(origin, dest)
        cli(["migrate"], env, dest.parent)
        print(f"demo database copied from {origin}", flush=True)
        return url
    started = time.perf_counter()
    cli(["migrate"], env, dest.parent)
    cli(["demo", "load", "--key-file", str(dest.parent / "admin_key")], env, dest.parent)
    print(f"demo data loaded with the tagger in {time.perf_counter() - started:.0f} s (cached in {cache})", flush=True)
    OUT.mkdir(parents=True, exist_ok=True)
    shutil.copy(dest, cache)
    return url


def start_server(env: dict[str, str], workdir: Path, workers: int, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """`upr-match serve --workers N` in its own process group, once /health/ready answers; (process, base URL)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
            + ["--workers", str(workers)],
            env=env,
            cwd=workdir,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    wait_ready(base)
    time.sleep(2)  # every worker past start-up (each builds its index)
    return proc, base


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    import signal

    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


def wait_ready(base: str, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    u = urllib.parse.urlsplit(base)
    if u.hostname is None:
        raise ValueError(f"no host in {base!r}")
    while time.monotonic() < deadline:
        try:
            c = http.client.HTTPConnection(u.hostname, u.port, timeout=5)
            c.request("GET", "/health/ready")
            if c.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"server at {base} not ready after {timeout:.0f} s")


def server_pids(root_pid: int) -> list[int]:
    """The server's supervisor and its workers."""
    import psutil

    p = psutil.Process(root_pid)
    return [root_pid, *[c.pid for c in p.children(recursive=True)]]


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds of these processes so far (robust to other load on the machine)."""
    import psutil

    total = 0.0
    for pid in pids:
        try:
            t = psutil.Process(pid).cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


@contextmanager
def demo_service(model_dir: Path | None, sqlite: Path | None, workers: int) -> Iterator[str]:
    """Serve a copy of the demo database with the trained tagger (see above) in a temp folder; its base URL."""
    tmp = Path(tempfile.mkdtemp(prefix="upr-bench-"))
    proc = None
    try:
        models = trained_tagger(model_dir)
        db_url = demo_database(tmp / "upr.db", models, sqlite)
        proc, base = start_server(server_env(db_url, models), tmp, workers, tmp / "server.log")
        yield base
    finally:
        if proc is not None:
            stop_server(proc)
        shutil.rmtree(tmp, ignore_errors=True)


def run_report(main: Callable[[], object]) -> NoReturn:
    """Run a benchmark that reports and never gates: exit 0, a refusal (SystemExit) printed to stderr."""
    try:
        main()
    except SystemExit as exc:
        print(exc, file=sys.stderr)
    sys.exit(0)
