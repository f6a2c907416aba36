"""Importing UPR recommendations: file readers and the all-or-nothing upsert.

Readers (JSONL, UPR Info CSV, our CSV, the OHCHR UHRI export, OHCHR's matrix of
recommendations as .docx, .pdf or .txt) turn a file into
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
from app.importing.matrix import KINDS, SUFFIXES, MatrixSource, Review, looks_like_matrix
from app.importing.store import LinkHook, run_import
from app.importing.uhri import UhriSource, starts_like_json_array

FORMATS = ("jsonl", "csv", "uhri", "matrix")
# The matrix of recommendations with its kind told by the caller (a Content-Type), not by a file name.
MATRIX_FORMATS = tuple(f"matrix-{kind}" for kind in KINDS)
SNIFF_BYTES = 1 << 16


def detect_format(target: Path | IO[bytes]) -> str:
    """The format a file shows: a .docx or .pdf is a matrix; by content, a JSON array is the UHRI export,
    "Source of position:" lines a matrix, `{` JSONL; then a .txt is a matrix and anything else CSV."""
    suffix = target.suffix.lower() if isinstance(target, Path) else ""
    if SUFFIXES.get(suffix) in ("docx", "pdf"):
        return "matrix"
    opener = opener_for(target)
    if starts_like_json_array(opener):
        return "uhri"
    with opener() as stream:
        sniffed = stream.read(SNIFF_BYTES)
    if looks_like_matrix(sniffed):
        return "matrix"
    if sniffed[:256].lstrip(b"\xef\xbb\xbf").lstrip().startswith(b"{"):
        return "jsonl"
    return "matrix" if suffix in SUFFIXES else "csv"


def open_source(target: Path | IO[bytes], fmt: str, review: Review | None = None) -> ImportSource:
    """The reader for a file: a matrix, the UHRI export, JSONL, or CSV in the UPR Info layout or ours (by the header).

    `review` completes what a matrix does not say of its review (State under review, cycle, session).
    """
    opener = opener_for(target)
    if fmt == "matrix" or fmt in MATRIX_FORMATS:
        kind = fmt.partition("-")[2] or None
        name = target.name if isinstance(target, Path) else ""
        if kind is None and isinstance(target, Path):
            kind = SUFFIXES.get(target.suffix.lower())
        return MatrixSource(opener, kind=kind, given=review, name=name)
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


__all__ = [
    "FORMATS",
    "MATRIX_FORMATS",
    "ImportSource",
    "Review",
    "LinkHook",
    "RowError",
    "detect_format",
    "open_source",
    "run_import",
]
