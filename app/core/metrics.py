"""Prometheus metrics of the service, summed over every uvicorn worker.

`upr-match serve` points `PROMETHEUS_MULTIPROC_DIR` at a fresh folder before the workers start, so
each worker writes its counters to its own memory-mapped files there and whichever worker answers
a scrape adds them all up (`prometheus_client.multiprocess`). Without that variable (tests, an app
built in-process) the process's own registry is used.

Each replica has its own folder and is scraped on its own; Prometheus sums across replicas
(`sum by (route) (rate(upr_http_requests_total[5m]))`).

Series (README, "Metrics"):

| series | type | labels |
|---|---|---|
| `upr_http_requests_total` | counter | method, route (template), status |
| `upr_http_request_duration_seconds` | histogram | method, route |
| `upr_match_duration_seconds` | histogram | operation (need, provider, text) |
| `upr_match_index_documents` | gauge, max over workers | side (provider, need) |
| `upr_match_index_applied_seq` | gauge, min over workers | the change-log position the least current worker applied |
| `upr_index_change_newest_seq` | gauge | newest change-log row (read at the scrape); the lag is the difference |
| `upr_db_pool_checked_out` / `upr_db_pool_size` | gauge, summed | database connections in use / pooled |
| `upr_tagger_load_seconds` | gauge, max | time to load the theme tagger at start-up |
| `upr_match_index_build_seconds` | gauge, max | time to build the matching index at start-up |
| `upr_worker_start_time_seconds`, `upr_worker_requests` | gauge, one per worker | pid |
"""

from __future__ import annotations

import os
import shutil
import time
import weakref
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
#: Latency buckets (seconds): a request of the API takes a few milliseconds, an import minutes.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
UNMATCHED = "unmatched"

REQUESTS = Counter("upr_http_requests", "HTTP requests answered.", ["method", "route", "status"])
REQUEST_SECONDS = Histogram(
    "upr_http_request_duration_seconds", "Time to answer an HTTP request.", ["method", "route"], buckets=BUCKETS
)
MATCH_SECONDS = Histogram(
    "upr_match_duration_seconds", "Time to rank a match, from the service's call.", ["operation"], buckets=BUCKETS
)
INDEX_DOCUMENTS = Gauge(
    "upr_match_index_documents", "Objects in the matching index.", ["side"], multiprocess_mode="livemax"
)
INDEX_APPLIED = Gauge(
    "upr_match_index_applied_seq",
    "Change-log position the matching index has applied (the least current worker).",
    multiprocess_mode="livemin",
)
POOL_CHECKED_OUT = Gauge("upr_db_pool_checked_out", "Database connections in use.", multiprocess_mode="livesum")
POOL_SIZE = Gauge("upr_db_pool_size", "Database connections the pools keep.", multiprocess_mode="livesum")
TAGGER_LOAD = Gauge(
    "upr_tagger_load_seconds", "Time to load the theme tagger at start-up.", multiprocess_mode="livemax"
)
INDEX_BUILD = Gauge(
    "upr_match_index_build_seconds", "Time to build the matching index at start-up.", multiprocess_mode="livemax"
)
WORKER_START = Gauge(
    "upr_worker_start_time_seconds", "When this worker process started (Unix time).", multiprocess_mode="liveall"
)
WORKER_REQUESTS = Gauge(
    "upr_worker_requests",
    "Requests this worker answered since it started (how evenly workers share the load).",
    multiprocess_mode="liveall",
)


def prepare_multiprocess_dir(folder: Path | None) -> Path:
    """Empty `folder` (or a new temporary one) for the workers' metric files, and name it in the environment.

    Called by `upr-match serve` before the workers start: files left by an earlier run would add
    its counts to this one's.
    """
    import tempfile

    if folder is None:
        folder = Path(tempfile.mkdtemp(prefix="upr-metrics-"))
    folder.mkdir(parents=True, exist_ok=True)
    for leftover in folder.glob("*.db"):
        leftover.unlink()
    os.environ[MULTIPROC_ENV] = str(folder)
    return folder


def remove_multiprocess_dir(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


def multiprocess_mode() -> bool:
    return bool(os.environ.get(MULTIPROC_ENV))


def worker_started() -> None:
    WORKER_START.set(time.time())


def worker_stopped() -> None:
    """Drop this worker's live gauges from the sums (its counters stay counted)."""
    if multiprocess_mode():
        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


def route_template(scope: Mapping[str, Any]) -> str:
    """The matched route's template with its mount prefix (`/v1/needs/{need_id}/matches`), or "unmatched".

    Templates, not paths, keep the number of series bounded.
    """
    route = scope.get("route")
    template = getattr(route, "path", None)
    if not isinstance(template, str):
        return UNMATCHED
    # An included router's route knows its own prefix only: put back the literal prefix it was mounted under.
    depth = len([part for part in template.split("/") if part])
    parts = [part for part in str(scope.get("path", "")).split("/") if part]
    prefix = parts[: max(0, len(parts) - depth)]
    return "/" + "/".join([*prefix, *[part for part in template.split("/") if part]])


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    REQUESTS.labels(method, route, str(status)).inc()
    REQUEST_SECONDS.labels(method, route).observe(seconds)
    WORKER_REQUESTS.inc()


@contextmanager
def timed_match(operation: str) -> Iterator[None]:
    """Time a match use case (`need`, `provider`, `text`)."""
    started = time.perf_counter()
    try:
        yield
    finally:
        MATCH_SECONDS.labels(operation).observe(time.perf_counter() - started)


_TRACKED: weakref.WeakSet[Any] = weakref.WeakSet()


def track_pool(engine: Any) -> None:
    """Count this engine's connections in use (checkout/checkin events) and its pool size (once per engine)."""
    from sqlalchemy import event

    if engine in _TRACKED:
        return
    _TRACKED.add(engine)
    size = getattr(engine.pool, "size", None)
    if callable(size):
        POOL_SIZE.inc(size())

    @event.listens_for(engine, "checkout")
    def _checkout(*_: Any) -> None:
        POOL_CHECKED_OUT.inc()

    @event.listens_for(engine, "checkin")
    def _checkin(*_: Any) -> None:
        POOL_CHECKED_OUT.dec()


def serve_separately(settings: Any, newest_seq: Callable[[], int | None]) -> None:
    """Answer the workers' metrics on METRICS_HOST:METRICS_PORT from this (the supervising) process.

    `newest_seq` reads the newest change-log row at each scrape (None when it cannot): the separate
    port has no request, so no database session to read it with.
    """
    from prometheus_client import start_http_server

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    registry.register(_NewestSeqWhenScraped(newest_seq))
    start_http_server(settings.METRICS_PORT, addr=settings.METRICS_HOST, registry=registry)


class _NewestSeqWhenScraped(Collector):
    """The newest change-log row, read by `newest_seq` at each scrape."""

    def __init__(self, newest_seq: Callable[[], int | None]) -> None:
        self.newest_seq = newest_seq

    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield from _NewestSeq(self.newest_seq()).collect()


class _NewestSeq(Collector):
    """The newest change-log row, read when scraped (the index lag is this minus the applied position)."""

    def __init__(self, newest: int | None) -> None:
        self.newest = newest

    def collect(self) -> Iterator[GaugeMetricFamily]:
        if self.newest is not None:
            yield GaugeMetricFamily(
                "upr_index_change_newest_seq", "Newest row of the change log the indexes follow.", value=self.newest
            )


def exposition(newest_seq: int | None = None) -> bytes:
    """Every series in the Prometheus text format: all workers' in multiprocess mode, else this process's."""
    registry = CollectorRegistry()
    if multiprocess_mode():
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        for collector in (REQUESTS, REQUEST_SECONDS, MATCH_SECONDS, INDEX_DOCUMENTS, INDEX_APPLIED):
            registry.register(collector)
        for collector in (POOL_CHECKED_OUT, POOL_SIZE, TAGGER_LOAD, INDEX_BUILD, WORKER_START, WORKER_REQUESTS):
            registry.register(collector)
    registry.register(_NewestSeq(newest_seq))
    return generate_latest(registry)


__all__ = [
    "CONTENT_TYPE",
    "REGISTRY",
    "exposition",
    "observe_request",
    "prepare_multiprocess_dir",
    "route_template",
    "timed_match",
    "track_pool",
]
