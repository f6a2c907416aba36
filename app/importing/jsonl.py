"""JSON Lines reader: the shared `recommendations.jsonl` schema and our own JSONL export."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator

import ijson

from app.importing.core import Row, RowError, build_record
from app.importing.files import Opener
from app.importing.limits import RecordTooLarge, loads_line, read_line


class JsonlSource:
    """Yield one (line, record, errors) per non-blank line; the file must be UTF-8.

    A line past the limits of `app.importing.limits` (too long, nested too deep) ends the
    reading with its error: the import is refused, and the rest is not worth parsing.
    """

    format = "jsonl"

    def __init__(self, opener: Opener) -> None:
        self._open = opener
        self.rows_read = 0

    def rows(self) -> Iterator[Row]:
        self.rows_read = 0
        with self._open() as stream:
            for number in itertools.count(1):
                try:
                    raw = read_line(stream)
                except RecordTooLarge as exc:
                    self.rows_read += 1
                    yield number, None, [RowError(number, exc.field, exc.reason)]
                    return
                if not raw:
                    return
                if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                    raw = raw[3:]
                if not raw.strip():
                    continue
                self.rows_read += 1
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    yield number, None, [RowError(number, "row", f"invalid UTF-8 at byte {exc.start + 1} of the line")]
                    continue
                try:
                    obj = loads_line(line)
                except json.JSONDecodeError as exc:
                    yield number, None, [RowError(number, "row", f"invalid JSON: {exc.msg} at column {exc.colno}")]
                    continue
                except ijson.JSONError as exc:
                    yield number, None, [RowError(number, "row", f"invalid JSON: {str(exc).strip()[:200]}")]
                    continue
                except RecordTooLarge as exc:
                    yield number, None, [RowError(number, exc.field, exc.reason)]
                    return
                record, problems = build_record(obj)
                yield number, record, [RowError(number, f, r) for f, r in problems]
