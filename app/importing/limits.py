"""What one record of an import may take: its nesting depth and its memory, checked while reading.

ijson's `items` keeps, for every open container, a prefix string as long as the path
to it ("item.item.item..."): a 40 KB array nested 20,000 deep holds about 1 GB of
prefixes, and `json.loads` recurses once per level. Here records are built from
yajl's plain events (no prefixes), one level per container kept on a list; building
stops as soon as a record opens container number `MAX_DEPTH + 1` or its estimated
memory passes `MAX_RECORD_BYTES`, before anything larger is held. JSON Lines and CSV
are read one bounded line at a time, so a file without line ends is never held whole.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import IO, Any, Protocol

import ijson

# Containers one record may nest (the record itself is level 1; real exports use 2).
MAX_DEPTH = 32
# Estimated memory of one record: its strings' characters plus a fixed cost per value and container.
MAX_RECORD_BYTES = 16 * 1024 * 1024
VALUE_COST = 16
CONTAINER_COST = 64


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


_MIB = MAX_RECORD_BYTES // (1024 * 1024)


class RecordTooLarge(ValueError):
    """One record nests deeper (`field` "nesting") or takes more memory (`field` "size") than an import accepts."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


def too_deep() -> RecordTooLarge:
    reason = f"arrays and objects nested more than {MAX_DEPTH} levels deep; at most {MAX_DEPTH}"
    return RecordTooLarge("nesting", reason)


def too_big() -> RecordTooLarge:
    return RecordTooLarge("size", f"the record takes more than {_MIB} MiB; at most {_MIB} MiB per record")


def build_value(event: str, value: Any, events: Iterator[tuple[str, Any]]) -> Any:
    """The value that starts with (`event`, `value`), reading the rest of it from `events`.

    Raises `RecordTooLarge` at the first container past `MAX_DEPTH` or once the estimated
    memory passes `MAX_RECORD_BYTES`; the events after that are left unread.
    """
    stack: list[Any] = []  # the open containers, outermost first
    keys: list[str] = []  # the pending key of each open object
    cost = 0
    while True:
        if event == "map_key":
            keys.append(value)
            cost += VALUE_COST + len(value)
        elif event == "start_map" or event == "start_array":
            if len(stack) >= MAX_DEPTH:
                raise too_deep()
            stack.append({} if event == "start_map" else [])
            cost += CONTAINER_COST
        else:
            if event == "end_map" or event == "end_array":
                value = stack.pop()
            else:
                cost += VALUE_COST + len(value) if type(value) is str else VALUE_COST
            if not stack:
                return value
            parent = stack[-1]
            if type(parent) is list:
                parent.append(value)
            else:
                parent[keys.pop()] = value
        if cost > MAX_RECORD_BYTES:
            raise too_big()
        try:
            event, value = next(events)
        except StopIteration:
            raise ijson.IncompleteJSONError("premature EOF") from None


def array_items(stream: Readable) -> Iterator[Any]:
    """The items of the JSON array `stream` holds, one at a time (the caller checked it opens with '[')."""
    events = iter(ijson.basic_parse(stream, use_float=True))
    event, _ = next(events)
    if event != "start_array":
        raise ijson.JSONError(f"expected an array, found {event}")
    for event, value in events:
        if event == "end_array":
            for trailing in events:  # the parser reports text after the array
                raise ijson.JSONError(f"trailing garbage {trailing!r}")
            return
        yield build_value(event, value, events)


def loads(data: bytes | str) -> Any:
    """One JSON value, like `json.loads` but bounded; raises `ijson.JSONError` if it is not valid JSON."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    events = iter(ijson.basic_parse(io.BytesIO(raw), use_float=True))
    try:
        event, value = next(events)
    except StopIteration:
        raise ijson.IncompleteJSONError("no value") from None
    result = build_value(event, value, events)
    for _trailing in events:
        raise ijson.JSONError("trailing garbage")
    return result


# Lines this short, with this few brackets, cannot break a limit: `json.loads` reads them (faster).
FAST_LINE_BYTES = 64 * 1024


def read_line(stream: IO[bytes]) -> bytes:
    """The next line of a binary file (b"" at its end); a line longer than one record may take is refused unread."""
    line = stream.readline(MAX_RECORD_BYTES + 1)
    if len(line) > MAX_RECORD_BYTES:
        raise too_big()
    return line


def loads_line(line: str) -> Any:
    """One JSON Lines record; raises `json.JSONDecodeError` or `ijson.JSONError` when it is not valid JSON."""
    if len(line) <= FAST_LINE_BYTES and line.count("[") + line.count("{") <= MAX_DEPTH:
        return json.loads(line)
    return loads(line)


class BoundedLines:
    """The lines of a text file for `csv.reader`, each bounded; `cost` adds up the lines of one record.

    The reader of the rows sets `cost` back to 0 after each record; each cell counts as a value.
    """

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self.cost = 0

    def __iter__(self) -> BoundedLines:
        return self

    def __next__(self) -> str:
        line = self._stream.readline(MAX_RECORD_BYTES + 1)
        if not line:
            raise StopIteration
        self.cost += len(line) + VALUE_COST * (line.count(",") + 1)
        if self.cost > MAX_RECORD_BYTES:
            raise too_big()
        return line
