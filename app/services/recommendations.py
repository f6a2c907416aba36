"""Recommendations: filtered listing, full-text search, facets, export and import.

The filters and their SQL are in `recommendation_filters`. With `q` the list is
ranked by FTS5's bm25 (SQLite) or `ts_rank` (PostgreSQL), otherwise ordered by
cycle, session, State and id; `sort="newest"` puts the newest review first (latest
cycle and session, then State and id) with or without `q`. A canonical record is shown with the ids and
sources of the other sources' copies of it (`present`).
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import IO, Any, Literal

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from sqlalchemy import ColumnElement, Select, Table, func, literal_column, select, tuple_
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.core.errors import NotFound, UnprocessableEntity, field_error
from app.core.jsontypes import JsonObject
from app.core.pagination import PageParams
from app.importing import MATRIX_FORMATS, Review, detect_format, open_source, run_import
from app.importing.core import RECORD_FIELDS, ProgressCallback
from app.importing.csv_layout import escape_cell, join_list, render_cell
from app.importing.store import FinishHook
from app.models.recommendation import (
    FacetCount,
    ImportSummary,
    Recommendation,
    RecommendationFacets,
    RecommendationPublic,
    ThemeFacetCount,
)
from app.models.translation import TRANSLATION_LANGUAGES
from app.reference.countries import resolve_iso3
from app.reference.themes import theme_index_values, theme_name
from app.services import audit
from app.services import translations as translation_service
from app.services.recommendation_filters import (
    FTS,
    MAX_QUERY_LENGTH,
    MEMBER_FILTERS,
    RAG,
    RS,
    RT,
    FilterValue,
    R,
    RecommendationFilters,
    conditions,
    fts5_query,
    fts_match,
    left_out,
    pg_tsv,
)

EXPORT_BATCH = 1_000
# The French and Spanish texts a source gives, after the record's own columns (empty without one);
# an import of the export reads the record's columns and leaves these aside.
TRANSLATED_COLUMNS: tuple[tuple[str, str], ...] = tuple((code, f"text_{code}") for code in TRANSLATION_LANGUAGES)
EXPORT_FIELDS: tuple[str, ...] = (*RECORD_FIELDS, *(name for _, name in TRANSLATED_COLUMNS))
XLSX_CHUNK = 1 << 16
# Above this many matches a page is found faster by walking the list-order index.
DENSE_MATCHES = 2_000

# (value, count) of one facet.
FacetRow = tuple[FilterValue, int]


def _is_postgres(session_or_engine: Session | Engine) -> bool:
    bind = session_or_engine.get_bind() if isinstance(session_or_engine, Session) else session_or_engine
    return bind.dialect.name == "postgresql"


def _conditions(
    filters: RecommendationFilters, *, postgres: bool, with_q: bool = True, exists: bool = False
) -> list[ColumnElement[bool]]:
    return conditions(filters, postgres=postgres, with_q=with_q, exists=exists)


_ORDER = (R.c.cycle, R.c.session, R.c.state_under_review, R.c.id)
# Newest review first: the list index read backwards for cycle and session, then State and id within a session.
_NEWEST = (R.c.cycle.desc(), R.c.session.desc(), R.c.state_under_review, R.c.id)
RecommendationSort = Literal["relevance", "newest"]
SORTS: tuple[RecommendationSort, ...] = ("relevance", "newest")


def list_recommendations(
    session: Session, *, filters: RecommendationFilters, page: PageParams, sort: RecommendationSort = "relevance"
) -> tuple[list[Recommendation], int]:
    """One page of recommendations matching the filters, and the total.

    `relevance`: best match first when `q` is given, else by cycle, session, State and id;
    `newest`: the newest review first.
    """
    filters = filters.normalised()
    postgres = _is_postgres(session)
    conds = _conditions(filters, postgres=postgres)
    stmt: Select[Any]
    if filters.q and sort != "newest":
        # Ranked by the English text alone unless a French or Spanish text matches too (one probe).
        translated = translation_service.any_text_matches(session, filters.q)
        if postgres:
            query = func.websearch_to_tsquery(literal_column("'english'"), filters.q)
            rank = func.ts_rank(pg_tsv(), query)
            if translated:
                rank = func.greatest(rank, translation_service.pg_translation_rank(filters.q))
            stmt = select(Recommendation).where(*conds).order_by(rank.desc(), R.c.id)
        elif translated:
            best = translation_service.sqlite_ranks(filters.q)
            stmt = (
                select(Recommendation)
                .join(best, best.c.id == R.c.id)
                .where(*_conditions(filters, postgres=False, with_q=False))
                .order_by(best.c.rank, R.c.id)
            )
        else:
            stmt = (
                select(Recommendation)
                .join(FTS, FTS.c.rowid == R.c.seq)
                .where(fts_match(filters.q), *_conditions(filters, postgres=False, with_q=False))
                .order_by(FTS.c.rank, R.c.id)
            )
        # The page and its total in one round trip (the total again on its own only past the last page).
        counted = stmt.add_columns(_count_query(session, filters, conds, translated=translated).scalar_subquery())
        found = session.execute(counted.limit(page.limit).offset(page.offset)).all()
        if found:
            return [row for row, _ in found], int(found[0][1])
        return [], _count(session, filters, conds, translated=translated)
    total = _count(session, filters, conds)
    if sort == "newest":
        dense = total > DENSE_MATCHES and not filters.q
        stmt = select(Recommendation).where(*_conditions(filters, postgres=postgres, exists=dense)).order_by(*_NEWEST)
    else:
        # Many matches: walk the order index and stop after a page (EXISTS); few: collect then sort (IN).
        dense = total > DENSE_MATCHES
        stmt = select(Recommendation).where(*_conditions(filters, postgres=postgres, exists=dense)).order_by(*_ORDER)
    rows = session.execute(stmt.limit(page.limit).offset(page.offset)).scalars().all()
    return list(rows), total


def _count_query(
    session: Session, filters: RecommendationFilters, conds: list[ColumnElement[bool]], *, translated: bool = False
) -> Select[Any]:
    """How many recommendations match; a lone search or list filter is counted on its own index.

    `translated`: some French or Spanish text matches the search, so the English index alone does not count it.
    """
    if filters.q and len(conds) == 1 and not left_out(filters) and not translated and not _is_postgres(session):
        # Only a search: count the FTS matches without visiting the recommendation rows.
        return select(func.count()).select_from(FTS).where(fts_match(filters.q))
    lone = _lone_member_filter(filters)
    if lone is not None:
        return _member_count(*lone, excluded=left_out(filters))
    return select(func.count()).select_from(R).where(*conds)


def _lone_member_filter(filters: RecommendationFilters) -> tuple[Table, str, tuple[FilterValue, ...]] | None:
    """(index table, value column, values) when a list filter (theme, SDG...) is the only filter given."""
    given = [(table, column, getattr(filters, name)) for name, table, column in MEMBER_FILTERS]
    given = [found for found in given if found[2]]
    cleared: JsonObject = {name: () for name, _, _ in MEMBER_FILTERS}  # replace() types each field
    return given[0] if len(given) == 1 and replace(filters, **cleared).is_empty() else None


def _member_count(
    index_table: Table, value_column: str, values: tuple[FilterValue, ...], *, excluded: list[ColumnElement[bool]]
) -> Select[Any]:
    """The recommendations having one of `values`, counted on the index table's (value, id) index.

    Each recommendation once: every matching row of the index table, less the rows of the records
    left out (other sources' copies, withdrawn records: each part found through its partial index),
    rather than a look-up of every row.
    """
    value = index_table.c[value_column]
    match = value == values[0] if len(values) == 1 else value.in_(values)
    # One value: an id has at most one row of it. Several: count each id once.
    counted = func.count() if len(values) == 1 else func.count(func.distinct(index_table.c.recommendation_id))
    rows = select(counted).select_from(index_table).where(match)
    if not excluded:
        return rows
    total: ColumnElement[Any] = rows.scalar_subquery()
    for part in excluded:
        ids = index_table.c.recommendation_id.in_(select(R.c.id).where(part))
        total = total - select(counted).select_from(index_table).where(match, ids).scalar_subquery()
    return select(total)


def _count(
    session: Session, filters: RecommendationFilters, conds: list[ColumnElement[bool]], *, translated: bool = False
) -> int:
    return int(session.execute(_count_query(session, filters, conds, translated=translated)).scalar_one())


def get_recommendation(session: Session, *, recommendation_id: str) -> Recommendation:
    """The recommendation with this id, or a 404 problem."""
    row = session.get(Recommendation, recommendation_id)
    if row is None:
        raise NotFound(f"Recommendation {recommendation_id!r} does not exist.")
    return row


def present(session: Session, rows: list[Recommendation], *, lang: str | None = None) -> list[RecommendationPublic]:
    """Recommendations as the API shows them: a canonical record lists the other sources' copies of it.

    With `lang` (en, fr, es), each text is shown in that language where a source gives it,
    with the fields saying which language is shown, the original and the languages there are.
    """
    copies: dict[str, list[tuple[str, str]]] = {r.id: [] for r in rows if r.canonical_id is None}
    if copies:
        found = session.execute(
            select(R.c.canonical_id, R.c.id, R.c.source).where(R.c.canonical_id.in_(list(copies))).order_by(R.c.id)
        )
        for canonical, rid, source in found:
            copies[canonical].append((rid, source))
    shown = []
    for row in rows:
        item = RecommendationPublic.model_validate(row)  # once: no copy to add the links
        item.theme_codes = theme_index_values(row.themes)
        linked = copies.get(row.id)
        if linked:
            item.linked_ids = [rid for rid, _ in linked]
            item.linked_sources = sorted({source for _, source in linked})
        shown.append(item)
    if lang is not None:
        translation_service.localise(session, shown, lang)
    return shown


def _counts(rows: Iterable[FacetRow]) -> list[FacetCount]:
    return [FacetCount(value=value, count=count) for value, count in rows]


def _by_count(items: Iterable[FacetRow]) -> list[FacetCount]:
    return _counts(sorted(items, key=lambda kv: (-kv[1], kv[0])))


def _member_facet(
    session: Session,
    index_table: Table,
    value_column: str,
    conds: list[ColumnElement[bool]],
    *,
    only_counted: bool,
    excluded: list[ColumnElement[bool]],
) -> list[FacetRow]:
    """Counts per value of a list field among the matching recommendations."""
    value = index_table.c[value_column]
    stmt = select(value, func.count()).group_by(value)
    if only_counted and excluded:
        # No filter but the records left out by default (copies, withdrawn): every row of the index
        # table, less those records' rows (few, found through their partial indexes), is cheaper than a join.
        counts = Counter({v: n for v, n in session.execute(stmt)})
        for part in excluded:
            ids = index_table.c.recommendation_id.in_(select(R.c.id).where(part))
            dropped = select(value, func.count()).where(ids).group_by(value)
            counts.subtract({v: n for v, n in session.execute(dropped)})
        return [(v, n) for v, n in counts.items() if n > 0]
    if conds:
        # A join (not IN): the filtered ids come off the covering index and each probes
        # the index table's primary key, with no temporary id list to build.
        stmt = stmt.select_from(R.join(index_table, index_table.c.recommendation_id == R.c.id)).where(*conds)
    return [(v, n) for v, n in session.execute(stmt)]


def get_facets(session: Session, *, filters: RecommendationFilters) -> RecommendationFacets:
    """Counts per theme, State, cycle, response, SDG, affected group and source among the matching recommendations."""
    filters = filters.normalised()
    conds = _conditions(filters, postgres=_is_postgres(session))
    # One grouped pass gives states, cycles, responses and sources (and the total); on an
    # unfiltered table it is a scan of the covering (state, response, cycle, ...) index.
    grouped = session.execute(
        select(R.c.state_under_review, R.c.cycle, R.c.response, R.c.source, func.count())
        .where(*conds)
        .group_by(R.c.state_under_review, R.c.cycle, R.c.response, R.c.source)
    ).all()
    states: Counter[str] = Counter()
    cycles: Counter[int] = Counter()
    responses: Counter[str] = Counter()
    sources: Counter[str] = Counter()
    for state, cycle, response, source, count in grouped:
        states[state] += count
        cycles[cycle] += count
        responses[response] += count
        sources[source] += count
    only_counted = filters.is_empty()
    excluded = left_out(filters)

    def facet(index_table: Table, value_column: str) -> list[FacetRow]:
        return _member_facet(session, index_table, value_column, conds, only_counted=only_counted, excluded=excluded)

    return RecommendationFacets(
        total=sum(states.values()),
        themes=[
            ThemeFacetCount(value=f.value, count=f.count, label=theme_name(str(f.value)))
            for f in _by_count(facet(RT, "theme"))
        ],
        states=_by_count(states.items()),
        cycles=_counts(sorted(cycles.items())),
        responses=_by_count(responses.items()),
        sdgs=_counts(sorted(facet(RS, "sdg"))),
        affected_groups=_by_count(facet(RAG, "affected_group")),
        sources=_by_count(sources.items()),
    )


def _export_rows(engine: Engine, filters: RecommendationFilters) -> Iterator[JsonObject]:
    """The matching rows in list order, read in keyset batches of EXPORT_BATCH.

    Each batch checks a connection out and returns it before any row is yielded, so a
    client that reads slowly (or not at all) never holds a pooled connection. A row
    written while the export runs shows if it sorts after the rows already sent.
    """
    conds = _conditions(filters, postgres=_is_postgres(engine))
    columns = [R.c[name] for name in RECORD_FIELDS]
    stmt = select(*columns).where(*conds).order_by(*_ORDER).limit(EXPORT_BATCH)
    after: tuple[object, ...] | None = None
    while True:
        batch = stmt if after is None else stmt.where(tuple_(*_ORDER) > tuple_(*after))
        with engine.connect() as conn:
            rows = [dict(row._mapping) for row in conn.execute(batch)]
            texts = translation_service.translations_for(conn, [row["id"] for row in rows])
        for row in rows:
            own = texts.get(row["id"], {})
            for language, name in TRANSLATED_COLUMNS:
                row[name] = own.get(language)
        yield from rows
        if len(rows) < EXPORT_BATCH:
            return
        last = rows[-1]
        after = tuple(last[c.name] for c in _ORDER)


def export_rows(engine: Engine, filters: RecommendationFilters) -> Iterator[JsonObject]:
    """The matching recommendations as export rows (`EXPORT_FIELDS`), read lazily in batches."""
    return _export_rows(engine, filters)


def export_lines(engine: Engine, *, filters: RecommendationFilters, fmt: str) -> Iterator[bytes]:
    """The matching recommendations as JSONL, CSV (our re-importable layout) or .xlsx, in chunks of bytes.

    Each row ends with the French and Spanish texts (`text_fr`, `text_es`), empty where no source gives one.

    Filters are checked now (a 422 before anything is streamed); rows are read lazily.
    """
    filters = filters.normalised()
    if fmt == "xlsx":
        return _xlsx_chunks(engine, filters)
    return _export_chunks(engine, filters, fmt)


def _xlsx_value(value: object) -> object:
    """A record value as a spreadsheet cell: lists as "; "-joined text, no control characters."""
    if isinstance(value, list):
        value = join_list(value)
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return value


def _xlsx_chunks(engine: Engine, filters: RecommendationFilters) -> Iterator[bytes]:
    """An .xlsx workbook of the matching rows (`xlsx_table`), rows read lazily."""
    # A missing translation is an empty text cell, so every row is as wide as the header (no cell is no column).
    translated = {name for _, name in TRANSLATED_COLUMNS}
    rows = (
        [row[name] if row[name] is not None or name not in translated else "" for name in EXPORT_FIELDS]
        for row in _export_rows(engine, filters)
    )
    return xlsx_table("Recommendations", EXPORT_FIELDS, rows)


def xlsx_table(sheet_name: str, header: Sequence[str], rows: Iterable[Sequence[object]]) -> Iterator[bytes]:
    """An .xlsx workbook of one sheet, built in openpyxl's write-only mode, in chunks of bytes.

    Rows go to the worksheet's temporary file as they are read (bounded memory, no
    connection held); the zipped workbook is written to a temporary file, then sent
    in chunks. Text is always a string cell, never a formula.
    """
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_name)
    sheet.freeze_panes = "A2"
    sheet.append(list(header))
    for row in rows:
        cells = []
        for raw in row:
            value = _xlsx_value(raw)
            if isinstance(value, str) and value.startswith("="):
                cell = WriteOnlyCell(sheet, value=value)
                cell.data_type = "s"  # openpyxl would store "=..." as a formula
                value = cell
            cells.append(value)
        sheet.append(cells)
    with tempfile.TemporaryFile() as spool:
        workbook.save(spool)
        spool.seek(0)
        while chunk := spool.read(XLSX_CHUNK):
            yield chunk


def csv_table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """A small table as CSV (list cells joined by "; ", cells that could run as formulas escaped)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([escape_cell(render_cell(value)) for value in row])
    return buffer.getvalue().encode("utf-8")


def _export_chunks(engine: Engine, filters: RecommendationFilters, fmt: str) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if fmt == "csv":
        writer.writerow(EXPORT_FIELDS)
    for n, row in enumerate(_export_rows(engine, filters), start=1):
        if fmt == "csv":
            writer.writerow([escape_cell(render_cell(row[name])) for name in EXPORT_FIELDS])
        else:
            buffer.write(json.dumps(row, ensure_ascii=False, separators=(",", ":"), default=str))  # dates as ISO
            buffer.write("\n")
        if n % 500 == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode("utf-8")


def import_recommendations(
    session: Session,
    *,
    file: Path | IO[bytes],
    fmt: str,
    dry_run: bool = False,
    max_rows: int,
    progress: ProgressCallback | None = None,
    actor: audit.Actor = audit.COMMAND_LINE,
    finish: FinishHook | None = None,
    state: str | None = None,
    cycle: int | None = None,
    review_session: int | None = None,
) -> ImportSummary:
    """Validate a whole file, then upsert it in one transaction; a 422 listing every bad row otherwise.

    `fmt` "auto" tells the format from the content (`detect_format`). The groups of
    recommendations the import writes are relinked across sources in the same transaction, as is
    the import's audit row (by `actor`), and `finish` is called last (a sync marks withdrawn records);
    a dry run writes none of them. `state`, `cycle` and `review_session` give what a matrix of
    recommendations does not say of its review.
    """
    from app.services import linking

    def record(written: Session, detail: JsonObject) -> None:
        audit.record(
            written, actor, resource="recommendations", resource_id=str(uuid.uuid4()), action="import", detail=detail
        )

    fmt = detect_format(file) if fmt == "auto" else fmt
    source = open_source(file, fmt, review_options(fmt, state=state, cycle=cycle, session=review_session))
    return run_import(
        session,
        source,
        dry_run=dry_run,
        max_rows=max_rows,
        progress=progress,
        link=linking.link_groups,
        audit=record,
        finish=finish,
    )


def review_options(fmt: str, *, state: str | None, cycle: int | None, session: int | None) -> Review | None:
    """The review options of a matrix import, checked: a known State; none at all for the other formats."""
    given = {"state": state, "cycle": cycle, "session": session}
    named = [name for name, value in given.items() if value is not None]
    if fmt != "matrix" and fmt not in MATRIX_FORMATS:
        if named:
            raise UnprocessableEntity(
                f"{', '.join(named)} apply to a matrix of recommendations only; this file is {fmt}.",
                errors=[field_error(["query", n], "only for a matrix of recommendations") for n in named],
            )
        return None
    code = resolve_iso3(state) if state is not None else None
    if state is not None and code is None:
        raise UnprocessableEntity(
            f"Unknown State {state!r}.",
            errors=[field_error(["query", "state"], f"unknown State {state!r}; expected an ISO3 code or a name")],
        )
    return Review(state=code, cycle=cycle, session=session)


__all__ = [
    "MAX_QUERY_LENGTH",
    "RecommendationFilters",
    "csv_table",
    "export_lines",
    "xlsx_table",
    "fts5_query",
    "get_facets",
    "get_recommendation",
    "import_recommendations",
    "list_recommendations",
    "review_options",
    "present",
]
