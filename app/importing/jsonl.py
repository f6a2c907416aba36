"""JSON Lines reader: the shared `recommendations.jsonl` schema and our own JSONL export."""

from __future__ import annotations

import json
from collections.abc import Iterator

from app.importing.core import Row, RowError, build_record
from app.importing.files import Opener


class JsonlSource:
    """Yield one (line, record, errors) per non-blank line; the file must be UTF-8."""

    format = "jsonl"

    def __init__(self, opener: Opener) -> None:
        self._open = opener
        self.rows_read = 0

    def rows(self) -> Iterator[Row]:
        self.rows_read = 0
        with self._open() as stream:
            for number, raw in enumerate(stream, start=1):
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
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    yield number, None, [RowError(number, "row", f"invalid JSON: {exc.msg} at column {exc.colno}")]
                    continue
                except RecursionError:
                    yield number, None, [RowError(number, "row", "invalid JSON: nested too deeply")]
                    continue
                record, problems = build_record(obj)
                yield number, record, [RowError(number, f, r) for f, r in problems]
