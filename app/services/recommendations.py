"""Recommendations: filtered listing, full-text search, facets, export and import.

Filters are plain SQL conditions on `recommendation`; list-valued filters (theme,
recommending State, SDG) are `id IN (SELECT recommendation_id FROM <index table>
WHERE ...)` semi-joins served by the index tables' (value, recommendation_id)
indexes. Full-text search uses SQLite FTS5 (porter stemmer, bm25 rank) or
PostgreSQL `to_tsvector('english', text)` with `websearch_to_tsquery` and
`ts_rank`, depending on the engine.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from sqlalchemy import ColumnElement, Select, column, func, literal_column, select, table, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.errors import NotFound, UnprocessableEntity, field_error
from app.importing import detect_format, open_source, run_import
from app.importing.core import RECORD_FIELDS, ProgressCallback
from app.importing.csv_layout import escape_cell, render_cell
from app.models.recommendation import (
    FacetCount,
    ImportSummary,
    Recommendation,
    RecommendationFacets,
    RecommendationRecommender,
    RecommendationSdg,
    RecommendationTheme,
)
from app.pagination import PageParams
from app.validation import normalise_iso3

R = Recommendation.__table__  # type: ignore[attr-defined]
RT = RecommendationTheme.__table__  # type: ignore[attr-defined]
RR = RecommendationRecommender.__table__  # type: ignore[attr-defined]
RS = RecommendationSdg.__table__  # type: ignore[attr-defined]
FTS = table("recommendation_fts", column("rowid"), column("rank"))

EXPORT_BATCH = 1_000
# Above this many matches a page is found faster by walking the list-order index.
DENSE_MATCHES = 2_000
MAX_QUERY_LENGTH = 200
# Words websearch_to_tsquery('english') drops too; FTS5 has no stop list, so drop them here
# to keep both backends' answers alike (inside "quoted phrases" every word is kept).
_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "in",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "that",
        "the",
        "this",
        "to",
        "with",
    ]
)
_TOKEN = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True, slots=True)
class RecommendationFilters:
    """The filters shared by list, facets and export (already type-checked by the route)."""

    state: str | None = None
    recommending_state: str | None = None
    cycle: int | None = None
    session: int | None = None
    response: str | None = None
    theme: str | None = None
    sdg: int | None = None
    action_category: int | None = None
    q: str | None = None

    def normalised(self) -> RecommendationFilters:
        """Upper-case the ISO3 filters, or raise a 422 naming the parameter."""
        state = normalise_iso3(self.state, loc=["query", "state"]) if self.state else None
        recommending = (
            normalise_iso3(self.recommending_state, loc=["query", "recommending_state"])
            if self.recommending_state
            else None
        )
        q = self.q.strip() if self.q else None
        if q:
            fts5_query(q)  # the same 422 on both backends for a query with no searchable word
        return RecommendationFilters(
            state, recommending, self.cycle, self.session, self.response, self.theme, self.sdg, self.action_category, q
        )


def fts5_query(q: str) -> str:
    """A safe FTS5 MATCH expression for a web-search style query.

    Words are AND-ed, "double-quoted text" is a phrase, a leading `-` excludes a
    word; every term is quoted, so FTS5 operators in the input are just words.
    """
    positives: list[str] = []
    negatives: list[str] = []
    for match in re.finditer(r'(-?)"([^"]*)"|(\S+)', q):
        if match.group(3) is not None:
            word = match.group(3)
            negate = word.startswith("-") and len(word) > 1
            tokens = [t.lower() for t in _TOKEN.findall(word)]
            tokens = [t for t in tokens if t not in _STOPWORDS]
            if not tokens:
                continue
            term = '"' + " ".join(tokens) + '"'
            (negatives if negate else positives).append(term)
        else:
            tokens = [t.lower() for t in _TOKEN.findall(match.group(2))]
            if tokens:
                (negatives if match.group(1) else positives).append('"' + " ".join(tokens) + '"')
    if not positives:
        raise UnprocessableEntity(
            "The search query has no searchable words.",
            errors=[field_error(["query", "q"], "needs at least one word that is not excluded or a stop word")],
        )
    expression = " AND ".join(positives)
    if negatives:
        expression = f"({expression}) NOT ({' OR '.join(negatives)})"
    return expression


def _is_postgres(session_or_engine: Session | Engine) -> bool:
    bind = session_or_engine.get_bind() if isinstance(session_or_engine, Session) else session_or_engine
    return bind.dialect.name == "postgresql"


def _pg_tsv() -> ColumnElement[Any]:
    # Spelled exactly as the GIN index expression, with a literal config, so the planner uses it.
    return func.to_tsvector(literal_column("'english'"), R.c.text)


def _member(index_table: Any, value_column: str, value: Any, *, exists: bool) -> ColumnElement[bool]:
    """`id` has a row with this value in an index table: as IN (few matches) or a correlated EXISTS."""
    if exists:
        # Correlated: lets SQLite walk the list-order index and stop after one page.
        return (
            select(literal_column("1"))
            .where(index_table.c.recommendation_id == R.c.id, index_table.c[value_column] == value)
            .exists()
        )
    return R.c.id.in_(select(index_table.c.recommendation_id).where(index_table.c[value_column] == value))


def _conditions(
    filters: RecommendationFilters, *, postgres: bool, with_q: bool = True, exists: bool = False
) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = []
    if filters.state:
        conds.append(R.c.state_under_review == filters.state)
    if filters.cycle is not None:
        conds.append(R.c.cycle == filters.cycle)
    if filters.session is not None:
        conds.append(R.c.session == filters.session)
    if filters.response:
        conds.append(R.c.response == filters.response)
    if filters.action_category is not None:
        conds.append(R.c.action_category == filters.action_category)
    if filters.theme:
        conds.append(_member(RT, "theme", filters.theme, exists=exists))
    if filters.recommending_state:
        conds.append(_member(RR, "state", filters.recommending_state, exists=exists))
    if filters.sdg is not None:
        conds.append(_member(RS, "sdg", filters.sdg, exists=exists))
    if with_q and filters.q:
        if postgres:
            conds.append(_pg_tsv().op("@@")(func.websearch_to_tsquery(literal_column("'english'"), filters.q)))
        else:
            conds.append(
                R.c.seq.in_(
                    select(FTS.c.rowid).where(
                        text("recommendation_fts MATCH :fts_q").bindparams(fts_q=fts5_query(filters.q))
                    )
                )
            )
    return conds


_ORDER = (R.c.cycle, R.c.session, R.c.state_under_review, R.c.id)


def list_recommendations(
    session: Session, *, filters: RecommendationFilters, page: PageParams
) -> tuple[list[Recommendation], int]:
    """One page of recommendations matching the filters, by relevance when `q` is given, and the total."""
    filters = filters.normalised()
    postgres = _is_postgres(session)
    conds = _conditions(filters, postgres=postgres)
    total = _count(session, filters, conds)
    stmt: Select[Any]
    if filters.q and postgres:
        query = func.websearch_to_tsquery(literal_column("'english'"), filters.q)
        stmt = select(Recommendation).where(*conds).order_by(func.ts_rank(_pg_tsv(), query).desc(), R.c.id)
    elif filters.q:
        match = text("recommendation_fts MATCH :fts_q").bindparams(fts_q=fts5_query(filters.q))
        stmt = (
            select(Recommendation)
            .join(FTS, FTS.c.rowid == R.c.seq)
            .where(match, *_conditions(filters, postgres=False, with_q=False))
            .order_by(FTS.c.rank, R.c.id)
        )
    else:
        # Many matches: walk the order index and stop after a page (EXISTS); few: collect then sort (IN).
        dense = total > DENSE_MATCHES
        stmt = select(Recommendation).where(*_conditions(filters, postgres=postgres, exists=dense)).order_by(*_ORDER)
    rows = session.execute(stmt.limit(page.limit).offset(page.offset)).scalars().all()
    return list(rows), total


def _count(session: Session, filters: RecommendationFilters, conds: list[ColumnElement[bool]]) -> int:
    """How many recommendations match; a lone search or list-valued filter is counted on its own index."""
    lone = [
        (index_table, column_name, value)
        for index_table, column_name, value in (
            (RT, "theme", filters.theme),
            (RR, "state", filters.recommending_state),
            (RS, "sdg", filters.sdg),
        )
        if value is not None
    ]
    if filters.q and len(conds) == 1 and not _is_postgres(session):
        # Only a search: count the FTS matches without visiting the recommendation rows.
        match = text("recommendation_fts MATCH :fts_q").bindparams(fts_q=fts5_query(filters.q))
        return int(session.execute(select(func.count()).select_from(FTS).where(match)).scalar_one())
    if len(lone) == 1 and len(conds) == 1:
        index_table, column_name, value = lone[0]
        stmt = select(func.count()).select_from(index_table).where(index_table.c[column_name] == value)
        return int(session.execute(stmt).scalar_one())
    return int(session.execute(select(func.count()).select_from(R).where(*conds)).scalar_one())


def get_recommendation(session: Session, *, recommendation_id: str) -> Recommendation:
    """The recommendation with this id, or a 404 problem."""
    row = session.get(Recommendation, recommendation_id)
    if row is None:
        raise NotFound(f"Recommendation {recommendation_id!r} does not exist.")
    return row


def _counts(rows: Any) -> list[FacetCount]:
    return [FacetCount(value=value, count=count) for value, count in rows]


def get_facets(session: Session, *, filters: RecommendationFilters) -> RecommendationFacets:
    """Counts per theme, State under review, cycle and response among the matching recommendations."""
    filters = filters.normalised()
    conds = _conditions(filters, postgres=_is_postgres(session))
    # One grouped pass gives states, cycles and responses (and the total); on an unfiltered
    # table it is a scan of the (state, response, cycle) index rather than three scans.
    grouped = session.execute(
        select(R.c.state_under_review, R.c.cycle, R.c.response, func.count())
        .where(*conds)
        .group_by(R.c.state_under_review, R.c.cycle, R.c.response)
    ).all()
    states: Counter[str] = Counter()
    cycles: Counter[int] = Counter()
    responses: Counter[str] = Counter()
    for state, cycle, response, count in grouped:
        states[state] += count
        cycles[cycle] += count
        responses[response] += count
    theme_stmt = select(RT.c.theme, func.count()).group_by(RT.c.theme)
    if conds:
        # A join (not IN): the filtered ids come off the covering index and each probes
        # recommendation_theme's primary key, with no temporary id list to build.
        theme_stmt = theme_stmt.select_from(R.join(RT, RT.c.recommendation_id == R.c.id)).where(*conds)
    themes = session.execute(theme_stmt).all()
    return RecommendationFacets(
        total=sum(states.values()),
        themes=_counts(sorted(themes, key=lambda kv: (-kv[1], kv[0]))),
        states=_counts(sorted(states.items(), key=lambda kv: (-kv[1], kv[0]))),
        cycles=_counts(sorted(cycles.items())),
        responses=_counts(sorted(responses.items(), key=lambda kv: (-kv[1], kv[0]))),
    )


def _export_rows(engine: Engine, filters: RecommendationFilters) -> Iterator[dict[str, Any]]:
    conds = _conditions(filters, postgres=_is_postgres(engine))
    columns = [R.c[name] for name in RECORD_FIELDS]
    stmt = select(*columns).where(*conds).order_by(*_ORDER)
    with engine.connect() as conn:
        # Server-side cursor on PostgreSQL; batches of EXPORT_BATCH rows on both backends.
        result = conn.execution_options(stream_results=True, yield_per=EXPORT_BATCH).execute(stmt)
        for row in result:
            yield dict(row._mapping)


def export_lines(engine: Engine, *, filters: RecommendationFilters, fmt: str) -> Iterator[bytes]:
    """The matching recommendations as JSONL or CSV (our re-importable layout), in chunks of bytes.

    Filters are checked now (a 422 before anything is streamed); rows are read lazily.
    """
    filters = filters.normalised()
    _conditions(filters, postgres=_is_postgres(engine))
    return _export_chunks(engine, filters, fmt)


def _export_chunks(engine: Engine, filters: RecommendationFilters, fmt: str) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if fmt == "csv":
        writer.writerow(RECORD_FIELDS)
    for n, row in enumerate(_export_rows(engine, filters), start=1):
        if fmt == "csv":
            writer.writerow([escape_cell(render_cell(row[name])) for name in RECORD_FIELDS])
        else:
            buffer.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")))
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
) -> ImportSummary:
    """Validate a whole file, then upsert it in one transaction; a 422 listing every bad row otherwise.

    `fmt` "auto" tells the format from the content (`detect_format`). The groups of
    recommendations the import writes are relinked across sources in the same transaction.
    """
    from app.services import linking

    source = open_source(file, detect_format(file) if fmt == "auto" else fmt)
    return run_import(session, source, dry_run=dry_run, max_rows=max_rows, progress=progress, link=linking.link_groups)
