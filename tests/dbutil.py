"""Test database provisioning: a fresh SQLite file, or a fresh PostgreSQL database.

`.ci/run` points `DATABASE_URL` at a loopback PostgreSQL server; each call of
`fresh_database_url` then creates a new, uniquely named database on it.
Without `DATABASE_URL` (or with a SQLite one) a file in a temp folder is used.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
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
