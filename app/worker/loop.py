"""The worker (`upr-match worker`): reads the outbox, evaluates alerts, delivers webhooks, sends e-mail.

One loop: fan out a batch of events (`app.worker.outbox`), then record the webhook attempts
that finished and start the deliveries that are due (`app.worker.delivery`, sent in the
background by `app.worker.dispatch`, `WORKER_CONCURRENCY` at once), then send the
e-mails that are due (`app.worker.smtp`, with `SMTP_URL`), then score again a batch of the
open needs whose stored best score a provider change may have outdated
(`app.services.analytics.scores.refresh_stale`, for the unserved-needs measure); sleep
`WORKER_POLL_S` when there was nothing to do. Every claim is a short transaction; nothing is
held while sending, and no webhook endpoint holds the loop. Every `SYNC_INTERVAL_HOURS` (0: never)
it syncs the recommendations from OHCHR's export (`app.services.sync`) in a thread of its own, so
the loop goes on meanwhile; the sync lease lets one replica's worker sync at a time. Between
rounds it records a heartbeat (`app.services.heartbeats`, at most every `HEARTBEAT_EVERY_S`), which
`/health/ready` reads to tell when no worker runs.

It builds its own matching index, exactly as each server worker does (`MatchIndex` with the
same tagger and settings), so alerts rank with the service's ranking and the write path never
waits for it.

On PostgreSQL several workers may run (one per replica): claims use `FOR UPDATE SKIP LOCKED`
and leases. On SQLite one worker runs: it holds an exclusive lock on `<database>.worker.lock`
(released by the system even on kill -9), and a second one exits saying so. (A second one
would be harmless anyway: SQLite's single writer serialises the claims.)
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session

from app.core.config import Settings, load_secret_key
from app.core.db import create_db_engine, intending_to_write
from app.core.files import private_dir
from app.core.secret_box import secret_box
from app.match_index.index import MatchIndex
from app.models.common import utcnow
from app.services import heartbeats
from app.services import sync as sync_service
from app.services import themes as theme_service
from app.services.analytics import scores as best_scores
from app.worker import delivery, outbox, smtp
from app.worker.dispatch import Dispatcher
from matching.schemes import MultiSchemeTagger

logger = logging.getLogger("app.worker")

#: How long the worker rests between searches for outdated best scores when it found none to spare.
SCORES_EVERY_S = 30.0

#: The longest between two heartbeats (`upr-match serve` and /health/ready read them).
HEARTBEAT_EVERY_S = 15.0

#: How often the worker asks the database whether a scheduled sync is due.
SYNC_CHECK_EVERY_S = 300.0


class WorkerAlreadyRunning(RuntimeError):
    """Another worker holds this SQLite database's worker lock."""


@contextlib.contextmanager
def sqlite_worker_lock(settings: Settings) -> Iterator[None]:
    """On SQLite, hold `<database>.worker.lock` exclusively for the worker's life (no-op on PostgreSQL)."""
    url = make_url(settings.DATABASE_URL)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        yield
        return
    path = Path(url.database + ".worker.lock")
    private_dir(path.parent)
    handle: IO[str] = open(path, "a+", encoding="utf-8")  # noqa: SIM115 (held for the worker's life)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise WorkerAlreadyRunning(
                f"another worker is already running on this SQLite database ({holder}); "
                "on SQLite one worker runs at a time"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} on {socket.gethostname()}")
        handle.flush()
        yield
    finally:
        handle.close()


@dataclass
class Counts:
    events: int = 0
    deliveries: int = 0
    emails: int = 0
    scores: int = 0

    @property
    def total(self) -> int:
        return self.events + self.deliveries + self.emails + self.scores


@dataclass
class Worker:
    """One worker process's loop; `cycle()` does one round of each job (the tests call it directly)."""

    settings: Settings
    engine: Engine | None = None
    resolver: delivery.Resolver = delivery.resolve
    worker_id: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}")

    def __post_init__(self) -> None:
        self._owns_engine = self.engine is None
        self.db: Engine = self.engine or create_db_engine(self.settings)
        self.index = MatchIndex(self.settings, theme_service.load(self.settings))
        self.dispatcher = Dispatcher(connections=self.settings.WORKER_CONCURRENCY)
        self.skip: set[int] = set()
        self._scores_rest_until = 0.0
        self.secret = load_secret_key(self.settings) if self.settings.SMTP_URL else b""
        self.box = secret_box(self.settings)
        self.started_at = utcnow()
        self._next_beat = 0.0
        self._next_sync_check = 0.0
        self.sync_thread: threading.Thread | None = None

    def close(self) -> None:
        try:
            self.dispatcher.wait(self.settings.WEBHOOK_TIMEOUT_S + 1, every=True)
            self._record(self.dispatcher.finished())
        except Exception:
            # Unrecorded claims lapse and the messages go out again: at least once, never lost.
            logger.exception("the last webhook attempts could not be recorded")
        self.dispatcher.close()
        if self._owns_engine:
            self.db.dispose()

    def _session(self) -> Session:
        return Session(self.db)

    def process_events(self, limit: int = 50) -> int:
        with intending_to_write(), self._session() as session:
            return outbox.process_batch(
                session,
                self.index,
                limit=limit,
                smtp=bool(self.settings.SMTP_URL),
                public_url=self.settings.PUBLIC_URL,
                skip=self.skip,
            )

    def deliver(self, limit: int | None = None, *, wait: bool = True) -> int:
        """Record the attempts that finished, then start the due deliveries (at most `limit`).

        With `wait`, wait for every delivery in flight (each ends by its deadline) and record
        it; the loop does not wait: it records them on its next rounds. Returns how many
        attempts were recorded, plus those started when not waiting.
        """
        settings = self.settings
        recorded = self._record(self.dispatcher.finished())
        started = 0
        room = min(limit or self.dispatcher.free(), self.dispatcher.free())
        if room:
            with intending_to_write(), self._session() as session:
                claimed = delivery.claim(
                    session,
                    worker_id=self.worker_id,
                    lease_s=settings.WORKER_LEASE_S,
                    limit=room,
                    box=self.box,
                    per_endpoint=self.dispatcher.per_endpoint,
                    in_flight=self.dispatcher.by_endpoint(),
                )
            for item in claimed:
                self.dispatcher.submit(
                    item,
                    timeout_s=settings.WEBHOOK_TIMEOUT_S,
                    allow_private=settings.WEBHOOK_ALLOW_PRIVATE,
                    resolver=self.resolver,
                )
            started = len(claimed)
        if not wait:
            return recorded + started
        self.dispatcher.wait(settings.WEBHOOK_TIMEOUT_S + 1, every=True)
        return recorded + self._record(self.dispatcher.finished())

    def _record(self, outcomes: list[delivery.Outcome]) -> int:
        if not outcomes:
            return 0
        settings = self.settings
        with intending_to_write(), self._session() as session:
            delivery.record(
                session,
                worker_id=self.worker_id,
                outcomes=outcomes,
                schedule=settings.WEBHOOK_RETRY_SCHEDULE,
                disable_after_s=settings.WEBHOOK_DISABLE_AFTER_S,
                smtp=bool(settings.SMTP_URL),
            )
        return len(outcomes)

    def send_mail(self, limit: int = 50) -> int:
        settings = self.settings
        if not settings.SMTP_URL:
            return 0
        with intending_to_write(), self._session() as session:
            claimed = smtp.claim(session, worker_id=self.worker_id, lease_s=settings.WORKER_LEASE_S, limit=limit)
        if not claimed:
            return 0
        results = smtp.send(
            smtp_url=settings.SMTP_URL,
            sender=settings.SMTP_FROM,
            public_url=settings.PUBLIC_URL,
            secret=self.secret,
            messages=claimed,
        )
        with intending_to_write(), self._session() as session:
            smtp.record(session, worker_id=self.worker_id, results=results)
        return len(results)

    def refresh_scores(self, limit: int = 20) -> int:
        """Score again a batch of open needs whose best score a provider change may have outdated.

        The search for them reads every stored score, so after a round that found fewer than a
        batch it rests `SCORES_EVERY_S`: a provider change reaches the measure within about that.
        """
        if time.monotonic() < self._scores_rest_until:
            return 0
        with intending_to_write(), self._session() as session:
            done = best_scores.refresh_stale(session, self.index, limit=limit)
        if done < limit:
            self._scores_rest_until = time.monotonic() + SCORES_EVERY_S
        return done

    def cycle(self, *, wait: bool = True) -> Counts:
        """One round: a batch of events, the due deliveries, the due e-mails, a batch of outdated best scores.

        With `wait`, the round ends when its deliveries have; the loop does not wait for them.
        """
        return Counts(
            events=self.process_events(),
            deliveries=self.deliver(wait=wait),
            emails=self.send_mail(),
            scores=self.refresh_scores(),
        )

    def heartbeat(self) -> None:
        """Tell the readiness probe this worker is alive, at most every `heartbeat_every` seconds."""
        now = time.monotonic()
        if now < self._next_beat:
            return
        self._next_beat = now + self.heartbeat_every
        try:
            heartbeats.beat(self.db, worker_id=self.worker_id, started_at=self.started_at)
        except Exception:  # the round will say why the database is unreachable; never stop for this
            logger.warning("could not record the worker heartbeat", exc_info=True)

    def maybe_sync(self) -> bool:
        """Start a scheduled sync in a thread when one is due (none started within SYNC_INTERVAL_HOURS)."""
        hours = self.settings.SYNC_INTERVAL_HOURS
        now = time.monotonic()
        if hours <= 0 or now < self._next_sync_check or (self.sync_thread and self.sync_thread.is_alive()):
            return False
        self._next_sync_check = now + min(SYNC_CHECK_EVERY_S, hours * 3600)
        try:
            with self._session() as session:
                due = sync_service.sync_due(session, interval_hours=hours)
        except Exception:
            logger.warning("could not tell whether a sync is due", exc_info=True)
            return False
        if due:
            self.sync_thread = threading.Thread(target=self.sync_now, name="sync", daemon=True)
            self.sync_thread.start()
        return due

    def sync_now(self) -> None:
        """Sync every language of SYNC_LANGUAGES once; log what each did (a failure changes nothing)."""
        loaded: list[MultiSchemeTagger | None] = []

        def tagger() -> MultiSchemeTagger | None:
            if not loaded:
                loaded.append(theme_service.load(self.settings))
            return loaded[0]

        for language in self.settings.SYNC_LANGUAGES:
            try:
                with intending_to_write(), self._session() as session:
                    result = sync_service.sync_export(
                        session, self.settings, language=language, tagger=tagger, holder=self.worker_id[:128]
                    )
            except sync_service.SyncError as exc:
                logger.warning("sync of the %s export did nothing: %s", language, exc.reason)
                continue
            except Exception:
                logger.exception("sync of the %s export failed", language)
                continue
            logger.info("sync of the %s export: %s", language, "; ".join(sync_service.describe(result)))

    @property
    def heartbeat_every(self) -> float:
        return min(HEARTBEAT_EVERY_S, self.settings.WORKER_STALE_AFTER_S / 4)

    def run(self, stop: threading.Event) -> None:
        """Cycle until `stop` is set; sleep `WORKER_POLL_S` after a round with nothing to do."""
        logger.info("worker %s started (%s)", self.worker_id, self.db.dialect.name)
        while not stop.is_set():
            self.heartbeat()
            self.maybe_sync()
            try:
                counts = self.cycle(wait=False)
            except Exception:
                # The database may be down or busy: say so, wait, try again; nothing claimed is lost.
                logger.exception("worker round failed; retrying in %.0f s", self.settings.WORKER_POLL_S)
                stop.wait(self.settings.WORKER_POLL_S)
                continue
            if counts.total:
                logger.info(
                    "processed %d events, %d deliveries, %d e-mails, %d best scores",
                    counts.events,
                    counts.deliveries,
                    counts.emails,
                    counts.scores,
                )
            elif self.dispatcher.free() < self.dispatcher.connections:
                self.dispatcher.wait(self.settings.WORKER_POLL_S)  # record an attempt as soon as it ends
            else:
                stop.wait(self.settings.WORKER_POLL_S)
        logger.info("worker %s stopped", self.worker_id)
