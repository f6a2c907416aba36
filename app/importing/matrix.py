"""Reading OHCHR's matrix of recommendations from Word (.docx), PDF or plain text.

The Word document is what OHCHR publishes: its table (columns Recommendation,
Position, Full list of themes, and sometimes SDGs) is read with python-docx, and the
review (State under review, cycle, session) from its page header. A PDF (read with
pypdf) or a .txt must hold the same cells as text lines (`matrix_layout.text_entries`).
What the document does not say, the caller's options give (`Review`); what it says,
they may not contradict.

Every file-level problem (empty, not a zip, a zip that is not a Word document, no
table of the expected columns, a password-protected PDF, a PDF without text, not
UTF-8, too large) is one error naming the file and what was expected; each entry's
problems name its table row (or line) and paragraph. The whole file is read before
anything is written (`store.run_import`), within the limits below: a .docx is a zip
whose parts python-docx holds in memory, so their unpacked size is checked first.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Iterator
from typing import IO, TYPE_CHECKING

from app.importing.core import Row, RowError
from app.importing.files import Opener
from app.importing.limits import MAX_RECORD_BYTES
from app.importing.matrix_layout import (
    EXPECTED_LAYOUT,
    Entry,
    Review,
    convert_entry,
    read_title,
    settle_review,
    split_cell,
    text_entries,
)

if TYPE_CHECKING:
    from docx.table import _Row

KINDS = ("docx", "pdf", "txt")
SUFFIXES = {".docx": "docx", ".pdf": "pdf", ".txt": "txt", ".text": "txt"}
# A matrix is 1-2 MB of Word XML for 350 recommendations; 64 MB is thirty times the largest review.
MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_UNPACKED_BYTES = 256 * 1024 * 1024
MAX_PDF_PAGES = 3_000
EXPECTED_COLUMNS = "Recommendation, Position and Full list of themes"
ZIP_MAGIC = b"PK\x03\x04"
PDF_MAGIC = b"%PDF-"


class MatrixFileError(ValueError):
    """The file as a whole cannot be read as a matrix; the message says what was expected."""


def kind_of(head: bytes, hint: str | None) -> str:
    """docx, pdf or txt: the caller's hint (file suffix, Content-Type) first, else the content's signature."""
    if hint in KINDS:
        return hint
    if head.startswith(ZIP_MAGIC):
        return "docx"
    return "pdf" if head.startswith(PDF_MAGIC) else "txt"


def looks_like_matrix(head: bytes) -> bool:
    """A Word document, a PDF, or text with the matrix's "Source of position:" lines."""
    return head.startswith((ZIP_MAGIC, PDF_MAGIC)) or b"Source of position" in head


def _read_bounded(stream: IO[bytes], label: str) -> bytes:
    data = stream.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise MatrixFileError(f"{label} is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB, the most a matrix may be")
    return data


def _header_columns(cells: list[str]) -> dict[str, int] | None:
    """Column positions by header name, or None when the row is not the matrix's header."""
    found: dict[str, int] = {}
    for index, cell in enumerate(cells):
        name = " ".join(cell.split()).casefold()
        if name.startswith("recommendation"):
            found.setdefault("text", index)
        elif name.startswith("position"):
            found.setdefault("position", index)
        elif "theme" in name:
            found.setdefault("themes", index)
        elif "sdg" in name:
            found.setdefault("sdgs", index)
    return found if {"text", "position", "themes"} <= found.keys() else None


def _docx(data: bytes, label: str) -> tuple[Review | None, list[Entry | RowError]]:
    """The review and the entries of the matrix's table (row errors for rows that cannot be entries)."""
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise MatrixFileError(
            f"{label} is not a Word document: a .docx is a zip archive and this file is not one "
            f"(it starts with {data[:8]!r}); expected the matrix as OHCHR publishes it (.docx), a .pdf or a .txt"
        )
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        unpacked = sum(item.file_size for item in archive.infolist())
    if unpacked > MAX_UNPACKED_BYTES:
        raise MatrixFileError(
            f"{label} unpacks to {unpacked // (1024 * 1024)} MB; a matrix unpacks to at most "
            f"{MAX_UNPACKED_BYTES // (1024 * 1024)} MB"
        )
    try:
        document = docx.Document(io.BytesIO(data))
    except (
        PackageNotFoundError,
        KeyError,
        ValueError,
        zipfile.BadZipFile,
        SyntaxError,
    ) as exc:  # lxml's XMLSyntaxError is one
        raise MatrixFileError(f"{label} is a zip archive but not a readable Word document ({exc})") from None
    review = None
    for section in document.sections:
        for part in (section.header, section.first_page_header, section.even_page_header):
            review = review or read_title("\n".join(p.text for p in part.paragraphs))
    review = review or read_title("\n".join(p.text for p in document.paragraphs[:50]))
    review = review or read_title(document.core_properties.title or "")
    for table in document.tables:
        rows = table.rows
        columns = _header_columns([cell.text for cell in rows[0].cells]) if len(rows) else None
        if columns is not None:
            return review, list(_table_entries(rows, columns))
    first = [" ".join(cell.text.split())[:40] for cell in document.tables[0].rows[0].cells] if document.tables else []
    found = f"its first table's header is {first!r}" if document.tables else "it has no table"
    raise MatrixFileError(f"{label} has no table with the columns {EXPECTED_COLUMNS}: {found}")


def _table_entries(rows: Iterable[_Row], columns: dict[str, int]) -> Iterator[Entry | RowError]:
    width = max(columns.values()) + 1
    for number, row in enumerate(rows, start=1):
        if number == 1:
            continue
        cells = [cell.text for cell in row.cells]
        text = cells[columns["text"]].strip() if len(cells) > columns["text"] else ""
        if not any(c.strip() for c in cells) or text.startswith("Theme:") or _header_columns(cells) is not None:
            continue  # blank rows, "Theme: A12 ..." headings, the header repeated
        if len(cells) < width:
            yield RowError(number, "row", f"has {len(cells)} cells; the header has at least {width}")
            continue
        if sum(len(c) for c in cells) > MAX_RECORD_BYTES:
            yield RowError(number, "row", f"holds more than {MAX_RECORD_BYTES // (1024 * 1024)} MiB of text")
            continue
        entry = Entry(number)
        split_cell(cells[columns["text"]].splitlines(), entry)
        entry.position = cells[columns["position"]]
        entry.themes = cells[columns["themes"]].splitlines()
        if "sdgs" in columns:
            entry.sdgs = [line for line in cells[columns["sdgs"]].splitlines() if line.strip()]
        yield entry


def _pdf_text(data: bytes, label: str) -> str:
    """The text of every page; a clear error for a protected, scanned or broken PDF."""
    try:
        return pdf_text(data, label, max_pages=MAX_PDF_PAGES, expected="a PDF with selectable text, or the .docx")
    except ValueError as exc:
        raise MatrixFileError(str(exc)) from None


def pdf_text(data: bytes, label: str, *, max_pages: int, expected: str) -> str:
    """The text of every page of a PDF; `ValueError` saying why for a protected, scanned, long or broken one."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise _Refused(f"{label} is password-protected; expected a PDF that opens without a password")
        if len(reader.pages) > max_pages:
            raise _Refused(f"{label} has {len(reader.pages)} pages; at most {max_pages} are read")
        pages = [page.extract_text() or "" for page in reader.pages]
    except _Refused as exc:
        raise ValueError(str(exc)) from None
    except (PdfReadError, ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
        raise ValueError(f"{label} is not a readable PDF ({str(exc)[:120]})") from None
    text = "\n".join(pages)
    if not text.strip():
        raise ValueError(f"{label} has no text to read (a scanned document?); expected {expected}")
    return text


class _Refused(Exception):
    """A PDF that opened but is refused (password, pages): its message is the caller's."""


def _text(data: bytes, label: str) -> str:
    try:
        return decode_text(data, label, "the matrix")
    except ValueError as exc:
        raise MatrixFileError(str(exc)) from None


def decode_text(data: bytes, label: str, what: str) -> str:
    """Text in UTF-16 (with its byte-order mark) or UTF-8; `ValueError` naming the byte otherwise."""
    for bom, encoding in ((b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if data.startswith(bom):
            return data.decode(encoding)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{label} is not UTF-8 text (byte {exc.start}); save {what} as UTF-8 text") from None


class MatrixSource:
    """Read a matrix (.docx, .pdf or .txt) as (row or line, record, errors); `given` completes the review."""

    format = "matrix"

    def __init__(self, opener: Opener, *, kind: str | None = None, given: Review | None = None, name: str = "") -> None:
        self._open = opener
        self._hint = kind
        self._given = given or Review()
        self._label = name or "the file"
        self.rows_read = 0
        self.unit = "row" if kind == "docx" else "line"

    def rows(self) -> Iterator[Row]:
        self.rows_read = 0
        with self._open() as stream:
            data = b""
            try:
                data = _read_bounded(stream, self._label)
                kind = kind_of(data[:8], self._hint)
                self.unit = "row" if kind == "docx" else "line"
                if not data.strip():
                    raise MatrixFileError(
                        f"{self._label} is empty; expected a matrix of recommendations (.docx, .pdf or .txt)"
                    )
                review, entries = self._entries(kind, data)
            except MatrixFileError as exc:
                yield 1, None, [RowError(1, "file", str(exc))]
                return
        settled, problem = settle_review(review, self._given)
        if settled is None:
            yield 1, None, [RowError(1, "review", f"{self._label}: {problem}")]
            return
        if not any(isinstance(e, Entry) for e in entries):
            expected = f"a table with the columns {EXPECTED_COLUMNS}" if kind == "docx" else EXPECTED_LAYOUT
            yield 1, None, [RowError(1, "file", f"{self._label} holds no recommendation; expected {expected}")]
            return
        for entry in entries:
            self.rows_read += 1
            if isinstance(entry, RowError):
                yield entry.line, None, [entry]
                continue
            record, problems = convert_entry(entry, settled)
            yield entry.number, record, [RowError(entry.number, f, r) for f, r in problems]

    def _entries(self, kind: str, data: bytes) -> tuple[Review | None, list[Entry | RowError]]:
        if kind == "docx":
            return _docx(data, self._label)
        text = _pdf_text(data, self._label) if kind == "pdf" else _text(data, self._label)
        review: Review | None = None
        entries: list[Entry | RowError] = []
        for item in text_entries(enumerate(text.splitlines(), start=1)):
            if isinstance(item, Review):
                review = item
            elif sum(len(line) for line in item.text + item.themes) > MAX_RECORD_BYTES:
                entries.append(RowError(item.number, "row", f"holds more than {MAX_RECORD_BYTES} characters"))
            else:
                entries.append(item)
        return review, entries


__all__ = ["KINDS", "SUFFIXES", "MatrixFileError", "MatrixSource", "Review", "kind_of", "looks_like_matrix"]
