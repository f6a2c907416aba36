"""A document read as its paragraphs or numbered items: a stakeholder submission, an NGO's asks, a national
action plan, a provider's programme description (.docx, .pdf or .txt).

Each item is what a person would link to recommendations on its own: a paragraph, or a numbered or bulleted
item ("1.", "2.3", "a)", "-", "•"). In a PDF or a text file the lines of one paragraph are joined (a blank
line or a new number ends it); in a Word document every paragraph and table cell is one. Items of fewer
than `MIN_WORDS` words (page numbers) and headings (unnumbered, short, no full stop) are left out. The
file's faults are `DocumentError`s naming the file and what was expected: too large, too many pages or
items, a scanned PDF without text, a password, a corrupt file.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass

from app.importing.matrix import PDF_MAGIC, ZIP_MAGIC, decode_text, pdf_text

__all__ = [
    "DOCUMENT_KINDS",
    "MAX_DOCUMENT_BYTES",
    "MAX_DOCUMENT_PAGES",
    "MAX_ITEMS",
    "DocumentError",
    "Item",
    "read_document",
    "split_items",
]

DOCUMENT_KINDS = {".docx": "docx", ".pdf": "pdf", ".txt": "txt"}
#: A submission is a few pages: 5 MB holds a long one with pictures.
MAX_DOCUMENT_BYTES = 5 * 1024 * 1024
MAX_UNPACKED_BYTES = 50 * 1024 * 1024
MAX_DOCUMENT_PAGES = 60
#: Items linked in one mapping (each is ranked against the recommendations).
MAX_ITEMS = 300
MIN_WORDS = 4
#: An unnumbered line shorter than this that does not end a sentence is a heading.
HEADING_WORDS = 8
#: An encrypted Office document (and an old .doc) is an OLE compound file, not a zip archive.
OLE_MAGIC = b"\xd0\xcf\x11\xe0"
MAX_ITEM_CHARS = 6_000

_NUMBERED = re.compile(r"^\s*(\d{1,3}(?:\.\d{1,3}){0,3}[.)]?|[a-zA-Z][.)]|\([a-zA-Z0-9]{1,4}\)|[-•*▪◦–])\s+(?=\S)")


class DocumentError(ValueError):
    """The file cannot be read as a document; the message names it and says what was expected."""


@dataclass(frozen=True, slots=True)
class Item:
    """One paragraph or numbered item: its place (1-based), its own number or bullet as written, its text."""

    number: int
    label: str | None
    text: str


def read_document(data: bytes, filename: str) -> list[Item]:
    """The items of a .docx, .pdf or .txt file (the kind read from its name, checked against its content)."""
    suffix = filename[filename.rfind(".") :].casefold() if "." in filename else ""
    kind = DOCUMENT_KINDS.get(suffix)
    if kind is None:
        raise DocumentError(f"{filename}: expected a .docx, .pdf or .txt file, not {suffix or 'a file without one'}")
    if len(data) > MAX_DOCUMENT_BYTES:
        raise DocumentError(f"{filename} is larger than {MAX_DOCUMENT_BYTES // (1024 * 1024)} MB, the most read")
    if not data.strip():
        raise DocumentError(f"{filename} is empty")
    if kind == "docx":
        blocks = _docx_blocks(data, filename)
    elif kind == "pdf":
        if not data.startswith(PDF_MAGIC):
            raise DocumentError(f"{filename} is not a PDF (it starts with {data[:8]!r})")
        try:
            blocks = split_blocks(pdf_text(data, filename, max_pages=MAX_DOCUMENT_PAGES, expected=_PDF_EXPECTED))
        except ValueError as exc:
            raise DocumentError(str(exc)) from None
    else:
        blocks = split_blocks(_decode(data, filename))
    items = split_items(blocks)
    if not items:
        raise DocumentError(f"{filename} has no paragraph of {MIN_WORDS} words or more to link")
    if len(items) > MAX_ITEMS:
        raise DocumentError(f"{filename} has {len(items)} paragraphs; at most {MAX_ITEMS} are linked in one mapping")
    return items


_PDF_EXPECTED = "a PDF with selectable text (or the .docx)"


def split_blocks(text: str) -> list[str]:
    """Paragraphs of plain text: lines joined until a blank line or a line that starts a numbered item.

    >>> split_blocks("1. Train the\\npolice.\\n2. Ratify OPCAT.\\n\\nA new\\nparagraph.")
    ['1. Train the police.', '2. Ratify OPCAT.', 'A new paragraph.']
    """
    blocks: list[str] = []
    current: list[str] = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        stripped = line.strip()
        if not stripped or (_NUMBERED.match(stripped) and current):
            if current:
                blocks.append(" ".join(current))
            current = [stripped] if stripped else []
        else:
            current.append(stripped)
    if current:
        blocks.append(" ".join(current))
    return blocks


def split_items(blocks: list[str]) -> list[Item]:
    """The blocks of `MIN_WORDS` words or more, each with its own number or bullet as written.

    >>> [(i.number, i.label, i.text) for i in split_items(["Our asks", "2.1 Train prosecutors on torture cases"])]
    [(1, '2.1', 'Train prosecutors on torture cases')]
    """
    items: list[Item] = []
    for block in blocks:
        text = " ".join(block.split())
        found = _NUMBERED.match(text)
        label = found.group(1).rstrip(".)") if found and found.group(1)[0].isalnum() else None
        body = text[found.end() :] if found else text
        words = len(body.split())
        if words < MIN_WORDS or (found is None and words < HEADING_WORDS and body[-1] not in ".;!?"):
            continue  # a page number, a heading
        items.append(Item(len(items) + 1, label, body[:MAX_ITEM_CHARS]))
    return items


def _decode(data: bytes, label: str) -> str:
    try:
        return decode_text(data, label, "it")
    except ValueError as exc:
        raise DocumentError(str(exc)) from None


def _docx_blocks(data: bytes, label: str) -> list[str]:
    """Every paragraph of a Word document, then the text of its table cells, in order."""
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    if data.startswith(OLE_MAGIC):
        raise DocumentError(
            f"{label} is password-protected or an old Word (.doc) file; expected a .docx that opens without a password"
        )
    if not data.startswith(ZIP_MAGIC) or not zipfile.is_zipfile(io.BytesIO(data)):
        raise DocumentError(
            f"{label} is not a Word document: a .docx is a zip archive and this file is not one "
            "(an old .doc, or a damaged file?); save it as .docx, .pdf or .txt"
        )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(item.file_size for item in archive.infolist())
            if unpacked > MAX_UNPACKED_BYTES:
                raise DocumentError(f"{label} unpacks to {unpacked // (1024 * 1024)} MB; at most 50 MB are read")
        document = docx.Document(io.BytesIO(data))
    except DocumentError:
        raise
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile, SyntaxError) as exc:
        raise DocumentError(f"{label} is a zip archive but not a readable Word document ({exc})") from None
    blocks = [p.text for p in document.paragraphs if p.text.strip()]
    for table in document.tables:
        for row in table.rows:
            blocks += [cell.text for cell in row.cells if cell.text.strip()]
    return list(dict.fromkeys(blocks)) if blocks else []
