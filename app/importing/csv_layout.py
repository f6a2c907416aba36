"""Our own CSV layout (what `GET /recommendations/export?format=csv` writes), both ways.

One column per field of `RECORD_FIELDS`; list fields are plain text, their items
joined by "; " (`AUT; FRA`), as people read them in a spreadsheet; an item that
itself holds a ";" (the UHRI theme "Children: definition; general principles;
protection") or starts with a double quote is written in double quotes, so the
reader can split the cell back. Cells of older exports holding a JSON array
(`["AUT"]`) are still read. Booleans are `true`/`false`; None is an empty cell.
Cells a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, tab
or CR) are written with a leading `'`, and so is a cell that itself starts with
`'`, which makes the escaping reversible: the reader removes exactly one leading `'`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence

import ijson

from app.core.jsontypes import JsonObject
from app.importing.core import RECORD_FIELDS, Row, RowError, build_record, csv_header, csv_rows
from app.importing.files import Opener
from app.importing.limits import BoundedLines, RecordTooLarge, loads

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "'")
LIST_FIELDS = {
    "recommending_states",
    "recommending_state_names",
    "themes",
    "sdgs",
    "affected_groups",
    "sdg_targets",
    "themes_source",
    "affected_groups_source",
}
INT_FIELDS = {"cycle", "session", "action_category"}
INT_LIST_FIELDS = {"sdgs"}
BOOL_FIELDS = {"provisional", "themes_predicted"}
REQUIRED_COLUMNS = {"id", "source", "cycle", "session", "state_under_review", "text", "response"}


def escape_cell(value: str) -> str:
    """Neutralise a cell a spreadsheet would evaluate (CSV/formula injection)."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def unescape_cell(value: str) -> str:
    return value.removeprefix("'")


LIST_SEPARATOR = "; "
_NEEDS_QUOTES = (";", '"', "\n", "\r")


def join_list(values: Sequence[object]) -> str:
    """List items as one plain-text cell: `AUT; FRA`; items holding ";" or quotes are double-quoted.

    >>> join_list(["Rights of the Child", "Children: definition; general principles; protection"])
    'Rights of the Child; "Children: definition; general principles; protection"'
    """
    items = []
    for value in values:
        item = str(value)
        if any(mark in item for mark in _NEEDS_QUOTES):
            item = '"' + item.replace('"', '""') + '"'
        items.append(item)
    return LIST_SEPARATOR.join(items)


def split_list(cell: str) -> list[str] | None:
    """The items of a list cell (`join_list`'s text, or an older export's JSON array); None if unreadable.

    >>> split_list('Rights of the Child; "Children: definition; general principles; protection"')
    ['Rights of the Child', 'Children: definition; general principles; protection']
    >>> split_list('["AUT","FRA"]')
    ['AUT', 'FRA']
    """
    text = cell.strip()
    if not text:
        return []
    if text.startswith("["):
        try:
            decoded = loads(text)
        except (ijson.JSONError, RecordTooLarge):  # not JSON, or nested past the limits: read as text
            decoded = None
        if isinstance(decoded, list):
            return [str(item) for item in decoded]
    try:
        rows = list(csv.reader(io.StringIO(text), delimiter=";", skipinitialspace=True, strict=True))
    except csv.Error:
        return None
    if len(rows) != 1:
        return None
    return [item.strip() for item in rows[0] if item.strip()]


def render_cell(value: object) -> str:
    """One record value as its CSV cell text (before escaping)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return join_list(value)
    return str(value)


class CsvLayoutSource:
    """Read a CSV in our export layout (recognised by its `id` column)."""

    format = "csv"

    def __init__(self, opener: Opener, encoding: str) -> None:
        self._open = opener
        self._encoding = encoding
        self.rows_read = 0

    def rows(self) -> Iterator[Row]:
        self.rows_read = 0
        with self._open() as raw, io.TextIOWrapper(raw, encoding=self._encoding, newline="") as stream:
            lines = BoundedLines(stream)
            reader = csv.reader(lines)
            header, errors = csv_header(reader)
            if errors:
                yield 1, None, errors
            if header is None:
                return
            columns = [h.strip() for h in header]
            missing = REQUIRED_COLUMNS - set(columns)
            if missing:
                yield 1, None, [RowError(1, "header", f"missing column(s): {', '.join(sorted(missing))}")]
                return
            for line, cells, errors in csv_rows(reader, lines, len(columns), f"the header has {len(columns)}"):
                self.rows_read += 1
                if cells is None:
                    yield line, None, errors
                    continue
                obj, problems = _decode_cells(dict(zip(columns, cells, strict=True)))
                if problems:
                    yield line, None, [RowError(line, f, r) for f, r in problems]
                    continue
                record, problems = build_record(obj)
                yield line, record, [RowError(line, f, r) for f, r in problems]


def _decode_cells(cells: dict[str, str]) -> tuple[JsonObject, list[tuple[str, str]]]:
    obj: JsonObject = {}
    problems: list[tuple[str, str]] = []
    for name, cell in cells.items():
        if name not in RECORD_FIELDS:
            continue
        value = unescape_cell(cell)
        if name in LIST_FIELDS:
            items = split_list(value)
            if items is None:
                problems.append((name, 'must be items separated by "; " (e.g. FRA; DEU), an item with ";" in quotes'))
            elif name in INT_LIST_FIELDS:
                if all(isinstance(i, int) or str(i).isdigit() for i in items):
                    obj[name] = [int(i) for i in items]
                else:
                    problems.append((name, f'must be whole numbers separated by "; ", got {value!r}'))
            else:
                obj[name] = items
        elif name in INT_FIELDS:
            if not value.strip():
                obj[name] = None
            elif value.strip().isdigit():
                obj[name] = int(value.strip())
            else:
                problems.append((name, f"must be a whole number, got {value!r}"))
        elif name in BOOL_FIELDS:
            lowered = value.strip().lower()
            if lowered not in ("", "true", "false"):
                problems.append((name, f"must be true or false, got {value!r}"))
            obj[name] = lowered == "true"
        else:
            obj[name] = value if value != "" else None
    return obj, problems
