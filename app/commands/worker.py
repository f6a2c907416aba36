"""`upr-match worker`: deliver the cooperation loop's events (inbox, alerts, webhooks, e-mail)."""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Annotated

import typer

from app.core.config import get_settings


def worker(
    once: Annotated[bool, typer.Option(help="Do one round of each job, then exit (for cron or a check).")] = False,
) -> None:
    """Run the worker until Ctrl-C or SIGTERM (it finishes the round it is in, then stops)."""
    from app.main import configure_logging
    from app.worker.loop import Worker, WorkerAlreadyRunning, sqlite_worker_lock

    settings = get_settings()
    configure_logging(settings.LOG_LEVEL)
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        with sqlite_worker_lock(settings):
            runner = Worker(settings)
            try:
                if once:
                    counts = runner.cycle()
                    typer.echo(
                        f"processed {counts.events} events, {counts.deliveries} deliveries, {counts.emails} e-mails"
                    )
                else:
                    typer.echo("upr-match worker running (Ctrl-C stops it)", err=True)
                    runner.run(stop)
            finally:
                runner.close()
    except WorkerAlreadyRunning as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from None
