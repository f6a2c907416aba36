"""The UPR Info database export: `To,To-Rgrp,To-Org,Text,From,From-Rgrp,From-Org,Response,Action,Issue,Session`.

One row per (recommendation, recommending State). Rows with the same session,
State under review, whitespace-normalised text and response are one
recommendation: they are merged into one record whose `recommending_states`
lists every State (first appearance first). The id follows the shared rule,
`uprinfo-c<cycle>-s<session>-<SuR ISO3>-<sha1(text|Response)[:10]>`, so the
same recommendation gets the same id as in `recommendations.jsonl`.

Merging needs every row of a group, so this reader holds the merged records of
one file in memory (one entry per recommendation, bounded by MAX_IMPORT_ROWS);
the real exports have about 10,000 rows per file.
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import re
from collections.abc import Iterator

from app.core.jsontypes import JsonObject
from app.importing.core import Row, RowError, build_record, csv_header, csv_rows, expected_cycle
from app.importing.files import Opener
from app.importing.limits import BoundedLines
from app.importing.text_split import is_unrecorded
from app.reference.countries import resolve_iso3

UPR_INFO_COLUMNS = (
    "To",
    "To-Rgrp",
    "To-Org",
    "Text",
    "From",
    "From-Rgrp",
    "From-Org",
    "Response",
    "Action",
    "Issue",
    "Session",
)
SOURCE = "upr_info_export"
THEME_SCHEME = "upr_info_issues"
_MULTI_STATE = re.compile(r"\s+-\s+")


def normalise_text(value: str) -> str:
    """HTML entities unescaped, runs of whitespace collapsed, ends trimmed."""
    return " ".join(html.unescape(value).split())


def is_upr_info_header(header: list[str]) -> bool:
    return tuple(h.strip().lstrip("\ufeff") for h in header) == UPR_INFO_COLUMNS


class UprInfoCsvSource:
    """Read a UPR Info export and merge its rows into recommendations."""

    format = "csv-upr-info"

    def __init__(self, opener: Opener, encoding: str) -> None:
        self._open = opener
        self._encoding = encoding
        self.rows_read = 0

    def rows(self) -> Iterator[Row]:
        merged: dict[str, tuple[int, JsonObject]] = {}
        self.rows_read = 0
        with self._open() as raw, io.TextIOWrapper(raw, encoding=self._encoding, newline="") as stream:
            lines = BoundedLines(stream)
            reader = csv.reader(lines)
            header, errors = csv_header(reader)
            if errors:
                yield 1, None, errors
            if header is None:
                return
            width = len(UPR_INFO_COLUMNS)
            for line, cells, errors in csv_rows(reader, lines, width, f"expected {width}"):
                self.rows_read += 1
                if cells is None:
                    yield line, None, errors
                    continue
                row = dict(zip(UPR_INFO_COLUMNS, cells, strict=True))
                parsed, problems = _parse_row(row)
                if problems or parsed is None:
                    yield line, None, [RowError(line, f, r) for f, r in problems]
                    continue
                group = merged.get(parsed["id"])
                if group is None:
                    merged[parsed["id"]] = (line, parsed)
                    continue
                target = group[1]
                for code, name in zip(parsed["recommending_states_iso3"], parsed["recommending_states"], strict=True):
                    if code not in target["recommending_states_iso3"] or (
                        code is None and name not in target["recommending_states"]
                    ):
                        target["recommending_states_iso3"].append(code)
                        target["recommending_states"].append(name)
                for theme in parsed["themes"]:
                    if theme not in target["themes"]:
                        target["themes"].append(theme)
                target["upr_info_action_category"] += parsed["upr_info_action_category"]
        for line, obj in merged.values():
            record, problems = build_record(obj)
            yield line, record, [RowError(line, f, r) for f, r in problems]


def _parse_row(row: dict[str, str]) -> tuple[JsonObject | None, list[tuple[str, str]]]:
    problems: list[tuple[str, str]] = []
    sur = resolve_iso3(row["To"].strip())
    if sur is None:
        problems.append(("To", f"unknown country {row['To'].strip()!r}"))
    names = [n.strip() for n in _MULTI_STATE.split(row["From"].strip()) if n.strip()] or [""]
    codes: list[str | None] = []
    kept_names: list[str] = []
    for name in names:
        code = resolve_iso3(name)
        if code is None and is_unrecorded(name):
            # "(Unknown)" (session 1 of the real export) or an empty cell: not recorded, kept as given.
            codes.append(None)
            kept_names.append(name or "(Unknown)")
        elif code is None:
            problems.append(("From", f"unknown country {name!r}"))
        elif code not in codes:
            codes.append(code)
            kept_names.append(name)
    text = normalise_text(row["Text"])
    if not text:
        problems.append(("Text", "is required and must not be empty"))
    response_given = row["Response"].strip()
    session_cell = row["Session"].strip()
    session = int(session_cell) if session_cell.isdigit() else None
    if session is None or not 1 <= session <= 200:
        problems.append(("Session", f"must be a UPR session number from 1 to 200, got {session_cell!r}"))
    action_cell = row["Action"].strip()
    actions: list[int | str] = []
    if action_cell:
        actions = [int(action_cell) if action_cell.isdigit() else action_cell]
    if problems or session is None or sur is None:
        return None, problems
    cycle = expected_cycle(session)
    digest = hashlib.sha1(f"{text}|{response_given}".encode()).hexdigest()[:10]
    obj: JsonObject = {
        "id": f"uprinfo-c{cycle}-s{session}-{sur}-{digest}",
        "source": SOURCE,
        "cycle": cycle,
        "session": session,
        "state_under_review_iso3": sur,
        "state_under_review": html.unescape(row["To"].strip()),
        "recommending_states": [html.unescape(n) for n in kept_names],
        "recommending_states_iso3": codes,
        "text": text,
        "response": response_given,
        "response_raw": response_given.lower() or None,
        "themes": [t.strip() for t in html.unescape(row["Issue"]).split(",") if t.strip()],
        "theme_scheme": THEME_SCHEME,
        "upr_info_action_category": actions,
    }
    # Validate the row's own values now, so errors point at this line rather than at the merge.
    _record, later = build_record(obj)
    field_names = {"text": "Text", "response": "Response", "action_category": "Action", "themes": "Issue"}
    problems.extend((field_names.get(f, f), r) for f, r in later)
    return (None if problems else obj), problems
