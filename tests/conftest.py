"""Fixtures: a migrated test database (SQLite or PostgreSQL), sessions, an app client.

The schema is built once per test session by running the Alembic migrations
(never `create_all`), and every table is emptied before each database test, so
tests may commit freely and run threads against the same database.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, SQLModel
from typer.testing import CliRunner, Result

from app.commands.server import alembic_config
from app.core.config import Settings, get_settings
from app.core.db import create_db_engine
from tests.apputil import app_for
from tests.dbutil import copy_migrated_template, drop_templates, fresh_database_url
from tests.live import free_port

DB_FIXTURES = {"db_url", "engine", "session", "client", "app", "settings"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test that touches the database, so .ci/run can rerun them on PostgreSQL."""
    for item in items:
        if DB_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.db)


def migrate(url: str, revision: str = "head") -> None:
    """Bring the database at `url` to `revision`.

    An empty database brought to head becomes a copy of a template migrated once per test
    process (tests/dbutil.py); any other runs the project's migrations against `url`.
    """
    if revision == "head" and copy_migrated_template(url, run_migrations):
        return
    run_migrations(url, revision)


def run_migrations(url: str, revision: str = "head") -> None:
    """Run the project's migrations against `url`."""
    get_settings.cache_clear()
    mp = pytest.MonkeyPatch()
    mp.setenv("DATABASE_URL", url)
    try:
        command.upgrade(alembic_config(), revision)
    finally:
        mp.undo()
        get_settings.cache_clear()


def run_cli(args: list[str], *, database_url: str, env: dict[str, str] | None = None) -> Result:
    """Invoke `upr-match ARGS` in-process against `database_url` (settings read afresh, then forgotten)."""
    from app.cli import cli

    get_settings.cache_clear()
    try:
        return CliRunner().invoke(cli, args, env={"DATABASE_URL": database_url, **(env or {})})
    finally:
        get_settings.cache_clear()


@pytest.fixture(scope="session", autouse=True)
def _migrated_templates() -> Iterator[None]:
    yield
    drop_templates()


@pytest.fixture(scope="session")
def db_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with fresh_database_url(tmp_path_factory.mktemp("db")) as url:
        migrate(url)
        yield url


@pytest.fixture(scope="session")
def settings(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        DATABASE_URL=db_url,
        ENVIRONMENT="test",
        MODEL_DIR=tmp_path_factory.mktemp("models"),
        # Limits high enough for fuzzing; tests of the limits build their own app.
        RATE_LIMIT_PER_MINUTE=1_000_000,
        WRITE_QUOTA_PER_HOUR=1_000_000,
        AUTH_FAILURES_PER_MINUTE=1_000_000,
        # Tests that rank recommendations read them when they ask; no thread reads them behind a test's back.
        RELATED_WARM_AT_START=False,
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture(scope="session")
def engine(settings: Settings) -> Iterator[Engine]:
    engine = create_db_engine(settings)
    yield engine
    engine.dispose()


def _written_tables(conn: Connection, tables: list[str]) -> list[str]:
    """The tables holding rows, in `tables`' order (one query)."""
    probe = " UNION ALL ".join(f"SELECT '{t}' WHERE EXISTS (SELECT 1 FROM \"{t}\")" for t in tables)
    written = {row[0] for row in conn.execute(text(probe))}
    return [t for t in tables if t in written]


def _used_sequences(conn: Connection) -> list[tuple[str, str]]:
    """PostgreSQL: the sequences handed out since created or restarted (identity and serial columns)."""
    query = text("SELECT schemaname, sequencename FROM pg_sequences WHERE last_value IS NOT NULL")
    return [(schema, name) for schema, name in conn.execute(query)]


def _empty_all_tables(engine: Engine) -> None:
    """Empty every table a test left rows in, and start the sequences again, as a fresh database.

    A probe first finds the tables holding rows (most tests leave a few, many none), so the
    statements and the commit are paid only where there is something to undo."""
    # The data version stays: it only grows, so an answer a worker kept from an earlier test (the app is
    # shared) can never be taken for one of this test's data.
    tables = [t.name for t in reversed(SQLModel.metadata.sorted_tables) if t.name != "data_version"]
    audited = False
    with engine.begin() as conn:
        tables = _written_tables(conn, tables)
        if engine.dialect.name == "postgresql":
            # DELETE costs far less than TRUNCATE on a few rows (no new files to create and sync). The
            # append-only audit trail refuses DELETE; TRUNCATE fires no DELETE trigger, so it empties it.
            for name in tables:
                conn.execute(text(f'TRUNCATE "{name}" CASCADE' if name == "audit_event" else f'DELETE FROM "{name}"'))
            for schema, name in _used_sequences(conn):
                conn.execute(text(f'ALTER SEQUENCE "{schema}"."{name}" RESTART'))
        elif tables:
            # The audit trail's triggers refuse DELETE: lift them for this transaction only (DDL is transactional).
            audited = "audit_event" in tables
            guards = conn.execute(
                text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_event'")
            ).all()
            for name, _ in guards if audited else ():
                conn.execute(text(f'DROP TRIGGER "{name}"'))
            for name in tables:
                conn.execute(text(f'DELETE FROM "{name}"'))
            for _, sql in guards if audited else ():
                conn.execute(text(sql))
    if engine.dialect.name == "sqlite" and audited:
        # Pooled connections that saw the old schema can fail on the full-text index ("no such
        # table: recommendation") after that DDL; start from fresh ones.
        engine.dispose()


@pytest.fixture(autouse=True)
def _clean_database(request: pytest.FixtureRequest) -> None:
    if DB_FIXTURES & set(request.fixturenames):
        _empty_all_tables(request.getfixturevalue("engine"))


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine) as session:
        yield session


@pytest.fixture
def app(settings: Settings, engine: Engine):  # type: ignore[no-untyped-def]
    """A new application on the test database (its routes' set-up shared, see tests/apputil.py)."""
    application = app_for(settings, engine)
    yield application
    application.dependency_overrides.clear()


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def tmp_dir(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """A redis-server of its own on a free loopback port (Debian's), for shared rate limits."""
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed (Debian: apt-get install redis-server)")
    port = free_port()
    process = subprocess.Popen(
        [
            server,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(10)
