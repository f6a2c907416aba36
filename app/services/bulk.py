"""The public bulk download: recommendations, public needs, providers and confirmed activities.

Each dataset is streamed as CSV (UTF-8 with a byte-order mark, so spreadsheet programs read the
accents; list cells joined by "; ", cells that could run as formulas escaped) or as one JSON
document that names the licence and the day it was made. Rows are what an anonymous visitor
sees (needs visible to the public, activities confirmed and not planned; no contact address),
read in keyset batches with a connection each, so a slow client never holds one.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, col, select

from app.core.identity import ANONYMOUS
from app.core.jsontypes import JsonObject
from app.importing.csv_layout import escape_cell, render_cell
from app.models.activity import Activity, ActivityPublic
from app.models.need import Need, NeedPublic
from app.models.provider import Provider, ProviderPublic
from app.services import access
from app.services import activities as activity_service
from app.services import needs as need_service
from app.services import recommendations as recommendation_service
from app.services.recommendation_filters import RecommendationFilters
from app.services.recommendations import EXPORT_FIELDS

LICENCE = "CC BY 4.0"
LICENCE_URL = "https://creativecommons.org/licenses/by/4.0/"
LICENCE_NOTE = (
    "Needs, provider profiles and activities: CC BY 4.0, credit the UPR cooperation repository. "
    "Recommendations: as their sources publish them (UN documents; UPR Info's database terms)."
)
DATASETS = ("recommendations", "needs", "providers", "activities")
FORMATS = ("csv", "json")
BATCH = 500
BOM = "\ufeff".encode()


def _fields(model: type[SQLModel]) -> tuple[str, ...]:
    return tuple(model.model_fields)


def _batched(
    engine: Engine,
    model: type[Any],
    condition: ColumnElement[bool],
    present: Callable[[Session, Sequence[Any]], Sequence[SQLModel]],
) -> Iterator[JsonObject]:
    """The rows of `model` meeting `condition`, by id, presented; one short session per batch."""
    after = ""
    while True:
        with Session(engine) as session:
            rows = session.exec(
                select(model).where(condition, col(model.id) > after).order_by(col(model.id)).limit(BATCH)
            ).all()
            shown = [item.model_dump(mode="json") for item in present(session, rows)]
        yield from shown
        if len(rows) < BATCH:
            return
        after = rows[-1].id


def _rows(engine: Engine, dataset: str) -> tuple[tuple[str, ...], Iterator[JsonObject]]:
    if dataset == "recommendations":
        return EXPORT_FIELDS, recommendation_service.export_rows(engine, RecommendationFilters())
    if dataset == "needs":
        return _fields(NeedPublic), _batched(
            engine, Need, access.need_read_clause(ANONYMOUS), lambda s, rows: need_service.present_needs(s, rows)
        )
    if dataset == "providers":
        return _fields(ProviderPublic), _batched(
            engine,
            Provider,
            col(Provider.id).is_not(None),
            lambda _s, rows: [ProviderPublic.model_validate(r.model_dump(exclude={"contact_email"})) for r in rows],
        )
    return _fields(ActivityPublic), _batched(
        engine,
        Activity,
        access.activity_read_clause(ANONYMOUS),
        lambda s, rows: activity_service.present_activities(s, rows, ANONYMOUS),
    )


def filename(dataset: str, fmt: str, today: date | None = None) -> str:
    """`upr-<dataset>-<day>.<fmt>`: the day a copy was made stays in its name."""
    return f"upr-{dataset}-{(today or datetime.now(UTC).date()).isoformat()}.{fmt}"


def stream(engine: Engine, *, dataset: str, fmt: str) -> Iterator[bytes]:
    """The dataset in `fmt` (csv or json), in chunks of bytes; rows are read as the client takes them."""
    header, rows = _rows(engine, dataset)
    if fmt == "csv":
        return _csv(header, rows)
    return _json(dataset, rows)


def _csv(header: Sequence[str], rows: Iterator[JsonObject]) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    yield BOM + buffer.getvalue().encode("utf-8")
    buffer.seek(0)
    buffer.truncate()
    for n, row in enumerate(rows, start=1):
        writer.writerow([escape_cell(render_cell(row.get(name))) for name in header])
        if n % BATCH == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode("utf-8")


def _json(dataset: str, rows: Iterator[JsonObject]) -> Iterator[bytes]:
    head = {
        "dataset": dataset,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "licence": LICENCE,
        "licence_url": LICENCE_URL,
        "licence_note": LICENCE_NOTE,
    }
    opening = json.dumps(head, ensure_ascii=False)[:-1] + ', "items": ['
    yield opening.encode("utf-8")
    parts: list[str] = []
    for n, row in enumerate(rows):
        parts.append(("," if n else "") + json.dumps(row, ensure_ascii=False, default=str))
        if len(parts) >= BATCH:
            yield "".join(parts).encode("utf-8")
            parts = []
    parts.append("]}")
    yield "".join(parts).encode("utf-8")
