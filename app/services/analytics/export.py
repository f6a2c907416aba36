"""The analytics as tables (CSV, .xlsx): every row of a measure, with the same numbers as the API.

Each table is the measure's rows (all of them, no page) followed by a line saying the slice, the
date and the sources, so a spreadsheet passed on keeps what it counts.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Literal

from sqlmodel import Session

from app.core.identity import Principal
from app.core.pagination import PageParams
from app.match_index.index import MatchIndex
from app.models.common import utcnow
from app.services.analytics import needs, pipeline
from app.services.analytics.reference import theme_sdg_source
from app.services.analytics.slices import Slice
from app.services.recommendations import csv_table, xlsx_table

Measure = Literal["pipeline", "unserved-needs", "supply-demand", "funding"]
ExportFormat = Literal["csv", "xlsx"]
ALL = PageParams(limit=1_000_000, offset=0)
STAGES = ("supported", "not_started", "requested", "under_way", "done")


def _counts(values: Mapping[str, int]) -> str:
    return "; ".join(f"{key}: {n}" for key, n in values.items())


def table(
    session: Session,
    *,
    principal: Principal,
    measure: Measure,
    piece: Slice,
    by: str | None = None,
    index: MatchIndex | None = None,
) -> tuple[list[str], list[list[object]]]:
    """The header and every row of one measure."""
    if measure == "pipeline":
        page = pipeline.get_pipeline(session, principal=principal, piece=piece, by=by or "theme", page=ALL)  # type: ignore[arg-type]  # the route passes its Literal
        rows = [[r.key, r.label, *(getattr(r, s) for s in STAGES)] for r in [*page.items, page.totals]]
        return [by or "theme", "label", *STAGES], rows
    if measure == "unserved-needs":
        unserved = needs.get_unserved(session, principal=principal, piece=piece, by=by or "theme", page=ALL)  # type: ignore[arg-type]  # the route passes its Literal
        rows = [[r.key, r.label, r.needs, r.weak_match, r.all_declined] for r in unserved.items]
        return [by or "theme", "label", "unserved_needs", "weak_match", "all_declined"], rows
    if measure == "supply-demand":
        supply = needs.get_supply_demand(session, principal=principal, piece=piece, index=index, page=ALL)
        rows = [
            [
                r.theme,
                r.label,
                r.open_needs,
                r.providers,
                _counts(r.need_regions),
                _counts(r.provider_regions),
                _counts(r.need_languages),
                _counts(r.provider_languages),
                r.regions_without_provider,
                r.languages_without_provider,
            ]
            for r in supply.items
        ]
        header = [
            "theme",
            "label",
            "open_needs",
            "providers",
            "need_regions",
            "provider_regions",
            "need_languages",
            "provider_languages",
            "regions_without_provider",
            "languages_without_provider",
        ]
        return header, rows
    funding = pipeline.get_funding(session, principal=principal, piece=piece, page=ALL)
    rows = [
        [
            r.sdg,
            pipeline.sdg_label(r.sdg),
            r.required,
            r.available,
            r.gap,
            r.states_with_data,
            r.states_counted,
            r.supported_recommendations,
            r.open_needs,
        ]
        for r in funding.items
    ]
    header = [
        "sdg",
        "label",
        "usd_required",
        "usd_available",
        "usd_gap",
        "states_with_data",
        "states_summed",
        "supported_recommendations",
        "open_needs",
    ]
    return header, rows


def footer(session: Session, measure: Measure, piece: Slice) -> list[str]:
    """The last line of a table: slice, date and sources."""
    note = f"Slice: {piece.describe()}. Computed {utcnow():%d %B %Y %H:%M} UTC."
    if measure == "funding":
        note += " " + pipeline.funding_source(session)[0] + " SDG links: " + theme_sdg_source() + "."
    return [note]


def export(
    session: Session,
    *,
    principal: Principal,
    measure: Measure,
    piece: Slice,
    fmt: ExportFormat,
    by: str | None = None,
    index: MatchIndex | None = None,
) -> Iterator[bytes]:
    """One measure as CSV or .xlsx bytes."""
    header, rows = table(session, principal=principal, measure=measure, piece=piece, by=by, index=index)
    lines: Sequence[Sequence[object]] = [*rows, footer(session, measure, piece)]
    if fmt == "xlsx":
        return xlsx_table(measure.replace("-", " ").capitalize(), header, lines)
    return iter([csv_table(header, lines)])


__all__ = ["ExportFormat", "Measure", "export", "table"]
