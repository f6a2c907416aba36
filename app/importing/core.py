"""Record validation and content hashing: the first pass of every import.

`build_record` turns one decoded JSON object (the shared JSONL schema, or our
own export layout) into the canonical record stored in `recommendation`, or a
list of (field, reason) errors. `validate` streams a source once: every row is
parsed and checked, duplicate ids are compared by content hash, errors are
collected (the first 100 are listed, all are counted). Nothing touches the
database. Memory holds one small entry per id; valid records are spooled
(marshal) to an anonymous temporary file, which `app.importing.store` writes.
"""

from __future__ import annotations

import csv
import hashlib
import json
import marshal
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import IO, TYPE_CHECKING, Protocol, TypeGuard

from app.core.errors import PayloadTooLarge, UnprocessableEntity, field_error
from app.core.jsontypes import JsonObject
from app.importing.limits import BoundedLines, RecordTooLarge
from app.importing.text_split import is_unrecorded
from app.models.recommendation import MAX_TEXT_LENGTH
from app.reference.countries import country_name, resolve_iso3
from app.reference.themes import affected_groups, theme_labels

if TYPE_CHECKING:
    from _csv import Reader as CsvReader

MAX_LISTED_ERRORS = 100
BATCH_SIZE = 1_000
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
    "sdg_targets",
    "publication_date",
    "themes_source",
    "affected_groups_source",
)
# Fields added after the first release: hashed only when set, so the stored hash of a
# record that has none stays what it was and re-importing old files changes nothing.
LATER_FIELDS = ("sdg_targets", "publication_date")
# The source's own labels, kept beside the normalised ones (`app.reference.themes`). The hash reads
# them in place of the normalised fields: a file re-imported after the vocabulary is refined is unchanged.
SOURCE_LABEL_FIELDS = {"themes": "themes_source", "affected_groups": "affected_groups_source"}
_SOURCE_LABELS = frozenset(SOURCE_LABEL_FIELDS.values())
SDG_TARGET = re.compile(r"^(1[0-7]|[1-9])\.([1-9][0-9]?|[a-z])$")
DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[T ][0-9:.]*(?:Z|[+-]\d{2}:?\d{2})?)?$")

Record = JsonObject

# Keys a record carries for the import's own bookkeeping, never stored.
UNRECORDED = "_unrecorded_recommender"


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


def csv_header(reader: CsvReader) -> tuple[list[str] | None, list[RowError]]:
    """The header row of a CSV reader (None for an empty file), or the error that makes it unreadable."""
    try:
        return next(reader, None), []
    except (csv.Error, RecordTooLarge) as exc:
        return None, [RowError(1, getattr(exc, "field", "header"), f"unreadable header: {exc}")]


def csv_rows(
    reader: CsvReader, lines: BoundedLines, width: int, expected: str
) -> Iterator[tuple[int, list[str] | None, list[RowError]]]:
    """The data rows of a CSV reader over `lines`: (line, cells, []) or (line, None, [error]); blank rows skipped.

    Every item is one row read (callers count them); `expected` says what width was
    expected, for the error ("the header has 11", "expected 11"). A record past the
    limits of `app.importing.limits` ends the reading with its error.
    """
    while True:
        lines.cost = 0
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield reader.line_num, None, [RowError(reader.line_num, "row", f"unreadable CSV: {exc}")]
            continue
        except RecordTooLarge as exc:
            yield reader.line_num + 1, None, [RowError(reader.line_num + 1, exc.field, exc.reason)]
            return
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


def normalise_response(value: object) -> str | None:
    """supported / noted / pending for a source's response, or None when unknown."""
    if value is None:
        return "pending"
    if not isinstance(value, str):
        return None
    return RESPONSE_MAP.get(" ".join(value.split()).lower())


def content_hash(record: Record) -> str:
    """sha256 of the canonical JSON of the record's stored fields."""
    values = [
        record.get(SOURCE_LABEL_FIELDS.get(name, name), record[name])
        for name in RECORD_FIELDS
        if name not in _SOURCE_LABELS and (name not in LATER_FIELDS or record[name])
    ]
    canonical = json.dumps(values, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _opt_str(value: object, name: str, max_len: int, errors: list[tuple[str, str]]) -> str | None:
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


def _str_list(value: object, name: str, max_len: int, errors: list[tuple[str, str]]) -> list[str]:
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


def _country(value: object, name: str, errors: list[tuple[str, str]]) -> str | None:
    code = resolve_iso3(value) if isinstance(value, str) else None
    if code is None:
        errors.append((name, f"unknown country {value!r}"))
    return code


def build_record(obj: object) -> tuple[Record | None, list[tuple[str, str]]]:
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

    cycle_value, session_value = obj.get("cycle"), obj.get("session")
    cycle = cycle_value if _is_int(cycle_value) and 1 <= cycle_value <= MAX_CYCLE else None
    session = session_value if _is_int(session_value) and 1 <= session_value <= MAX_SESSION else None
    if cycle is None:
        errors.append(("cycle", f"must be an integer from 1 to {MAX_CYCLE}, got {cycle_value!r}"))
    if session is None:
        errors.append(("session", f"must be an integer from 1 to {MAX_SESSION}, got {session_value!r}"))
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
    unrecorded = bool(obj.get(UNRECORDED))
    if shared:
        names = _str_list(obj.get("recommending_states"), "recommending_states", 128, errors)
        raw_codes = obj.get("recommending_states_iso3") or []
        if not isinstance(raw_codes, list):
            errors.append(("recommending_states_iso3", "must be a list"))
            raw_codes = []
        for i in range(max(len(names), len(raw_codes))):
            given = raw_codes[i] if i < len(raw_codes) else None
            name = names[i] if i < len(names) else None
            if not given and (name is None or is_unrecorded(name)):
                unrecorded = True  # "(Unknown)": the source does not record who recommended it
                continue
            code = _country(given or name, "recommending_states", errors)
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
        unrecorded = unrecorded or any(is_unrecorded(n) for n in names)

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
    targets = _str_list(obj.get("sdg_targets"), "sdg_targets", 8, errors)
    for target in targets:
        found = SDG_TARGET.match(target)
        if found is None:
            errors.append(("sdg_targets", f"{target!r} is not an SDG target such as '16.2' or '16.a'"))
        elif int(found.group(1)) not in sdgs:
            sdgs.append(int(found.group(1)))  # a target implies its goal
    publication_date = _date(obj.get("publication_date"), "publication_date", errors)
    groups = _str_list(obj.get("affected_groups"), "affected_groups", 255, errors)
    # The labels as the source spells them; a record of our own export brings them in `*_source`.
    themes_source = _str_list(obj.get("themes_source") or themes, "themes_source", 255, errors)
    groups_source = _str_list(obj.get("affected_groups_source") or groups, "affected_groups_source", 255, errors)

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
        flag_value: object = obj.get(flag, False)
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
        "themes": theme_labels(themes),
        "theme_scheme": theme_scheme,
        "themes_predicted": flags["themes_predicted"],
        "sdgs": sdgs,
        "affected_groups": affected_groups(groups),
        "action_category": action_category,
        "source_document": source_document,
        "paragraph": paragraph,
        "provisional": flags["provisional"],
        "sdg_targets": targets,
        "publication_date": publication_date,
        # The source's labels, stored beside the normalised ones (hashed in their place).
        "themes_source": [] if flags["themes_predicted"] else themes_source,
        "affected_groups_source": groups_source,
    }
    if unrecorded:
        record[UNRECORDED] = True
    return record, []


def _date(value: object, name: str, errors: list[tuple[str, str]]) -> str | None:
    """An ISO date (a datetime's date part), as text: `2025-02-12`."""
    if value is None or value == "":
        return None
    found = DATE.match(value) if isinstance(value, str) else None
    if found is None:
        errors.append((name, f"must be a date such as 2025-02-12, got {str(value)[:40]!r}"))
        return None
    try:
        return date.fromisoformat(found.group(1)).isoformat()
    except ValueError:
        errors.append((name, f"{found.group(1)!r} is not a calendar date"))
        return None


@dataclass
class Validation:
    """What the validation pass found: one content hash per id, the errors, the counts."""

    rows_read: int = 0
    hashes: dict[str, str] = field(default_factory=dict)
    first_line: dict[str, int] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    total_errors: int = 0
    bad_lines: set[int] = field(default_factory=set)
    unrecorded: int = 0
    sources: Counter[str] = field(default_factory=Counter)
    skipped: dict[str, int] = field(default_factory=dict)
    unit: str = "line"

    def add(self, error: RowError) -> None:
        self.total_errors += 1
        self.bad_lines.add(error.line)
        if len(self.errors) < MAX_LISTED_ERRORS:
            self.errors.append(error)


def validate(
    source: ImportSource,
    max_rows: int,
    progress: ProgressCallback | None,
    spool: IO[bytes],
    digest: Callable[[Record], str] | None = None,
) -> Validation:
    """Read and check every row, spooling the valid records (marshal batches) while no row is bad.

    Two rows with one id must have the same `digest` (the stored fields' `content_hash` by default).
    """
    digest = digest or content_hash
    unit = getattr(source, "unit", "line")
    state = Validation(unit=unit)
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
            hashed = digest(record)
            seen = state.hashes.get(record["id"])
            if seen is None:
                state.hashes[record["id"]] = hashed
                state.sources[record["source"]] += 1
                if record.pop(UNRECORDED, False):
                    state.unrecorded += 1
                if not state.total_errors:  # once a row is bad nothing will be written
                    pending.append(record)
                    if len(pending) >= BATCH_SIZE:
                        marshal.dump(pending, spool)  # one dump per batch: marshal.load is slow per object
                        pending.clear()
                state.first_line[record["id"]] = line
            elif seen != hashed:
                state.add(
                    RowError(
                        line,
                        "id",
                        f"duplicate id {record['id']!r} with different content (first seen on {unit} "
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
    state.skipped = dict(getattr(source, "skipped", {}))
    if progress is not None:
        progress("validate", state.rows_read, state.rows_read)
    return state


def rejection(state: Validation) -> UnprocessableEntity:
    """The 422 of an import with bad rows: the first errors listed, all counted."""
    listed = []
    for err in state.errors:
        item = field_error(["body", err.line, err.field], err.reason)
        item.update(line=err.line, reason=err.reason)
        listed.append(item)
    return UnprocessableEntity(
        f"{len(state.bad_lines)} {'record' if state.unit == 'record' else 'row'}(s) are invalid "
        f"({state.total_errors} error(s)); nothing was written.",
        errors=listed,
        total_errors=state.total_errors,
        rejected_rows=len(state.bad_lines),
        unit=state.unit,
    )
