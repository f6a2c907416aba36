"""`upr-match migrate`, `serve` and `openapi`: the schema, the server and its published interface."""

from __future__ import annotations

import logging
import os
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from app.commands.common import safe_url
from app.core.config import get_settings

if TYPE_CHECKING:
    from alembic.config import Config

ROOT = Path(__file__).resolve().parent.parent.parent
logger = logging.getLogger("app.serve")


def alembic_config() -> Config:
    """Alembic configuration pointing at this project's migrations, with the settings' URL."""
    from alembic.config import Config

    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    return cfg


def migrate(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Upgrade the database schema (to the latest revision by default)."""
    from alembic import command

    settings = get_settings()
    command.upgrade(alembic_config(), revision)
    typer.echo(f"database at {revision} ({safe_url(settings.DATABASE_URL)})")


def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=32, help="Worker processes.")] = 1,
    reload: Annotated[bool, typer.Option(help="Reload on code changes (development).")] = False,
    with_worker: Annotated[
        bool,
        typer.Option(
            "--with-worker",
            help="Also run `upr-match worker` beside the server (started again if it dies); both stop together.",
        ),
    ] = False,
) -> None:
    """Serve the API with uvicorn; print where it is once it answers."""
    import sys
    import threading
    from functools import partial

    import uvicorn

    from app.core import metrics
    from app.main import configure_logging
    from app.match_index.change_log import read_newest_seq

    settings = get_settings()
    configure_logging(settings.LOG_LEVEL)
    # Every worker counts into this folder, whichever answers a scrape sums them (app/core/metrics.py).
    given = os.environ.get(metrics.MULTIPROC_ENV)
    metrics_dir = metrics.prepare_multiprocess_dir(Path(given) if given else None)
    if settings.METRICS_PORT is not None:
        metrics.serve_separately(settings, settings.METRICS_PORT, newest_seq=partial(read_newest_seq, settings))
    threading.Thread(target=_announce_when_ready, args=(host, port), daemon=True).start()
    # The worker delivers the inbox, alerts, webhooks and e-mail; Ctrl-C reaches both (one process group),
    # and when the server stops for any other reason the worker is stopped too: by the `finally` below,
    # or, since uvicorn ends the process by re-raising a SIGTERM it received (skipping `finally`), by
    # the kernel's parent-death signal. A worker that dies meanwhile is started again (WorkerSupervisor).
    helper = WorkerSupervisor([sys.executable, "-m", "app.cli", "worker"]).start() if with_worker else None
    try:
        uvicorn.run(
            "app.main:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            reload=reload,
            server_header=False,
            log_level=settings.LOG_LEVEL.lower(),
            timeout_worker_healthcheck=WORKER_HEALTHCHECK_S,
        )
    finally:
        if not given:
            metrics.remove_multiprocess_dir(metrics_dir)
        if helper is not None:
            helper.stop()


# How long uvicorn's supervisor waits for a worker process to answer its health ping before it kills and
# replaces it. A worker starting up loads the tagger and builds its match index while holding the GIL;
# on a busy machine that passed uvicorn's default 5 s, and the replacement met the same fate, so a
# `--workers 2` server never became ready.
WORKER_HEALTHCHECK_S = 60


class WorkerSupervisor:
    """Runs the worker beside the server and starts it again whenever it exits, with back-off, logging each.

    A worker that ran `HEALTHY_AFTER_S` before it died is restarted after `MIN_BACKOFF_S`; one that
    keeps dying waits twice as long each time, up to `MAX_BACKOFF_S`. The process is started by the
    supervising thread, which stays alive while it runs (the parent-death signal follows that thread).
    """

    MIN_BACKOFF_S = 1.0
    MAX_BACKOFF_S = 60.0
    HEALTHY_AFTER_S = 60.0

    def __init__(self, command: list[str]) -> None:
        import threading

        self.command = command
        self.process: subprocess.Popen[bytes] | None = None
        self.restarts = 0
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._supervise, name="worker-supervisor", daemon=True)

    def start(self) -> WorkerSupervisor:
        self._thread.start()
        return self

    def _supervise(self) -> None:
        import time

        backoff = self.MIN_BACKOFF_S
        while True:
            with self._lock:
                if self._stopping.is_set():
                    return
                process = subprocess.Popen(self.command, preexec_fn=_stop_with_parent)
                self.process = process
            logger.info("worker started (pid %d)", process.pid)
            started = time.monotonic()
            code = process.wait()
            if self._stopping.is_set():
                return
            ran = time.monotonic() - started
            if ran >= self.HEALTHY_AFTER_S:
                backoff = self.MIN_BACKOFF_S
            how = f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"
            logger.error(
                "worker (pid %d) %s after %.0f s: the inbox, webhooks and e-mail wait; restarting it in %.0f s",
                process.pid,
                how,
                ran,
                backoff,
            )
            if self._stopping.wait(backoff):
                return
            self.restarts += 1
            backoff = min(backoff * 2, self.MAX_BACKOFF_S)

    def stop(self, timeout: float = 30.0) -> None:
        """Stop supervising, then the worker (SIGTERM: it finishes its round; SIGKILL after `timeout`)."""
        with self._lock:
            self._stopping.set()
            process = self.process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()


def _stop_with_parent() -> None:
    """In the worker, before it starts: on Linux, receive SIGTERM when the server process ends."""
    import ctypes
    import signal
    import sys

    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


_PR_SET_PDEATHSIG = 1


def ready_banner(host: str, port: int) -> str:
    """The lines `serve` prints once the server answers: the address a browser can open, pages and docs."""
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}"
    lines = [f"upr-match is serving at {url}  (pages: {url}/, API docs: {url}/docs)"]
    if host in {"0.0.0.0", "::"}:
        lines.append(f"listening on every interface; on this machine open http://127.0.0.1:{port}/")
    return "\n".join(lines)


def _announce_when_ready(host: str, port: int, timeout: float = 120.0) -> None:
    """Poll /health/live on the address being served and print the banner at its first answer."""
    import time

    import httpx

    probe_host = "127.0.0.1" if host in {"0.0.0.0", "::", ""} else host
    probe = f"http://{f'[{probe_host}]' if ':' in probe_host else probe_host}:{port}/health/live"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(probe, timeout=1.0).status_code == 200:
                typer.echo(ready_banner(host, port))
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    typer.echo(f"upr-match did not answer on {probe} within {int(timeout)} s; see the log above.", err=True)


def openapi(
    output: Annotated[Path | None, typer.Option(help="Write here instead of stdout.")] = None,
) -> None:
    """Print (or write) the OpenAPI document; the committed `openapi.json` is this output."""
    import json

    from app.main import create_app

    text = json.dumps(create_app().openapi(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {output}", err=True)
