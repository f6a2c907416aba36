"""The filters of the recommendation list, facets, export and pages, as SQL conditions.

Every filter takes several values (OR within a filter, AND across filters), as
UHRI and UPR Info users filter: `state=MEX&state=GTM&sdg=5`. Plain columns are
`IN (...)` conditions on `recommendation`; list-valued fields (theme,
recommending State, SDG, SDG target, affected group) are semi-joins on their
index tables, served by the tables' (value, recommendation_id) indexes. A
recommending region is any recommending State of that UN regional group. A
source document matches its symbol or any addendum or paragraph of it
(`A/HRC/28/15` matches `A/HRC/28/15/Add.1` and `A/HRC/28/15 - Para. 3`). Unless
`include_linked`, another source's copy of a recommendation (`canonical_id` set)
is left out, so each recommendation appears once; unless `include_withdrawn`, a record
withdrawn from its source's export (`withdrawn_at` set by `upr-match sync`) is left out.

Full-text search uses SQLite FTS5 (porter stemmer, bm25 rank) or PostgreSQL
`to_tsvector('english', text)` with `websearch_to_tsquery`. A recommendation also
matches by its French or Spanish text (`recommendation_translation`, migration 0020):
word for word, without stemming (FTS5 `unicode61`, PostgreSQL's `simple` configuration).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import date
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Table,
    TextClause,
    and_,
    column,
    func,
    literal_column,
    or_,
    select,
    table,
    text,
    union_all,
)

from app.core.errors import UnprocessableEntity, field_error
from app.models.common import table_of
from app.models.recommendation import (
    Recommendation,
    RecommendationAffectedGroup,
    RecommendationRecommender,
    RecommendationSdg,
    RecommendationSdgTarget,
    RecommendationTheme,
)
from app.models.translation import RecommendationTranslation
from app.reference.regions import regional_group_members
from app.reference.themes import affected_group_labels, resolve_theme
from app.reference.validation import normalise_iso3

R = table_of(Recommendation)
RT = table_of(RecommendationTheme)
RR = table_of(RecommendationRecommender)
RS = table_of(RecommendationSdg)
RST = table_of(RecommendationSdgTarget)
RAG = table_of(RecommendationAffectedGroup)
FTS = table("recommendation_fts", column("rowid"), column("rank"))
T = table_of(RecommendationTranslation)
TFTS = table("recommendation_translation_fts", column("rowid"), column("rank"))
# One value of a list filter: a code or a name, or a number (cycle, session, SDG, action category).
FilterValue = str | int

MAX_QUERY_LENGTH = 200
MAX_VALUES = 50  # values one filter may take
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
# (filter, index table, its value column): the list-valued filters.
MEMBER_FILTERS: tuple[tuple[str, Table, str], ...] = (
    ("theme", RT, "theme"),
    ("recommending_state", RR, "state"),
    ("sdg", RS, "sdg"),
    ("sdg_target", RST, "target"),
    ("affected_group", RAG, "affected_group"),
)
# filter -> column of `recommendation` it compares with IN (...).
COLUMN_FILTERS: tuple[tuple[str, str], ...] = (
    ("state", "state_under_review"),
    ("cycle", "cycle"),
    ("session", "session"),
    ("response", "response"),
    ("action_category", "action_category"),
    ("source", "source"),
)


# The flags that bring back records left out by default (copies, withdrawn records): not filters.
INCLUSIONS = ("include_linked", "include_withdrawn")


def _values(value: FilterValue | Iterable[FilterValue] | None) -> tuple[FilterValue, ...]:
    """A filter's values as a tuple without repeats: None -> (), one value -> (value,)."""
    if value is None:
        return ()
    if isinstance(value, str | int):
        return (value,)
    return tuple(dict.fromkeys(value))


@dataclass(frozen=True, slots=True)
class RecommendationFilters:
    """The filters shared by list, facets, export and pages; each list filter takes one value or several."""

    state: tuple[str, ...] = ()
    recommending_state: tuple[str, ...] = ()
    cycle: tuple[int, ...] = ()
    session: tuple[int, ...] = ()
    response: tuple[str, ...] = ()
    theme: tuple[str, ...] = ()
    sdg: tuple[int, ...] = ()
    action_category: tuple[int, ...] = ()
    q: str | None = None
    sdg_target: tuple[str, ...] = ()
    affected_group: tuple[str, ...] = ()
    source_document: tuple[str, ...] = ()
    recommending_region: tuple[str, ...] = ()
    source: tuple[str, ...] = ()
    published_from: date | None = None
    published_to: date | None = None
    include_linked: bool = False
    include_withdrawn: bool = False

    def __post_init__(self) -> None:
        # Callers may pass one value (state="MEX") or several; store tuples.
        for f in fields(self):
            if str(f.type).startswith("tuple"):
                object.__setattr__(self, f.name, _values(getattr(self, f.name)))

    def normalised(self) -> RecommendationFilters:
        """Upper-case the ISO3 filters and check the search query, or raise a 422 naming the parameter."""
        states = tuple(normalise_iso3(s, loc=["query", "state"]) for s in self.state)
        recommending = tuple(normalise_iso3(s, loc=["query", "recommending_state"]) for s in self.recommending_state)
        q = self.q.strip() if self.q else None
        if q:
            fts5_query(q)  # the same 422 on both backends for a query with no searchable word
        if self.published_from and self.published_to and self.published_from > self.published_to:
            raise UnprocessableEntity(
                "published_from is after published_to.",
                errors=[field_error(["query", "published_from"], "must be on or before published_to")],
            )
        # A theme is asked by code, controlled label or any source's label; the index holds the codes.
        themes = tuple(dict.fromkeys(v for t in self.theme for v in resolve_theme(str(t))))
        groups = tuple(dict.fromkeys(g for a in self.affected_group for g in affected_group_labels(str(a))))
        return _replace(self, state=states, recommending_state=recommending, q=q, theme=themes, affected_group=groups)

    def is_empty(self) -> bool:
        return all(not getattr(self, f.name) for f in fields(self) if f.name not in INCLUSIONS)


def _replace(filters: RecommendationFilters, **changes: Any) -> RecommendationFilters:
    values = {f.name: getattr(filters, f.name) for f in fields(filters)}
    values.update(changes)
    return RecommendationFilters(**values)


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


def pg_tsv() -> ColumnElement[Any]:
    # Spelled exactly as the GIN index expression, with a literal config, so the planner uses it.
    return func.to_tsvector(literal_column("'english'"), R.c.text)


def fts_match(q: str) -> TextClause:
    return text("recommendation_fts MATCH :fts_q").bindparams(fts_q=fts5_query(q))


def translation_fts_match(q: str) -> TextClause:
    """SQLite: the French and Spanish texts matching `q` (rows of `recommendation_translation_fts`)."""
    return text("recommendation_translation_fts MATCH :translation_q").bindparams(translation_q=fts5_query(q))


def pg_translation_match(q: str) -> ColumnElement[bool]:
    """PostgreSQL: a translation row's text matches `q`, spelled as its GIN index expression."""
    simple: ColumnElement[Any] = literal_column("'simple'")
    return func.to_tsvector(simple, T.c.text).op("@@")(func.websearch_to_tsquery(simple, q))


def search_match(q: str, *, postgres: bool) -> ColumnElement[bool]:
    """The recommendation's English text, or one of its French or Spanish texts, matches `q`.

    One IN over a UNION ALL of the index look-ups (not an OR of two conditions, which would make
    both databases test every row): the English matches as before, plus the few ids the
    translations' index finds (none when there are no translations).
    """
    copy = R.alias("searched")
    if postgres:
        query = func.websearch_to_tsquery(literal_column("'english'"), q)
        english = select(copy.c.id).where(func.to_tsvector(literal_column("'english'"), copy.c.text).op("@@")(query))
        translated = select(T.c.recommendation_id).where(pg_translation_match(q))
        return R.c.id.in_(union_all(english, translated))
    rows = select(TFTS.c.rowid).where(translation_fts_match(q))
    translated = select(copy.c.seq).select_from(T.join(copy, copy.c.id == T.c.recommendation_id))
    return R.c.seq.in_(union_all(select(FTS.c.rowid).where(fts_match(q)), translated.where(T.c.id.in_(rows))))


def member(
    index_table: Table, value_column: str, values: Iterable[FilterValue], *, exists: bool
) -> ColumnElement[bool]:
    """`id` has a row with one of these values in an index table: as IN (few matches) or a correlated EXISTS."""
    values = list(values)
    match = index_table.c[value_column] == values[0] if len(values) == 1 else index_table.c[value_column].in_(values)
    found: ColumnElement[bool]
    if exists:
        # Correlated: lets SQLite walk the list-order index and stop after one page.
        found = select(literal_column("1")).where(index_table.c.recommendation_id == R.c.id, match).exists()
    else:
        found = R.c.id.in_(select(index_table.c.recommendation_id).where(match))
    return found


def _in(column_name: str, values: tuple[FilterValue, ...]) -> ColumnElement[bool]:
    column = R.c[column_name]
    found: ColumnElement[bool] = column == values[0] if len(values) == 1 else column.in_(values)
    return found


def _document(symbols: tuple[str, ...]) -> ColumnElement[bool]:
    """The document itself, or one of its addenda or paragraphs (`<symbol>/...`, `<symbol> - Para. 3`)."""
    options: list[ColumnElement[bool]] = []
    for symbol in symbols:
        escaped = symbol.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        options += [
            R.c.source_document == symbol,
            R.c.source_document.like(escaped + "/%", escape="\\"),
            R.c.source_document.like(escaped + " %", escape="\\"),
        ]
    return or_(*options)


def left_out(filters: RecommendationFilters) -> list[ColumnElement[bool]]:
    """What the default leaves out and the filters do not bring back, as disjoint conditions.

    Other sources' copies; withdrawn records that are not copies. Each is answered by its partial
    index, so counts subtract each part's rows (an OR of the two would be planned as a scan).
    """
    parts: list[ColumnElement[bool]] = []
    if not filters.include_linked:
        parts.append(R.c.canonical_id.is_not(None))
    if not filters.include_withdrawn:
        withdrawn = R.c.withdrawn_at.is_not(None)
        parts.append(and_(withdrawn, R.c.canonical_id.is_(None)) if parts else withdrawn)
    return parts


def conditions(
    filters: RecommendationFilters, *, postgres: bool, with_q: bool = True, exists: bool = False
) -> list[ColumnElement[bool]]:
    """The WHERE conditions of normalised filters."""
    conds: list[ColumnElement[bool]] = []
    if not filters.include_linked:
        conds.append(R.c.canonical_id.is_(None))
    if not filters.include_withdrawn:
        conds.append(R.c.withdrawn_at.is_(None))
    for name, column_name in COLUMN_FILTERS:
        values = getattr(filters, name)
        if values:
            conds.append(_in(column_name, values))
    for name, index_table, value_column in MEMBER_FILTERS:
        values = getattr(filters, name)
        if values:
            conds.append(member(index_table, value_column, values, exists=exists))
    if filters.recommending_region:
        states = sorted(set().union(*(regional_group_members(g) for g in filters.recommending_region)))
        conds.append(member(RR, "state", states, exists=exists))
    if filters.source_document:
        conds.append(_document(filters.source_document))
    if filters.published_from is not None:
        conds.append(R.c.publication_date >= filters.published_from)
    if filters.published_to is not None:
        conds.append(R.c.publication_date <= filters.published_to)
    if with_q and filters.q:
        conds.append(search_match(filters.q, postgres=postgres))
    return conds


__all__ = [
    "FTS",
    "MAX_QUERY_LENGTH",
    "T",
    "TFTS",
    "MAX_VALUES",
    "RecommendationFilters",
    "conditions",
    "fts5_query",
    "fts_match",
    "left_out",
    "member",
    "pg_translation_match",
    "pg_tsv",
    "search_match",
    "translation_fts_match",
]
