"""What an export's file is called, and the mark that makes a spreadsheet read its CSV as UTF-8.

A file saved from `/v1/recommendations/export?state=MEX&response=supported` is named
`recommendations_MEX_supported_2026-12-08.csv`, so two downloads of different filters never
overwrite each other and the name says what is inside. CSV files start with the UTF-8 byte order
mark: without it Excel reads "Côte d'Ivoire" as "CÃ´te d'Ivoire". The importers read the mark.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import date

from app.models.common import utcnow

BOM = "\ufeff".encode()
MAX_PARTS = 6  # filters named in the file name; more make it unreadable, the file's content says the rest
MAX_PART = 30


def _part(value: object) -> str:
    return re.sub(r"[^A-Za-z0-9.-]+", "-", str(value)).strip("-.")[:MAX_PART]


def download_name(kind: str, filters: Iterable[object], fmt: str, *, day: date | None = None) -> str:
    """`kind_filter_filter_YYYY-MM-DD.fmt`: the export, its filters (safe characters only) and the day.

    >>> download_name("recommendations", ["MEX", "supported", "cycle3"], "csv", day=date(2026, 12, 8))
    'recommendations_MEX_supported_cycle3_2026-12-08.csv'
    >>> download_name("funding", ['a"b/../c'], "xlsx", day=date(2026, 1, 2))
    'funding_a-b-c_2026-01-02.xlsx'
    """
    parts = [p for p in (_part(f) for f in filters) if p][:MAX_PARTS]
    when = day or utcnow().date()
    return "_".join([kind, *parts, f"{when:%Y-%m-%d}"]) + f".{fmt}"


def attachment(name: str) -> dict[str, str]:
    """The header that saves the answer as a file called `name`."""
    return {"Content-Disposition": f'attachment; filename="{name}"'}


def with_bom(body: Iterable[bytes]) -> Iterator[bytes]:
    """A CSV body with the UTF-8 byte order mark first."""
    yield BOM
    yield from body


__all__ = ["BOM", "attachment", "download_name", "with_bom"]
