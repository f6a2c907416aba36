"""Importing UPR recommendations: file readers and the all-or-nothing upsert.

Readers (JSONL, UPR Info CSV, our CSV, the OHCHR UHRI export) turn a file into
`(line, record | None, errors)` triples and can be read twice; `store.run_import`
validates everything on a first pass (`core.validate`), then writes in one
transaction on a second pass, so an invalid row or a crash writes nothing.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import IO

from app.importing.core import ImportSource, RowError, csv_header
from app.importing.csv_layout import CsvLayoutSource
from app.importing.csv_upr_info import UprInfoCsvSource, is_upr_info_header
from app.importing.files import detect_csv_encoding, opener_for
from app.importing.jsonl import JsonlSource
from app.importing.limits import BoundedLines
from app.importing.store import LinkHook, run_import
from app.importing.uhri import UhriSource, starts_like_json_array

FORMATS = ("jsonl", "csv", "uhri")


def detect_format(target: Path | IO[bytes]) -> str:
    """The format a file's content shows: a JSON array is the UHRI export, `{` opens JSONL, anything else CSV."""
    opener = opener_for(target)
    if starts_like_json_array(opener):
        return "uhri"
    with opener() as stream:
        head = stream.read(256).lstrip(b"\xef\xbb\xbf").lstrip()
    return "jsonl" if head.startswith(b"{") else "csv"


def open_source(target: Path | IO[bytes], fmt: str) -> ImportSource:
    """The reader for a file: the UHRI export, JSONL, or CSV in the UPR Info layout or ours (told by the header)."""
    opener = opener_for(target)
    if fmt == "uhri":
        return UhriSource(opener)
    if fmt == "jsonl":
        return JsonlSource(opener)
    encoding = detect_csv_encoding(opener)
    with opener() as raw, io.TextIOWrapper(raw, encoding=encoding, newline="") as stream:
        header = csv_header(csv.reader(BoundedLines(stream)))[0] or []
    if is_upr_info_header(header):
        return UprInfoCsvSource(opener, encoding)
    return CsvLayoutSource(opener, encoding)


__all__ = ["FORMATS", "ImportSource", "LinkHook", "RowError", "detect_format", "open_source", "run_import"]
