"""Importing UPR recommendations: file readers (JSONL, UPR Info CSV, our CSV) and the all-or-nothing upsert.

Readers turn a file into `(line, record | None, errors)` triples and can be read
twice; `core.run_import` validates everything on a first pass, then writes in
one transaction on a second pass, so an invalid row or a crash writes nothing.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import IO

from app.importing.core import ImportSource, RowError, run_import
from app.importing.csv_layout import CsvLayoutSource
from app.importing.csv_upr_info import UprInfoCsvSource, is_upr_info_header
from app.importing.files import detect_csv_encoding, opener_for
from app.importing.jsonl import JsonlSource

FORMATS = ("jsonl", "csv")


def open_source(target: Path | IO[bytes], fmt: str) -> ImportSource:
    """The reader for a file: JSONL, or CSV in the UPR Info layout or ours (told apart by the header)."""
    opener = opener_for(target)
    if fmt == "jsonl":
        return JsonlSource(opener)
    encoding = detect_csv_encoding(opener)
    with opener() as raw, io.TextIOWrapper(raw, encoding=encoding, newline="") as stream:
        try:
            header = next(csv.reader(stream), [])
        except csv.Error:
            header = []
    if is_upr_info_header(header):
        return UprInfoCsvSource(opener, encoding)
    return CsvLayoutSource(opener, encoding)


__all__ = ["FORMATS", "ImportSource", "RowError", "open_source", "run_import"]
