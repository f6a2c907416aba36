"""Opening import files more than once, and detecting the text encoding of CSV files."""

from __future__ import annotations

import codecs
import io
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

Opener = Callable[[], BinaryIO]

CHUNK = 1 << 16


class _Unclosable(io.RawIOBase):
    """A view of a seekable binary file, rewound, that leaves the file open when closed."""

    def __init__(self, inner: IO[bytes]) -> None:
        inner.seek(0)
        self._inner = inner

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        data = self._inner.read(len(view))
        view[: len(data)] = data
        return len(data)


def opener_for(target: Path | IO[bytes]) -> Opener:
    """A function returning a fresh binary stream of a path or of a seekable file object."""
    if isinstance(target, Path):
        return lambda: open(target, "rb")
    return lambda: io.BufferedReader(_Unclosable(target), CHUNK)


def detect_csv_encoding(opener: Opener) -> str:
    """'utf-8-sig' when the whole file is valid UTF-8 (with or without BOM), else 'mac_roman'.

    The real UPR Info export is Mac Roman; every byte string decodes as Mac Roman,
    so it is the fallback rather than a guess among several legacy encodings.
    The file is read in chunks, never whole.
    """
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    with opener() as stream:
        try:
            while chunk := stream.read(CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "mac_roman"
    return "utf-8-sig"
