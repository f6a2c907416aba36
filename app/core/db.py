"""Database engine factory, SQLite pragmas and the command session (a request's is `app.http.sessions`).

SQLite is the zero-set-up default; PostgreSQL is used when `DATABASE_URL`
says so. On SQLite every pooled connection is configured for durability and
concurrency (WAL, foreign keys, busy timeout), and transactions opened while
handling a write request start with `BEGIN IMMEDIATE`, so a read-then-write
transaction can never fail half-way with SQLITE_BUSY: it waits its turn instead.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlmodel import Session, create_engine

from app.core.config import Settings
from app.core.files import private_file

SQLITE_BUSY_TIMEOUT_MS = 10_000

# True while the current request or command intends to write (set by middleware / CLI).
write_intent: ContextVar[bool] = ContextVar("write_intent", default=False)


@contextlib.contextmanager
def intending_to_write() -> Iterator[None]:
    """Mark the enclosed code as a writer, so SQLite transactions begin IMMEDIATE."""
    token = write_intent.set(True)
    try:
        yield
    finally:
        write_intent.reset(token)


def create_db_engine(settings: Settings, **overrides: object) -> Engine:
    """Build the engine for `settings.DATABASE_URL`, configured for this backend."""
    url = make_url(settings.DATABASE_URL)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(settings, **overrides)
    connect_args: dict[str, object] = {
        "connect_timeout": settings.DB_CONNECT_TIMEOUT_S,
        # A slow query must not hold a worker forever; the API turns the cancel into a 503.
        "options": f"-c statement_timeout={settings.DB_STATEMENT_TIMEOUT_MS}",
    }
    kwargs: dict[str, object] = {
        "pool_pre_ping": True,
        "pool_size": settings.DB_POOL_SIZE,
        "max_overflow": settings.DB_POOL_SIZE,
        "pool_timeout": 5,
        "connect_args": connect_args,
    }
    kwargs.update(overrides)
    return create_engine(settings.DATABASE_URL, **kwargs)


def _sqlite_engine(settings: Settings, **overrides: object) -> Engine:
    url = make_url(settings.DATABASE_URL)
    if url.database and url.database != ":memory:" and not url.database.startswith("file:"):
        # Owner-only before SQLite creates it; its -wal and -shm files take the same mode.
        private_file(Path(url.database))
    kwargs: dict[str, object] = {
        "connect_args": {"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        "pool_size": settings.DB_POOL_SIZE,
        "max_overflow": settings.DB_POOL_SIZE * 2,
        "pool_timeout": 10,
    }
    kwargs.update(overrides)
    engine = create_engine(settings.DATABASE_URL, **kwargs)
    synchronous = settings.SQLITE_SYNCHRONOUS

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        # Take transaction control away from the sqlite3 module so BEGIN is ours to emit.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write_intent.get() else "BEGIN")

    return engine


@contextlib.contextmanager
def command_session(settings: Settings | None = None) -> Iterator[Session]:
    """A session for a command line command that writes (SQLite: BEGIN IMMEDIATE), on its own engine."""
    from app.core.config import get_settings

    engine = create_db_engine(settings or get_settings())
    try:
        with intending_to_write(), Session(engine) as session:
            yield session
    finally:
        engine.dispose()
