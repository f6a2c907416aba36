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
from sqlalchemy.engine import make_url


def backend() -> str:
    url = os.environ.get("DATABASE_URL", "")
    return "postgresql" if url.startswith(("postgresql", "postgres://")) else "sqlite"


@contextmanager
def fresh_database_url(tmp_dir: Path) -> Iterator[str]:
    """Yield the URL of a new empty database, dropped (or left in tmp) afterwards."""
    if backend() == "sqlite":
        yield f"sqlite:///{tmp_dir / f'test-{uuid.uuid4().hex[:8]}.db'}"
        return
    base = make_url(os.environ["DATABASE_URL"].replace("postgres://", "postgresql+psycopg://", 1))
    if base.drivername == "postgresql":
        base = base.set(drivername="postgresql+psycopg")
    name = f"upr_match_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
