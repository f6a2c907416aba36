"""OHCHR's Universal Human Rights Index bulk export (`export-full-en.json`).

One JSON array of annotated recommendations of the UPR, the treaty bodies and the
special procedures, several hundred MB: it is streamed with ijson (yajl2 C
backend), one record at a time, never held whole, each record within the depth and
memory limits of `app.importing.limits`. Only UPR recommendations
(`Body` "- UPR", `AnnotationType` "- Recommendations") are kept; every other
record is counted as skipped, per reason.

Mapping: id `uhri-<AnnotationId>`; `Countries` (one State under review) and
`UprRecommendingCountry` to ISO3 through the country resolver ("(Unknown)" or an
empty name: kept as given, no code); `UprPositions` to supported / noted /
pending (none yet); `Text` without its HTML, paragraph number and trailing
attribution (`text_split`); `Themes` under the `uhri` scheme; `Sdgs` ("16.2 -
Protect children ...") to goals and targets; `AffectedPersons` to affected groups;
`Symbol` to the source document; `PublicationDate` kept as a date. The spellings
of positions, cycles and sessions the export may use are listed below; any other
value is a row error naming the field and the value, never a guess.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from typing import IO

import ijson

from app.core.jsontypes import JsonObject
from app.importing.core import UNRECORDED, Record, Row, RowError, build_record, expected_cycle
from app.importing.files import Opener
from app.importing.limits import RecordTooLarge, array_items
from app.importing.text_split import is_unrecorded, split_published
from app.models.recommendation import MAX_TEXT_LENGTH

SOURCE = "ohchr_uhri"
THEME_SCHEME = "uhri"
UPR_BODY = "UPR"
RECOMMENDATION_TYPE = "Recommendations"
ID_PREFIX = "uhri-"
REQUIRED = ("AnnotationId", "Text", "Countries")
MAX_NAME = 128
SNIFF_BYTES = 1 << 16

_ORDINALS = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
}
# "4", "Cycle 4", "4th cycle", "Fourth cycle", "cycle 4th" (case and spaces ignored).
_CYCLE = re.compile(r"^(?:cycle\s*)?(\d{1,2}|[a-z]+)(?:st|nd|rd|th)?(?:\s*cycle)?$")
# "47", "Session 47", "47th session", "UPR 47".
_SESSION = re.compile(r"^(?:session\s*|upr\s*)?(\d{1,3})(?:st|nd|rd|th)?(?:\s*session)?$")
# Positions as the export may spell them -> the response the shared schema uses.
POSITIONS = {
    "supported": "supported",
    "accepted": "supported",
    "noted": "noted",
    "supported/noted": "supported/noted",
    "partially supported": "supported/noted",
    "pending": "pending",
}
_SDG = re.compile(r"^\s*(\d{1,2})(?:\.(\d{1,2}|[a-zA-Z]))?\s*(?:[-\u2013\u2014:]\s*.*)?$", re.DOTALL)


def _label(value: object) -> str:
    """`Body` and `AnnotationType` come as "- UPR": the label without its leading dash."""
    return value.strip().lstrip("-").strip() if isinstance(value, str) else ""


def starts_like_json_array(opener: Opener) -> bool:
    """The file opens a JSON array (after whitespace and a byte order mark), as the UHRI export does."""
    with opener() as stream:
        head = stream.read(256)
    return head.lstrip(b"\xef\xbb\xbf").lstrip().startswith(b"[")


def parse_cycle(value: object) -> int | None:
    """The cycle number of `UprCycle` (4, "4", "Cycle 4", "4th cycle", "Fourth cycle"), or None."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if not isinstance(value, str):
        return None
    found = _CYCLE.match(" ".join(value.split()).casefold())
    if found is None:
        return None
    word = found.group(1)
    return int(word) if word.isdigit() else _ORDINALS.get(word)


def parse_session(value: object) -> int | None:
    """The session number of one `UprSession` item (47, "47", "Session 47"), or None."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if not isinstance(value, str):
        return None
    found = _SESSION.match(" ".join(value.split()).casefold())
    return int(found.group(1)) if found else None


def _as_list(value: object) -> list[object]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


class UhriSource:
    """Read the UHRI export as (record number, record, errors); non-UPR records are counted in `skipped`."""

    format = "uhri"
    unit = "record"

    def __init__(self, opener: Opener) -> None:
        self._open = opener
        self.rows_read = 0
        self.skipped: Counter[str] = Counter()

    def rows(self) -> Iterator[Row]:
        self.rows_read = 0
        self.skipped = Counter()
        with self._open() as stream:
            head = stream.read(SNIFF_BYTES)
            start = head.lstrip(b"\xef\xbb\xbf").lstrip()[:1]
            if start != b"[":
                found = "an empty file" if not start else f"{start.decode('latin-1')!r}"
                yield 1, None, [RowError(1, "file", f"must be a JSON array of records ('['); it starts with {found}")]
                return
            items = array_items(_Prepended(head.removeprefix(b"\xef\xbb\xbf"), stream))
            while True:
                number = self.rows_read + 1
                try:
                    obj = next(items)
                except StopIteration:
                    return
                except ijson.JSONError as exc:
                    yield number, None, [RowError(number, "file", _parse_error(exc, number))]
                    return
                except RecordTooLarge as exc:  # stopped before building more of it
                    self.rows_read = number
                    yield number, None, [RowError(number, exc.field, exc.reason)]
                    return
                self.rows_read = number
                reason = self._skip_reason(obj)
                if reason is not None:
                    self.skipped[reason] += 1
                    continue
                record, problems = self.convert(obj)
                yield number, record, [RowError(number, f, r) for f, r in problems]

    # The labels of a UPR recommendation: the English export's (other languages' readers add theirs).
    upr_bodies: frozenset[str] = frozenset({UPR_BODY})
    recommendation_types: frozenset[str] = frozenset({RECOMMENDATION_TYPE})

    def convert(self, obj: object) -> tuple[Record | None, list[tuple[str, str]]]:
        """One UPR record as the record this reader yields, or its problems."""
        return convert(obj)

    def _skip_reason(self, obj: object) -> str | None:
        if not isinstance(obj, dict):
            return None  # map_record reports it
        body = _label(obj.get("Body"))
        if body and body not in self.upr_bodies:
            return f"not UPR ({body})"
        kind = _label(obj.get("AnnotationType"))
        if body and kind and kind not in self.recommendation_types:
            return f"not a recommendation ({kind})"
        return None


class _Prepended:
    """A stream read from `head` first, then from `rest` (to parse past bytes already sniffed)."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        self._head = head
        self._rest = rest

    def read(self, size: int = -1) -> bytes:
        if self._head:
            chunk = self._head if size < 0 else self._head[:size]
            self._head = self._head[len(chunk) :]
            return chunk
        return self._rest.read(size)


def _parse_error(exc: Exception, number: int) -> str:
    message = str(exc.args[0] if exc.args else exc)
    if isinstance(exc.args[0] if exc.args else None, bytes):
        message = exc.args[0].decode("utf-8", "replace")
    first = message.strip().splitlines()[0] if message.strip() else "invalid JSON"
    if "premature EOF" in first:
        return f"the file ends inside record {number}: it is truncated ({first})"
    if "trailing garbage" in first:
        return f"unexpected text after the closing ']' of the array ({first})"
    if "UTF8" in first or "UTF-8" in first:
        return f"record {number} is not valid UTF-8 ({first}); the export must be UTF-8"
    return f"record {number} is not valid JSON ({first})"


_FIELD_NAMES = {
    "text": "Text",
    "state_under_review": "Countries",
    "recommending_states": "UprRecommendingCountry",
    "response": "UprPositions",
    "cycle": "UprCycle",
    "session": "UprSession",
    "themes": "Themes",
    "sdgs": "Sdgs",
    "sdg_targets": "Sdgs",
    "affected_groups": "AffectedPersons",
    "source_document": "Symbol",
    "publication_date": "PublicationDate",
    "paragraph": "Text",
    "id": "AnnotationId",
}


def _field_name(name: str) -> str:
    """Errors found by the shared validation, named by the export's own field."""
    return _FIELD_NAMES.get(name, name)


def convert(obj: object) -> tuple[Record | None, list[tuple[str, str]]]:
    """One UHRI UPR record as a stored record, or every problem found (named by the export's fields)."""
    mapped, problems = map_record(obj)
    if mapped is None:
        return None, problems
    record, more = build_record(mapped)
    named = {f for f, _ in problems}
    # The shared checks see the mapped values: report only what the mapping did not already name.
    problems += [(_field_name(f), r) for f, r in more if _field_name(f) not in named]
    return (None, problems) if problems else (record, [])


def map_record(obj: object) -> tuple[JsonObject | None, list[tuple[str, str]]]:
    """One UHRI UPR record in the shared JSONL schema, and the problems of its UHRI-specific fields.

    The mapped record is None when a required field is missing; otherwise it is
    returned even with problems, so `build_record` can report the others too.
    """
    if not isinstance(obj, dict):
        return None, [("row", f"must be a JSON object, got {type(obj).__name__}")]
    errors: list[tuple[str, str]] = []
    for name in REQUIRED:
        if obj.get(name) in (None, "", []):
            errors.append((name, "is required"))
    annotation = obj.get("AnnotationId")
    if annotation not in (None, "") and (not isinstance(annotation, str) or len(annotation) > 100):
        errors.append(("AnnotationId", f"must be an identifier string, got {str(annotation)[:60]!r}"))
    text = obj.get("Text")
    if text not in (None, "") and not isinstance(text, str):
        errors.append(("Text", f"must be a string, got {type(text).__name__}"))
    elif isinstance(text, str) and len(text) > 4 * MAX_TEXT_LENGTH:  # HTML and attribution included
        errors.append(("Text", f"is {len(text)} characters long; the maximum is {MAX_TEXT_LENGTH}"))
    countries = _as_list(obj.get("Countries"))
    if errors:
        return None, errors
    if len(countries) > 1:
        errors.append(("Countries", f"names {len(countries)} States; a UPR recommendation has one: {countries[:3]!r}"))

    cycle, session = _cycle_and_session(obj, errors)
    response, response_raw = _position(obj.get("UprPositions"), errors)
    paragraph, clean_text, attributed = split_published(str(text))  # checked above: a non-empty string
    names, codes = _recommenders(obj.get("UprRecommendingCountry"), attributed, errors)
    goals, targets = _sdgs(obj.get("Sdgs"), errors)
    mapped: JsonObject = {
        "id": ID_PREFIX + str(annotation),
        "source": SOURCE,
        "cycle": cycle,
        "session": session,
        "state_under_review": countries[0],
        "recommending_states": names,
        "recommending_states_iso3": codes,
        "text": clean_text,
        "response": response,
        "response_raw": response_raw,
        "themes": _as_list(obj.get("Themes")),
        # No theme at all: no scheme either, so the theme tagger predicts UPR Info issues for it
        # after the import (marked `themes_predicted`), as for any record imported without themes.
        "theme_scheme": THEME_SCHEME if _as_list(obj.get("Themes")) else None,
        "sdgs": goals,
        "sdg_targets": targets,
        "affected_groups": _as_list(obj.get("AffectedPersons")),
        "source_document": obj.get("Symbol"),
        "paragraph": paragraph,
        "publication_date": obj.get("PublicationDate"),
    }
    if any(is_unrecorded(n) for n in names) or (not names and obj.get("UprRecommendingCountry") is not None):
        mapped[UNRECORDED] = True
    return mapped, errors


def _cycle_and_session(obj: JsonObject, errors: list[tuple[str, str]]) -> tuple[int | None, int | None]:
    sessions = {parse_session(v) for v in _as_list(obj.get("UprSession"))}
    raw_sessions = _as_list(obj.get("UprSession"))
    session: int | None = None
    if not raw_sessions:
        errors.append(("UprSession", "is required for a UPR recommendation"))
    elif None in sessions:
        bad = next(v for v in raw_sessions if parse_session(v) is None)
        errors.append(("UprSession", f"unknown session {bad!r}; expected a number such as 47 or 'Session 47'"))
    elif len(sessions) > 1:
        errors.append(("UprSession", f"names several sessions {raw_sessions!r}; a recommendation has one"))
    else:
        session = sessions.pop()
    raw_cycle = obj.get("UprCycle")
    cycle = parse_cycle(raw_cycle) if raw_cycle not in (None, "") else None
    if raw_cycle not in (None, "") and cycle is None:
        errors.append(("UprCycle", f"unknown cycle {raw_cycle!r}; expected e.g. 4, '4', 'Cycle 4' or 'Fourth cycle'"))
    if cycle is None and session is not None and raw_cycle in (None, ""):
        cycle = expected_cycle(session)
    return cycle, session


def _position(value: object, errors: list[tuple[str, str]]) -> tuple[str | None, str | None]:
    """(response, raw response) of `UprPositions`: [] is pending; two positions are supported/noted."""
    given = _as_list(value)
    found: list[str] = []
    for item in given:
        key = " ".join(item.split()).casefold() if isinstance(item, str) else None
        if key == "":
            continue
        if key is None or key not in POSITIONS:
            errors.append(("UprPositions", f"unknown position {item!r}; expected Supported, Noted or Supported/Noted"))
            return None, None
        if POSITIONS[key] not in found:
            found.append(POSITIONS[key])
    raw = "/".join(str(i).strip() for i in given if isinstance(i, str) and i.strip()).lower() or None
    if not found:
        return "pending", raw
    if len(found) == 1:
        return found[0], raw
    return "supported/noted", raw


def _recommenders(
    value: object, attributed: list[str], errors: list[tuple[str, str]]
) -> tuple[list[str], list[str | None]]:
    """Names and ISO3 codes (None where not recorded) of the recommending States; the text's attribution if none."""
    given = _as_list(value)
    names: list[str] = []
    for item in given or attributed:
        if not isinstance(item, str):
            errors.append(("UprRecommendingCountry", f"must be a list of names; found {item!r}"))
            continue
        if len(item) > MAX_NAME:
            errors.append(("UprRecommendingCountry", f"a name is {len(item)} characters long; at most {MAX_NAME}"))
            continue
        names.append(item.strip() or "(Unknown)")
    codes: list[str | None] = [None if is_unrecorded(n) else n for n in names]
    return names, codes


def _sdgs(value: object, errors: list[tuple[str, str]]) -> tuple[list[int], list[str]]:
    """Goals and targets of `Sdgs` items such as "16.2 - Protect children ..." or "16 - Peace ..."."""
    goals: list[int] = []
    targets: list[str] = []
    for item in _as_list(value):
        found = _SDG.match(item) if isinstance(item, str) else None
        goal = int(found.group(1)) if found else 0
        if found is None or not 1 <= goal <= 17:
            shown = str(item)[:60]
            errors.append(("Sdgs", f"cannot read {shown!r}; expected a goal or target such as '16.2 - ...'"))
            continue
        if goal not in goals:
            goals.append(goal)
        if found.group(2):
            target = f"{goal}.{found.group(2).lower()}"
            if target not in targets:
                targets.append(target)
    return goals, targets


__all__ = [
    "ID_PREFIX",
    "SOURCE",
    "THEME_SCHEME",
    "UhriSource",
    "convert",
    "map_record",
    "parse_cycle",
    "parse_session",
]
