"""What the data loaded covers: States, sessions, cycles and years per source, and when it was imported.

A diplomat reading "0 recommendations" must know whether the State has none or
the data stops before its review. `get_coverage` answers `GET /v1/coverage` and
the notices of the search and State pages: per source, the States, sessions,
cycles, years and publication dates of its records and when an import last read
it; the last sync from OHCHR (`services/sync.py::last_sync`, read afresh each time);
for one State, what the data holds for it, or why it holds nothing. Records withdrawn
from their source's export are stored but not counted.

Years are those of the UPR Working Group sessions (`SESSION_YEARS`, the Working
Group's calendar); a source's own publication dates are given beside them when
it has any. The answer is cached per process and recomputed when an import has
run or records were added since (a cheap check of `import_run` and `seq`).
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, func, select
from sqlmodel import Session

from app.core import i18n
from app.core.errors import NotFound
from app.core.i18n import gettext, ngettext
from app.models.common import table_of
from app.models.coverage import Coverage, SourceCoverage, StateDataCoverage
from app.models.data_version import DataVersion
from app.models.import_run import ImportRun
from app.models.recommendation import Recommendation
from app.reference.countries import display_name
from app.reference.validation import is_iso3
from app.services.sync import last_sync

R = table_of(Recommendation)
IR = table_of(ImportRun)
DV = table_of(DataVersion)

# Year of each UPR Working Group session: three a year from April 2008 (two in 2012,
# 2017 and 2020, when the calendar moved or sessions were postponed); 54 closes cycle 4.
_SESSIONS_BY_YEAR = {
    2008: (1, 2, 3),
    2009: (4, 5, 6),
    2010: (7, 8, 9),
    2011: (10, 11, 12),
    2012: (13, 14),
    2013: (15, 16, 17),
    2014: (18, 19, 20),
    2015: (21, 22, 23),
    2016: (24, 25, 26),
    2017: (27, 28),
    2018: (29, 30, 31),
    2019: (32, 33, 34),
    2020: (35, 36),
    2021: (37, 38, 39),
    2022: (40, 41),
    2023: (42, 43, 44),
    2024: (45, 46, 47),
    2025: (48, 49, 50),
    2026: (51, 52, 53),
    2027: (54,),
}
SESSION_YEARS: dict[int, int] = {s: year for year, sessions in _SESSIONS_BY_YEAR.items() for s in sessions}


def session_with_year(session: int) -> str:
    """ "31 (2018)": a session with the year it was held, so a reader need not know the calendar."""
    return f"{session} ({SESSION_YEARS[session]})" if session in SESSION_YEARS else str(session)


SOURCE_LABELS = {
    "ohchr_uhri": "OHCHR Universal Human Rights Index",
    "upr_info_via_terman": "UPR Info database",
    "upr_info_export": "UPR Info database",
    "ohchr_thematic_list_slovenia": "OHCHR thematic list of recommendations (Slovenia)",
    "cehdi_extracted_wg_reports": "UPR Working Group reports (CeHDI extracts)",
}

# What the answers were computed from (the last import run and the newest row): a new key recomputes them.
CacheKey = tuple[object, ...]


@dataclass
class _Cached:
    names: tuple[CacheKey, dict[str, str]] | None = None
    overall: tuple[CacheKey, Coverage] | None = None


_cache = _Cached()
_lock = threading.Lock()


def source_label(source: str) -> str:
    return SOURCE_LABELS.get(source, source)


def _english() -> bool:
    # The English words are the API's answer when no language is asked: they stay as they always were.
    return i18n.current_language() == i18n.DEFAULT_LANGUAGE


def in_words(items: list[str]) -> str:
    """["a", "b", "c"] -> "a, b and c" (in another language, as CLDR joins a list: "a, b et c")."""
    if not _english():
        return i18n.word_list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1] if items else ""


_count = i18n.plain_count


def ranges(numbers: Iterable[int]) -> str:
    """Numbers as runs in words: [1, 2, 3, 20, 21, 23] -> "1-3, 20-21 and 23".

    >>> ranges([1, 2, 3, 20, 21, 23])
    '1-3, 20-21 and 23'
    >>> ranges([47])
    '47'
    """
    runs: list[list[int]] = []
    for n in sorted(set(numbers)):
        if runs and n == runs[-1][1] + 1:
            runs[-1][1] = n
        else:
            runs.append([n, n])
    return in_words([f"{a}-{b}" if a != b else str(a) for a, b in runs])


def _years(sessions: Iterable[int]) -> tuple[int | None, int | None]:
    years = [SESSION_YEARS[s] for s in sessions if s in SESSION_YEARS]
    return (min(years), max(years)) if years else (None, None)


def _period(sessions: list[int]) -> str:
    """ "sessions 1-3 and 20 (2008-2014)", "session 15 (2013)"."""
    first, last = _years(sessions)
    words = {"sessions": ranges(sessions), "year": first, "first": first, "last": last}
    n = len(sessions)
    if first is None:
        return ngettext("session %(sessions)s", "sessions %(sessions)s", n) % words
    if first == last:
        return ngettext("session %(sessions)s (%(year)s)", "sessions %(sessions)s (%(year)s)", n) % words
    span = ngettext("session %(sessions)s (%(first)s-%(last)s)", "sessions %(sessions)s (%(first)s-%(last)s)", n)
    return span % words


def _day(moment: datetime | None) -> str:
    if moment is None:
        return gettext("not recorded")
    return f"{moment.day} {moment:%B %Y}" if _english() else i18n.day(moment, "long")


def _source_summary(source: SourceCoverage) -> str:
    """One source's coverage in words, in the current language."""
    words = {
        "records": _count(source.records),
        "states": _count(source.states),
        "period": _period(source.sessions),
        "day": _day(source.last_imported_at),
        "withdrawn": _count(source.withdrawn),
    }
    summary = (
        ngettext(
            "%(records)s records, %(states)s State under review, %(period)s; last imported %(day)s.",
            "%(records)s records, %(states)s States under review, %(period)s; last imported %(day)s.",
            source.states,
        )
        % words
    )
    if source.withdrawn:
        summary += " " + gettext("%(withdrawn)s withdrawn from the source's export (kept, not counted).") % words
    return summary


def _summary(coverage: Coverage) -> str:
    """The coverage of all the data in words, in the current language."""
    if not coverage.sources:
        return gettext(
            "No recommendation is loaded yet: an administrator imports them (upr-match import-recommendations)."
        )
    return ngettext(
        "%(states)s States under review, %(period)s, from %(sources)s source; last import %(day)s.",
        "%(states)s States under review, %(period)s, from %(sources)s sources; last import %(day)s.",
        len(coverage.sources),
    ) % {
        "states": _count(coverage.states),
        "period": _period(coverage.sessions),
        "sources": _count(len(coverage.sources)),
        "day": _day(coverage.last_imported_at),
    }


def _in_words(coverage: Coverage) -> Coverage:
    """The cached coverage with its summaries in the current language (the cache holds no words)."""
    return coverage.model_copy(
        update={
            "summary": _summary(coverage),
            "sources": [s.model_copy(update={"summary": _source_summary(s)}) for s in coverage.sources],
        }
    )


def _cache_key(session: Session) -> CacheKey:
    last_run = session.execute(select(func.max(IR.c.id), func.max(IR.c.finished_at))).one()
    # The data version moves with every write to the recommendations, even where ids and sequences restart.
    version = session.execute(select(func.sum(DV.c.version))).scalar()
    return (*last_run, session.execute(select(func.max(R.c.seq))).scalar(), version)


def _compute(session: Session) -> Coverage:
    per_source = session.execute(
        select(
            R.c.source,
            func.count(),
            func.sum(case((and_(R.c.canonical_id.is_(None), R.c.withdrawn_at.is_(None)), 1), else_=0)),
            func.count(func.distinct(R.c.state_under_review)),
            func.min(R.c.publication_date),
            func.max(R.c.publication_date),
            func.sum(case((R.c.withdrawn_at.is_not(None), 1), else_=0)),
        ).group_by(R.c.source)
    ).all()
    sessions_of: dict[str, set[int]] = defaultdict(set)
    cycles_of: dict[str, set[int]] = defaultdict(set)
    for source, number, cycle in session.execute(select(R.c.source, R.c.session, R.c.cycle).distinct()):
        sessions_of[source].add(number)
        cycles_of[source].add(cycle)
    last_import: dict[str, datetime] = {}
    last_any: datetime | None = None
    wanted = {row[0] for row in per_source}
    for finished, sources in session.execute(select(IR.c.finished_at, IR.c.sources).order_by(IR.c.id.desc())):
        last_any = last_any or finished
        for source in sources or {}:
            last_import.setdefault(source, finished)
        if wanted <= set(last_import):
            break
    items = []
    for source, records, counted, states, first_pub, last_pub, withdrawn in per_source:
        sessions = sorted(sessions_of[source])
        first, last = _years(sessions)
        items.append(
            SourceCoverage(
                source=source,
                label=source_label(source),
                records=int(records),
                counted=int(counted or 0),
                states=int(states),
                sessions=sessions,
                cycles=sorted(cycles_of[source]),
                first_year=first,
                last_year=last,
                first_published=first_pub,
                last_published=last_pub,
                last_imported_at=last_import.get(source),
                withdrawn=int(withdrawn or 0),
            )
        )
    items.sort(key=lambda s: (-s.records, s.source))
    all_sessions = sorted(set().union(*sessions_of.values())) if sessions_of else []
    states = int(session.execute(select(func.count(func.distinct(R.c.state_under_review)))).scalar_one())
    first, last = _years(all_sessions)
    return Coverage(
        recommendations=sum(s.counted for s in items),
        records=sum(s.records for s in items),
        states=states,
        sessions=all_sessions,
        cycles=sorted(set().union(*cycles_of.values())) if cycles_of else [],
        first_year=first,
        last_year=last,
        last_imported_at=last_any,
        summary="",  # in words by `_in_words`, in the language of each answer
        sources=items,
    )


def state_names(session: Session) -> dict[str, str]:
    """The States under review that have recommendations in the data, by name: {ISO3: name}, sorted by name."""
    key = _cache_key(session)
    with _lock:
        cached = _cache.names
        if cached is None or cached[0] != key:
            codes = session.execute(select(R.c.state_under_review).distinct()).scalars()
            names = sorted(((display_name(c), c) for c in codes), key=lambda pair: pair[0].casefold())
            cached = (key, {code: name for name, code in names})
            _cache.names = cached
    return dict(cached[1])


def get_coverage(session: Session, *, state: str | None = None) -> Coverage:
    """What the data covers, per source; with `state`, also what it holds for that State (404 for a bad code)."""
    key = _cache_key(session)
    with _lock:
        found = _cache.overall
        if found is None or found[0] != key:
            found = (key, _compute(session))
            _cache.overall = found
    overall = _in_words(found[1]).model_copy(update={"last_sync": last_sync(session)})
    if state is None:
        return overall
    return overall.model_copy(update={"state": state_coverage(session, state=state, overall=overall)})


def state_coverage(session: Session, *, state: str, overall: Coverage | None = None) -> StateDataCoverage:
    """What the data holds for one State, in numbers and in words (why there is nothing, when so)."""
    code = state.strip().upper()
    if len(code) != 3 or not is_iso3(code):
        raise NotFound(f"There is no State with the code {state!r}.")
    overall = overall or get_coverage(session)
    rows = session.execute(
        select(
            R.c.session,
            R.c.source,
            func.sum(case((and_(R.c.canonical_id.is_(None), R.c.withdrawn_at.is_(None)), 1), else_=0)),
        )
        .where(R.c.state_under_review == code)
        .group_by(R.c.session, R.c.source)
    ).all()
    name = display_name(code)
    sessions = sorted({r[0] for r in rows})
    sources = sorted({r[1] for r in rows})
    counted = sum(int(r[2] or 0) for r in rows)
    words = {
        "count": _count(counted),
        "name": i18n.country_name(code, name),
        "period": _period(sessions),
        "sources": in_words(sorted({source_label(s) for s in sources})),
        "states": _count(overall.states),
        "all_period": _period(overall.sessions),
        "day": _day(overall.last_imported_at),
    }
    if counted:
        summary = (
            ngettext(
                "%(count)s recommendation to %(name)s in the data: %(period)s, from %(sources)s. "
                "Reviews of other sessions are not in the data loaded.",
                "%(count)s recommendations to %(name)s in the data: %(period)s, from %(sources)s. "
                "Reviews of other sessions are not in the data loaded.",
                counted,
            )
            % words
        )
    elif overall.sources:
        summary = (
            gettext(
                "Not in the data loaded: no recommendation to %(name)s is recorded. The data covers "
                "%(states)s States under review, %(all_period)s; last import %(day)s."
            )
            % words
        )
    else:
        summary = gettext("Not in the data loaded: no recommendation is loaded yet, for %(name)s or any State.") % words
    return StateDataCoverage(
        state=code, name=name, recommendations=counted, sessions=sessions, sources=sources, summary=summary
    )


__all__ = [
    "SESSION_YEARS",
    "get_coverage",
    "ranges",
    "session_with_year",
    "source_label",
    "state_coverage",
    "state_names",
]
