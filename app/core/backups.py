"""Consistent copies of the embedded SQLite database, and restoring one (PostgreSQL: pg_dump/pg_restore).

`backup` uses SQLite's online backup API in a single step: it reads one consistent snapshot
while the service keeps reading and writing (WAL mode lets writers go on), writes it to a
temporary file beside the target, checks it, and renames it into place, so a target path
only ever holds a complete, checked copy. `restore` refuses any file that is not an SQLite
database passing `PRAGMA integrity_check` and `foreign_key_check`; it keeps a copy of the
current database beside it before replacing its contents, again through the backup API.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from app.core.files import private_dir, private_file

SQLITE_HEADER = b"SQLite format 3\x00"


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why in plain words."""


@dataclass(frozen=True, slots=True)
class BackupResult:
    path: Path
    bytes: int
    tables: int


def sqlite_path(database_url: str) -> Path:
    """The database file of a SQLite URL; a BackupError for any other database."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        raise BackupError(
            f"backup and restore copy SQLite files; this database is {url.get_backend_name()}: "
            "use pg_dump and pg_restore (see docs/operations.md, 'Backups')"
        )
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database has no file to back up")
    return Path(url.database)


def check(path: Path) -> int:
    """Check that `path` is a sound SQLite database; return its number of tables, or raise BackupError."""
    if not path.is_file():
        raise BackupError(f"{path} does not exist or is not a file")
    with path.open("rb") as fh:
        if fh.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
            raise BackupError(f"{path} is not an SQLite database")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            problems = [row[0] for row in conn.execute("PRAGMA integrity_check")]
            if problems != ["ok"]:
                raise BackupError(f"{path} fails integrity_check: {'; '.join(problems[:5])}")
            if conn.execute("PRAGMA foreign_key_check").fetchone() is not None:
                raise BackupError(f"{path} fails foreign_key_check: some rows point at rows that do not exist")
            tables = conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} cannot be read as a database: {exc}") from exc
    if not tables:
        raise BackupError(f"{path} holds no tables")
    return int(tables)


def _copy(source: sqlite3.Connection, target_path: Path) -> None:
    private_file(target_path)  # a copy of the database is as private as the database
    target = sqlite3.connect(target_path)
    try:
        source.backup(target)  # one step: a single consistent snapshot of the source
        target.execute("PRAGMA journal_mode=DELETE")  # a self-contained file, no -wal beside it
    finally:
        target.close()
    with target_path.open("rb") as fh:
        os.fsync(fh.fileno())


def backup(database_url: str, target: Path, *, overwrite: bool = False) -> BackupResult:
    """Copy the live database to `target` consistently, while the service runs."""
    source_path = sqlite_path(database_url)
    if not source_path.is_file():
        raise BackupError(f"the database file {source_path} does not exist")
    if target.exists() and not overwrite:
        raise BackupError(f"{target} already exists; choose another path or pass --overwrite")
    if target.resolve() == source_path.resolve():
        raise BackupError("the backup cannot be the database itself")
    private_dir(target.parent)
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    partial.unlink(missing_ok=True)
    source = sqlite3.connect(source_path, timeout=30)
    try:
        _copy(source, partial)
        tables = check(partial)
        os.replace(partial, target)
    finally:
        source.close()
        partial.unlink(missing_ok=True)
    return BackupResult(path=target, bytes=target.stat().st_size, tables=tables)


def restore(database_url: str, source: Path) -> Path | None:
    """Replace the database's contents with a checked backup; return where the previous contents were kept.

    Stop the service first: running workers hold indexes built from the old contents.
    """
    target_path = sqlite_path(database_url)
    check(source)
    private_file(target_path)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    kept = target_path.with_name(f"{target_path.name}.before-restore-{stamp}")
    had_contents = target_path.is_file() and target_path.stat().st_size > 0
    target = sqlite3.connect(target_path, timeout=30)
    try:
        if had_contents:
            _copy(target, kept)
        backup_conn = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            backup_conn.backup(target)
        finally:
            backup_conn.close()
        target.execute("PRAGMA journal_mode=WAL")
    finally:
        target.close()
    return kept if had_contents else None
