"""The all-or-nothing bulk upsert: the second pass of every import.

`run_import` validates the whole source first (`core.validate`); when no row is
bad, the spooled records are read back and written in batches of bulk statements
inside ONE transaction, so a failure or a kill -9 part-way leaves the database
exactly as it was. Upsert is by id; a record whose content hash is unchanged is
not written, so re-importing a file changes nothing.

In the same transaction, `link` (given by the caller) relinks the copies of the
same recommendation across sources among the (State, session) groups the import
changed, one `import_run` row records what was done, and `audit` (the caller's too)
writes the audit row.
"""

from __future__ import annotations

import contextlib
import marshal
import tempfile
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from typing import IO

from sqlalchemy import Table, delete, func, insert, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from app.core.jsontypes import JsonObject
from app.importing.core import ImportSource, ProgressCallback, Record, Validation, rejection, validate
from app.models.common import table_of, utcnow
from app.models.import_run import ImportRun
from app.models.recommendation import (
    ImportSummary,
    Recommendation,
    RecommendationAffectedGroup,
    RecommendationRecommender,
    RecommendationSdg,
    RecommendationSdgTarget,
    RecommendationTheme,
)
from app.reference.themes import theme_index_values

IMPORT_CACHE_KIB = 64 * 1024
IMPORT_STATEMENT_TIMEOUT_MS = 600_000
ANALYZE_POSTGRES = (
    "ANALYZE recommendation, recommendation_theme, recommendation_recommender, recommendation_sdg, "
    "recommendation_sdg_target, recommendation_affected_group"
)
# One index table per list field: (table, its value column, the record field it indexes). The theme
# index holds the controlled codes of the record's labels (`app.reference.themes.theme_index_values`).
INDEX_TABLES: tuple[tuple[Table, str, str], ...] = (
    (table_of(RecommendationTheme), "theme", "themes"),
    (table_of(RecommendationRecommender), "state", "recommending_states"),
    (table_of(RecommendationSdg), "sdg", "sdgs"),
    (table_of(RecommendationSdgTarget), "target", "sdg_targets"),
    (table_of(RecommendationAffectedGroup), "affected_group", "affected_groups"),
)
# Linking is the caller's: (session, the (State, session) groups written, progress) -> records now linked.
Group = tuple[str, int]
LinkHook = Callable[[Session, set[Group], ProgressCallback | None], int]
# The audit trail is the caller's too: (session, what was written) -> None, called in the import's transaction.
AuditHook = Callable[[Session, JsonObject], None]
# A caller's last step in the import's transaction, given the ids of every record in the file (a sync
# marks the records gone from the export withdrawn): (session, ids) -> None.
FinishHook = Callable[[Session, set[str]], None]


def _dialect_insert(session: Session, table: Table) -> postgresql.Insert | sqlite.Insert:
    """An INSERT into ``table`` in the session's dialect (both can upsert)."""
    return pg_insert(table) if session.get_bind().dialect.name == "postgresql" else sqlite_insert(table)


def _batches(spool: IO[bytes]) -> Iterator[list[Record]]:
    """The spooled records (each id once, in file order), in batches of at most core.BATCH_SIZE."""
    spool.seek(0)
    while True:
        try:
            batch: list[Record] = marshal.load(spool)
        except EOFError:
            break
        yield batch


def _existing_hashes(session: Session, ids: Iterable[str]) -> dict[str, str]:
    table = table_of(Recommendation)
    rows = session.execute(select(table.c.id, table.c.content_hash).where(table.c.id.in_(list(ids))))
    return {row[0]: row[1] for row in rows}


def _write_batch(
    session: Session, records: list[Record], next_seq: int, *, update_ids: set[str], hashes: dict[str, str]
) -> int:
    """Upsert one batch (new and changed records) and rebuild their index-table rows."""
    table = table_of(Recommendation)
    now = utcnow()
    values = []
    for record in records:
        row = dict(record)
        published = record["publication_date"]
        row["publication_date"] = date.fromisoformat(published) if published else None
        row["content_hash"] = hashes[record["id"]]
        row["created_at"] = now
        row["updated_at"] = now
        if record["id"] in update_ids:
            row["seq"] = None  # the conflict branch keeps the stored seq
        else:
            row["seq"] = next_seq
            next_seq += 1
        values.append(row)
    stmt = _dialect_insert(session, table)
    # Links are recomputed for the groups this import touches, after the writes.
    # Withdrawal is the sync's to set and clear (`app.services.sync`), never an import's.
    keep = {"id", "seq", "created_at", "canonical_id", "link_method", "withdrawn_at"}
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.id],
        set_={c.name: stmt.excluded[c.name] for c in table.columns if c.name not in keep},
    )
    session.execute(stmt, values)

    if update_ids:
        ids = list(update_ids)
        for index_table, _, _ in INDEX_TABLES:
            session.execute(delete(index_table).where(index_table.c.recommendation_id.in_(ids)))
    for index_table, column, name in INDEX_TABLES:
        rows = [{"recommendation_id": r["id"], column: value} for r in records for value in _indexed(r, name)]
        if rows:
            session.execute(insert(index_table), rows)
    return next_seq


def _indexed(record: Record, name: str) -> list[object]:
    values: list[object] = list(theme_index_values(record[name])) if name == "themes" else record[name]
    return values


def run_import(
    session: Session,
    source: ImportSource,
    *,
    dry_run: bool = False,
    max_rows: int,
    progress: ProgressCallback | None = None,
    link: LinkHook | None = None,
    audit: AuditHook | None = None,
    finish: FinishHook | None = None,
) -> ImportSummary:
    """Validate the whole source, then upsert it in one transaction (or raise a 422 listing every bad row)."""
    # Release any transaction the caller's reads opened, so no lock is held while validating.
    if session.in_transaction():
        session.commit()
    with tempfile.TemporaryFile() as spool:
        state = validate(source, max_rows, progress, spool)
        if state.total_errors:
            raise rejection(state)
        return _write(
            session,
            source.format,
            state,
            spool,
            dry_run=dry_run,
            progress=progress,
            hooks=(link, audit, finish),
        )


def _write(
    session: Session,
    fmt: str,
    state: Validation,
    spool: IO[bytes],
    *,
    dry_run: bool,
    progress: ProgressCallback | None,
    hooks: tuple[LinkHook | None, AuditHook | None, FinishHook | None],
) -> ImportSummary:
    """Upsert the spooled records in one transaction (only count them for a dry run)."""
    link, audit, finish = hooks
    records = len(state.hashes)
    state.first_line.clear()
    inserted = updated = unchanged = linked = 0
    touched: set[Group] = set()
    sqlite = session.get_bind().dialect.name == "sqlite"
    try:
        if not sqlite:
            # The API's per-statement timeout guards request queries; one bulk batch or the
            # final ANALYZE of a large import may take longer on a busy server.
            session.execute(text(f"SET LOCAL statement_timeout = {IMPORT_STATEMENT_TIMEOUT_MS}"))
        if not dry_run and not sqlite:
            # Serialise imports (seq numbering) without blocking readers.
            session.execute(text("LOCK TABLE recommendation IN SHARE ROW EXCLUSIVE MODE"))
        if sqlite:
            # The default 2 MB page cache thrashes on a large upsert touching ten b-trees;
            # 64 MB for this connection while importing (reset below).
            session.execute(text(f"PRAGMA cache_size=-{IMPORT_CACHE_KIB}"))
        table = table_of(Recommendation)
        next_seq = (session.execute(select(func.max(table.c.seq))).scalar() or 0) + 1
        done = 0
        for batch in _batches(spool):
            existing = _existing_hashes(session, (r["id"] for r in batch))
            changed: list[Record] = []
            update_ids: set[str] = set()
            for record in batch:
                old = existing.get(record["id"])
                if old is None:
                    inserted += 1
                elif old != state.hashes[record["id"]]:
                    updated += 1
                    update_ids.add(record["id"])
                else:
                    unchanged += 1
                    continue
                changed.append(record)
                touched.add((record["state_under_review"], record["session"]))
            if changed and not dry_run:
                next_seq = _write_batch(session, changed, next_seq, update_ids=update_ids, hashes=state.hashes)
            done += len(batch)
            if progress is not None:
                progress("write", done, records)
        if dry_run:
            session.rollback()
        else:
            if link is not None and touched:
                linked = link(session, touched, progress)
            if finish is not None:
                finish(session, set(state.hashes))
            if inserted or updated:
                # Fresh statistics, so the planner picks the covering indexes for filters and facets.
                session.execute(text("ANALYZE" if sqlite else ANALYZE_POSTGRES))
            session.add(
                ImportRun(
                    format=fmt,
                    rows_read=state.rows_read,
                    records=records,
                    inserted=inserted,
                    updated=updated,
                    unchanged=unchanged,
                    skipped=sum(state.skipped.values()),
                    sources=dict(state.sources),
                )
            )
            if audit is not None:
                audit(session, {"format": fmt, "records": records, "inserted": inserted, "updated": updated})
            session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        if sqlite:
            with contextlib.suppress(Exception):  # never mask the import's own outcome
                session.execute(text("PRAGMA cache_size=-2000"))
                session.commit()
    return ImportSummary(
        format=fmt,
        dry_run=dry_run,
        rows_read=state.rows_read,
        records=records,
        inserted=inserted,
        updated=updated,
        unchanged=unchanged,
        rejected=0,
        skipped=sum(state.skipped.values()),
        skipped_reasons=state.skipped,
        unrecorded_recommenders=state.unrecorded,
        linked=linked,
    )
