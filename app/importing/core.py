"""Record validation, content hashing and the all-or-nothing bulk upsert.

`build_record` turns one decoded JSON object (the shared JSONL schema, or our
own export layout) into the canonical record stored in `recommendation`, or a
list of (field, reason) errors. `run_import` streams the source once:

1. validate: every row is parsed and checked, duplicate ids are compared by
   content hash, errors are collected (the first 100 are listed, all are
   counted). Nothing touches the database. Memory holds one small entry per id;
   valid records are spooled (marshal) to an anonymous temporary file.
2. write (skipped for a dry run or when any row is invalid): the spooled records
   are read back and written in batches of bulk statements inside ONE
   transaction, so a failure or a kill -9 part-way leaves the database exactly
   as it was.

Upsert is by id; a record whose content hash is unchanged is not written, so
re-importing a file changes nothing.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import marshal
import re
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any, Protocol

from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from app.countries import country_name, resolve_iso3
from app.errors import PayloadTooLarge, UnprocessableEntity, field_error
from app.models.common import utcnow
from app.models.recommendation import (
    MAX_TEXT_LENGTH,
    ImportSummary,
    Recommendation,
    RecommendationRecommender,
    RecommendationSdg,
    RecommendationTheme,
)
from app.services import audit

MAX_LISTED_ERRORS = 100
BATCH_SIZE = 1_000
IMPORT_CACHE_KIB = 64 * 1024
IMPORT_STATEMENT_TIMEOUT_MS = 600_000
ANALYZE_POSTGRES = "ANALYZE recommendation, recommendation_theme, recommendation_recommender, recommendation_sdg"
MAX_CYCLE = 20
MAX_SESSION = 200
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}$")

# Every value a source may give for the response, lower-cased -> the normalised one.
# "rejected" is the pre-2011 word for what the UN now calls "noted".
RESPONSE_MAP: dict[str, str] = {
    "supported": "supported",
    "accepted": "supported",
    "noted": "noted",
    "rejected": "noted",
    "pending": "pending",
    "under consideration": "pending",
    "supported/noted": "pending",
    "": "pending",
}

# Columns of `recommendation` a record carries, in the export order.
RECORD_FIELDS: tuple[str, ...] = (
    "id",
    "source",
    "cycle",
    "session",
    "state_under_review",
    "state_under_review_name",
    "recommending_states",
    "recommending_state_names",
    "text",
    "response",
    "response_raw",
    "themes",
    "theme_scheme",
    "themes_predicted",
    "sdgs",
    "affected_groups",
    "action_category",
    "source_document",
    "paragraph",
    "provisional",
)

Record = dict[str, Any]

# recommendation_theme, recommendation_recommender, recommendation_sdg (in that order).
INDEX_TABLES: tuple[Any, ...] = (
    RecommendationTheme.__table__,  # type: ignore[attr-defined]
    RecommendationRecommender.__table__,  # type: ignore[attr-defined]
    RecommendationSdg.__table__,  # type: ignore[attr-defined]
)


@dataclass(frozen=True, slots=True)
class RowError:
    """One problem in one row of an import file."""

    line: int
    field: str
    reason: str


Row = tuple[int, Record | None, list[RowError]]


class ImportSource(Protocol):
    """A file that can be read (twice) as (line, record or None, errors) triples."""

    format: str
    rows_read: int  # data rows read so far by the current `rows()` iteration

    def rows(self) -> Iterator[Row]: ...


ProgressCallback = Callable[[str, int, int | None], None]


def csv_rows(reader: Any, width: int, expected: str) -> Iterator[tuple[int, list[str] | None, list[RowError]]]:
    """The data rows of a CSV reader: (line, cells, []) or (line, None, [error]); blank rows skipped.

    Every item is one row read (callers count them); `expected` says what width was
    expected, for the error ("the header has 11", "expected 11").
    """
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield reader.line_num, None, [RowError(reader.line_num, "row", f"unreadable CSV: {exc}")]
            continue
        line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != width:
            yield line, None, [RowError(line, "row", f"has {len(cells)} cells; {expected}")]
            continue
        yield line, cells, []


def expected_cycle(session: int) -> int:
    """The UPR cycle of a Working Group session (1-12 -> 1, 13-26 -> 2, then 14 sessions per cycle)."""
    return 1 if session <= 12 else (session - 13) // 14 + 2


def normalise_response(value: Any) -> str | None:
    """supported / noted / pending for a source's response, or None when unknown."""
    if value is None:
        return "pending"
    if not isinstance(value, str):
        return None
    return RESPONSE_MAP.get(" ".join(value.split()).lower())


def content_hash(record: Record) -> str:
    """sha256 of the canonical JSON of the record's stored fields."""
    canonical = json.dumps([record[name] for name in RECORD_FIELDS], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _opt_str(value: Any, name: str, max_len: int, errors: list[tuple[str, str]]) -> str | None:
    if value is None:
        return None
    if _is_int(value):
        value = str(value)
    if not isinstance(value, str):
        errors.append((name, f"must be a string, got {type(value).__name__}"))
        return None
    text: str = value.strip()
    if not text:
        return None
    if len(text) > max_len:
        errors.append((name, f"is {len(text)} characters long; the maximum is {max_len}"))
        return None
    return text


def _str_list(value: Any, name: str, max_len: int, errors: list[tuple[str, str]]) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        errors.append((name, f"must be a list of strings, got {type(value).__name__}"))
        return []
    out: list[str] = []
    for item in value:
        if not isinstance(item, str):
            errors.append((name, f"must be a list of strings; found {item!r}"))
            return []
        item = item.strip()
        if len(item) > max_len:
            errors.append((name, f"an item is {len(item)} characters long; the maximum is {max_len}"))
            return []
        if item and item not in out:
            out.append(item)
    return out


def _country(value: Any, name: str, errors: list[tuple[str, str]]) -> str | None:
    code = resolve_iso3(value) if isinstance(value, str) else None
    if code is None:
        errors.append((name, f"unknown country {value!r}"))
    return code


def build_record(obj: Any) -> tuple[Record | None, list[tuple[str, str]]]:
    """Validate one decoded object (shared JSONL schema or our export layout) into a canonical record."""
    if not isinstance(obj, dict):
        return None, [("row", f"must be a JSON object, got {type(obj).__name__}")]
    errors: list[tuple[str, str]] = []

    rec_id = obj.get("id")
    if not isinstance(rec_id, str) or not ID_PATTERN.match(rec_id):
        errors.append(("id", "is required: 1-128 characters of letters, digits, '.', '_', ':' or '-'"))

    source = _opt_str(obj.get("source"), "source", 64, errors)
    if source is None and not any(e[0] == "source" for e in errors):
        errors.append(("source", "is required"))

    cycle: Any = obj.get("cycle")
    session: Any = obj.get("session")
    if not _is_int(cycle) or not 1 <= cycle <= MAX_CYCLE:
        errors.append(("cycle", f"must be an integer from 1 to {MAX_CYCLE}, got {cycle!r}"))
        cycle = None
    if not _is_int(session) or not 1 <= session <= MAX_SESSION:
        errors.append(("session", f"must be an integer from 1 to {MAX_SESSION}, got {session!r}"))
        session = None
    if cycle is not None and session is not None and expected_cycle(session) != cycle:
        errors.append(("cycle", f"session {session} belongs to cycle {expected_cycle(session)}, not {cycle}"))

    # Shared schema: names in `state_under_review`, codes in `*_iso3`; our layout: codes + `*_name(s)`.
    shared = "state_under_review_iso3" in obj or "recommending_states_iso3" in obj
    sur_value = obj.get("state_under_review_iso3") or obj.get("state_under_review")
    sur = _country(sur_value, "state_under_review", errors)
    if shared:
        sur_name = obj.get("state_under_review") if isinstance(obj.get("state_under_review"), str) else None
    else:
        sur_name = obj.get("state_under_review_name") if isinstance(obj.get("state_under_review_name"), str) else None
    if not sur_name and sur:
        sur_name = country_name(sur)

    codes: list[str] = []
    if shared:
        names = _str_list(obj.get("recommending_states"), "recommending_states", 128, errors)
        raw_codes = obj.get("recommending_states_iso3") or []
        if not isinstance(raw_codes, list):
            errors.append(("recommending_states_iso3", "must be a list"))
            raw_codes = []
        for i in range(max(len(names), len(raw_codes))):
            given = raw_codes[i] if i < len(raw_codes) else None
            code = _country(given or (names[i] if i < len(names) else None), "recommending_states", errors)
            if code and code not in codes:
                codes.append(code)
    else:
        raw = obj.get("recommending_states")
        for value in _str_list(raw, "recommending_states", 128, errors):
            code = _country(value, "recommending_states", errors)
            if code and code not in codes:
                codes.append(code)
        names_value = obj.get("recommending_state_names")
        names = (
            _str_list(names_value, "recommending_state_names", 128, errors)
            if names_value is not None
            else [country_name(c) for c in codes]
        )

    text_value = obj.get("text")
    text_clean: str | None = None
    if not isinstance(text_value, str) or not text_value.strip():
        errors.append(("text", "is required and must not be empty"))
    elif len(text_value.strip()) > MAX_TEXT_LENGTH:
        errors.append(("text", f"is {len(text_value.strip())} characters long; the maximum is {MAX_TEXT_LENGTH}"))
    elif "\x00" in text_value:
        errors.append(("text", "contains a NUL character"))
    else:
        text_clean = text_value.strip()

    response = normalise_response(obj.get("response"))
    if response is None:
        errors.append(("response", f"unknown response {obj.get('response')!r}; expected supported, noted or pending"))
    raw_response = obj["response_raw"] if "response_raw" in obj else obj.get("response")
    response_raw = _opt_str(raw_response, "response_raw", 64, errors)

    themes = _str_list(obj.get("themes"), "themes", 255, errors)
    theme_scheme = _opt_str(obj.get("theme_scheme"), "theme_scheme", 32, errors)
    sdgs: list[int] = []
    raw_sdgs = obj.get("sdgs") or []
    if not isinstance(raw_sdgs, list) or not all(_is_int(s) and 1 <= s <= 17 for s in raw_sdgs):
        errors.append(("sdgs", "must be a list of SDG numbers from 1 to 17"))
    else:
        for s in raw_sdgs:
            if s not in sdgs:
                sdgs.append(s)
    groups = _str_list(obj.get("affected_groups"), "affected_groups", 255, errors)

    # The shared file has `upr_info_action_category` as a list (0 or 1 items in practice);
    # when there are several we keep the highest, i.e. the most specific action asked for.
    action = obj.get("action_category", obj.get("upr_info_action_category"))
    actions = action if isinstance(action, list) else ([] if action is None else [action])
    action_category: int | None = None
    if not all(_is_int(a) and 1 <= a <= 5 for a in actions):
        errors.append(("action_category", f"must be a UPR Info action category from 1 to 5, got {action!r}"))
    elif actions:
        action_category = max(actions)

    flags: dict[str, bool] = {}
    for flag in ("provisional", "themes_predicted"):
        flag_value: Any = obj.get(flag, False)
        if flag_value is None:
            flag_value = False
        if not isinstance(flag_value, bool):
            errors.append((flag, "must be true or false"))
        flags[flag] = bool(flag_value)

    source_document = _opt_str(obj.get("source_document"), "source_document", 255, errors)
    paragraph = _opt_str(obj.get("paragraph"), "paragraph", 32, errors)
    if errors:
        return None, errors
    record: Record = {
        "id": rec_id,
        "source": source,
        "cycle": cycle,
        "session": session,
        "state_under_review": sur,
        "state_under_review_name": (sur_name or "")[:128],
        "recommending_states": codes,
        "recommending_state_names": names,
        "text": text_clean,
        "response": response,
        "response_raw": response_raw,
        "themes": themes,
        "theme_scheme": theme_scheme,
        "themes_predicted": flags["themes_predicted"],
        "sdgs": sdgs,
        "affected_groups": groups,
        "action_category": action_category,
        "source_document": source_document,
        "paragraph": paragraph,
        "provisional": flags["provisional"],
    }
    return record, []


@dataclass
class _Validation:
    rows_read: int = 0
    hashes: dict[str, str] = field(default_factory=dict)
    first_line: dict[str, int] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    total_errors: int = 0
    bad_lines: set[int] = field(default_factory=set)

    def add(self, error: RowError) -> None:
        self.total_errors += 1
        self.bad_lines.add(error.line)
        if len(self.errors) < MAX_LISTED_ERRORS:
            self.errors.append(error)


def _validate(source: ImportSource, max_rows: int, progress: ProgressCallback | None, spool: IO[bytes]) -> _Validation:
    state = _Validation()
    pending: list[Record] = []
    for line, record, errors in source.rows():
        state.rows_read = source.rows_read
        if state.rows_read > max_rows:
            raise PayloadTooLarge(
                f"The file has more than {max_rows} rows, the most one import accepts; nothing was written.",
                max_rows=max_rows,
            )
        for error in errors:
            state.add(error)
        if record is not None:
            digest = content_hash(record)
            seen = state.hashes.get(record["id"])
            if seen is None:
                state.hashes[record["id"]] = digest
                if not state.total_errors:  # once a row is bad nothing will be written
                    pending.append(record)
                    if len(pending) >= BATCH_SIZE:
                        marshal.dump(pending, spool)  # one dump per batch: marshal.load is slow per object
                        pending.clear()
                state.first_line[record["id"]] = line
            elif seen != digest:
                state.add(
                    RowError(
                        line,
                        "id",
                        f"duplicate id {record['id']!r} with different content (first seen on line "
                        f"{state.first_line[record['id']]})",
                    )
                )
        if progress is not None and state.rows_read % 500 == 0:
            progress("validate", state.rows_read, None)
    if pending and not state.total_errors:
        marshal.dump(pending, spool)
    state.rows_read = source.rows_read
    if state.rows_read > max_rows:
        raise PayloadTooLarge(
            f"The file has more than {max_rows} rows, the most one import accepts; nothing was written.",
            max_rows=max_rows,
        )
    if progress is not None:
        progress("validate", state.rows_read, state.rows_read)
    return state


def _rejection(state: _Validation) -> UnprocessableEntity:
    listed = []
    for err in state.errors:
        item = field_error(["body", err.line, err.field], err.reason)
        item.update(line=err.line, reason=err.reason)
        listed.append(item)
    return UnprocessableEntity(
        f"{len(state.bad_lines)} row(s) are invalid ({state.total_errors} error(s)); nothing was written.",
        errors=listed,
        total_errors=state.total_errors,
        rejected_rows=len(state.bad_lines),
    )


def _dialect_insert(session: Session) -> Callable[..., Any]:
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def _batches(spool: IO[bytes]) -> Iterator[list[Record]]:
    """The spooled records (each id once, in file order), in batches of at most BATCH_SIZE."""
    spool.seek(0)
    while True:
        try:
            batch: list[Record] = marshal.load(spool)
        except EOFError:
            break
        yield batch


def _existing_hashes(session: Session, ids: Iterable[str]) -> dict[str, str]:
    table = Recommendation.__table__  # type: ignore[attr-defined]
    rows = session.execute(select(table.c.id, table.c.content_hash).where(table.c.id.in_(list(ids))))
    return {row[0]: row[1] for row in rows}


def _write_batch(
    session: Session, records: list[Record], next_seq: int, *, update_ids: set[str], hashes: dict[str, str]
) -> int:
    """Upsert one batch (new and changed records) and rebuild their index-table rows."""
    table = Recommendation.__table__  # type: ignore[attr-defined]
    now = utcnow()
    values = []
    for record in records:
        row = dict(record)
        row["content_hash"] = hashes[record["id"]]
        row["created_at"] = now
        row["updated_at"] = now
        if record["id"] in update_ids:
            row["seq"] = None  # the conflict branch keeps the stored seq
        else:
            row["seq"] = next_seq
            next_seq += 1
        values.append(row)
    stmt = _dialect_insert(session)(table)
    keep = {"id", "seq", "created_at"}
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.id],
        set_={c.name: stmt.excluded[c.name] for c in table.columns if c.name not in keep},
    )
    session.execute(stmt, values)

    if update_ids:
        ids = list(update_ids)
        for t in INDEX_TABLES:
            session.execute(delete(t).where(t.c.recommendation_id.in_(ids)))
    themes = [{"recommendation_id": r["id"], "theme": t} for r in records for t in r["themes"]]
    states = [{"recommendation_id": r["id"], "state": s} for r in records for s in r["recommending_states"]]
    sdgs = [{"recommendation_id": r["id"], "sdg": s} for r in records for s in r["sdgs"]]
    for t, rows in zip(INDEX_TABLES, (themes, states, sdgs), strict=True):
        if rows:
            session.execute(insert(t), rows)
    return next_seq


def run_import(
    session: Session,
    source: ImportSource,
    *,
    dry_run: bool = False,
    max_rows: int,
    progress: ProgressCallback | None = None,
    actor: audit.Actor = audit.COMMAND_LINE,
) -> ImportSummary:
    """Validate the whole source, then upsert it in one transaction (or raise a 422 listing every bad row)."""
    # Release any transaction the caller's reads opened, so no lock is held while validating.
    if session.in_transaction():
        session.commit()
    with tempfile.TemporaryFile() as spool:
        state = _validate(source, max_rows, progress, spool)
        if state.total_errors:
            raise _rejection(state)
        return _write(session, source.format, state, spool, dry_run=dry_run, progress=progress, actor=actor)


def _write(
    session: Session,
    fmt: str,
    state: _Validation,
    spool: IO[bytes],
    *,
    dry_run: bool,
    progress: ProgressCallback | None,
    actor: audit.Actor,
) -> ImportSummary:
    """Upsert the spooled records in one transaction (only count them for a dry run)."""
    records = len(state.hashes)
    state.first_line.clear()
    inserted = updated = unchanged = 0
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
        table = Recommendation.__table__  # type: ignore[attr-defined]
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
                    changed.append(record)
                elif old != state.hashes[record["id"]]:
                    updated += 1
                    update_ids.add(record["id"])
                    changed.append(record)
                else:
                    unchanged += 1
            if changed and not dry_run:
                next_seq = _write_batch(session, changed, next_seq, update_ids=update_ids, hashes=state.hashes)
            done += len(batch)
            if progress is not None:
                progress("write", done, records)
        if dry_run:
            session.rollback()
        else:
            if inserted or updated:
                # Fresh statistics, so the planner picks the covering indexes for filters and facets.
                session.execute(text("ANALYZE" if sqlite else ANALYZE_POSTGRES))
            audit.record(
                session,
                actor,
                resource="recommendations",
                resource_id=str(uuid.uuid4()),
                action="import",
                detail={"format": fmt, "records": records, "inserted": inserted, "updated": updated},
            )
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
    )
