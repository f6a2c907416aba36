"""Connection settings that durability and concurrency depend on, read from pooled connections."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

pytestmark = pytest.mark.db


def test_sqlite_pragmas_on_every_pooled_connection(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    connections = [engine.connect() for _ in range(3)]  # three distinct pooled connections
    try:
        for conn in connections:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
    finally:
        for conn in connections:
            conn.close()


def test_postgres_durability_settings(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    with engine.connect() as conn:
        assert conn.execute(text("SHOW synchronous_commit")).scalar() == "on"
        assert conn.execute(text("SHOW fsync")).scalar() == "on"
        assert conn.execute(text("SHOW statement_timeout")).scalar() in {"5s", "5000ms"}
