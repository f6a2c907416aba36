"""Test database provisioning: a fresh SQLite file, or a fresh PostgreSQL database.

`.ci/run` points `DATABASE_URL` at a loopback PostgreSQL server; each call of
`fresh_database_url` then creates a new, uniquely named database on it.
Without `DATABASE_URL` (or with a SQLite one) a file in a temp folder is used.

The migrations run once per test process, into a template (a SQLite file, or a
PostgreSQL database on the server of `DATABASE_URL`); an empty database brought to
head is then a copy of it (`copy_migrated_template`): the same schema, triggers and
full-text tables, without running the 16 migrations again for every test that wants one.
Each xdist worker is its own process, so each has its own template and databases.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sqlite3
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import URL, make_url


def backend() -> str:
    url = os.environ.get("DATABASE_URL", "")
    return "postgresql" if url.startswith(("postgresql", "postgres://")) else "sqlite"


def _server_url() -> URL:
    base = make_url(os.environ["DATABASE_URL"].replace("postgres://", "postgresql+psycopg://", 1))
    return base.set(drivername="postgresql+psycopg") if base.drivername == "postgresql" else base


def new_database_url(tmp_dir: Path) -> str:
    """The URL of a database that does not exist yet (create it with `create_database`)."""
    if backend() == "sqlite":
        return f"sqlite:///{tmp_dir / f'test-{uuid.uuid4().hex[:8]}.db'}"
    name = f"upr_match_test_{uuid.uuid4().hex[:10]}"
    return _server_url().set(database=name).render_as_string(hide_password=False)


def create_database(url: str) -> None:
    if url.startswith("sqlite"):
        return
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


def drop_database(url: str) -> None:
    if url.startswith("sqlite"):
        return
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
    admin.dispose()


@contextmanager
def fresh_database_url(tmp_dir: Path) -> Iterator[str]:
    """Yield the URL of a new empty database, dropped (or left in tmp) afterwards."""
    url = new_database_url(tmp_dir)
    create_database(url)
    try:
        yield url
    finally:
        drop_database(url)


_templates: dict[str, str] = {}


def _sqlite_path(url: str) -> Path:
    return Path(make_url(url).database or "")


def _same_server(a: str, b: str) -> bool:
    ua, ub = make_url(a), make_url(b)
    return (ua.host, ua.port) == (ub.host, ub.port)


def _is_empty(url: str) -> bool:
    if url.startswith("sqlite") and not _sqlite_path(url).exists():
        return True
    engine = create_engine(url)
    try:
        return not inspect(engine).get_table_names()
    finally:
        engine.dispose()


def _template(kind: str, run_migrations: Callable[[str], None]) -> str:
    """This process's migrated template database of `kind` (built on first use)."""
    if kind not in _templates:
        if kind == "sqlite":
            folder = Path(tempfile.mkdtemp(prefix="upr-match-template-"))
            atexit.register(shutil.rmtree, folder, True)
            url = f"sqlite:///{folder / 'template.db'}"
        else:
            url = (
                _server_url()
                .set(database=f"upr_match_template_{uuid.uuid4().hex[:10]}")
                .render_as_string(hide_password=False)
            )
            create_database(url)
        run_migrations(url)
        _templates[kind] = url
    return _templates[kind]


def drop_templates() -> None:
    """Drop the PostgreSQL template (the SQLite one goes with its temp folder)."""
    for url in _templates.values():
        drop_database(url)  # nothing to do for SQLite
    _templates.clear()


def copy_migrated_template(url: str, run_migrations: Callable[[str], None]) -> bool:
    """Make the empty database at `url` a copy of the migrated template; False (nothing done) when
    it cannot be one: a database that already holds tables, or a PostgreSQL server other than
    the one of `DATABASE_URL` (such a database is migrated by the caller)."""
    sqlite = url.startswith("sqlite")
    if sqlite and not _sqlite_path(url).parent.is_dir():
        return False  # the service makes the folder (owner-only) when it migrates: leave that to it
    if not sqlite and (backend() != "postgresql" or not _same_server(url, os.environ["DATABASE_URL"])):
        return False
    if not _is_empty(url):
        return False
    template = _template("sqlite" if sqlite else "postgresql", run_migrations)
    if sqlite:
        # The backup API copies a consistent image whatever the journal mode (WAL included).
        source, target = sqlite3.connect(_sqlite_path(template)), sqlite3.connect(_sqlite_path(url))
        with closing(source), closing(target):
            source.backup(target)
        return True
    name = make_url(url)
    admin = create_engine(name.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name.database}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name.database}" TEMPLATE "{make_url(template).database}"'))
    finally:
        admin.dispose()
    return True
