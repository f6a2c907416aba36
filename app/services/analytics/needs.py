"""Unserved needs, and supply vs demand by theme.

**Unserved**: open needs the caller may see whose best match (stored by `scores`) has been below
the strong band for `UNSERVED_DAYS` days or more, or whose engagements were all declined (at least
one, none accepted, proposed or withdrawn). Grouped by theme, by the regional group of the
need's State, or by the language the need asks for; a need counts once in each group it is in.

**Supply vs demand**: per controlled theme (`app/reference/themes.py`: the needs' and providers'
labels read as UHRI codes), the open needs on it against the
providers that cover it (declared, or predicted by the tagger with probability 0.5 or more), each
side with its regional groups and languages, and the regions and languages with needs but no
provider of the theme (a provider working worldwide covers every region).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import case, func, select
from sqlmodel import Session, col

from app.core.identity import Principal
from app.core.pagination import PageParams
from app.match_index.index import MatchIndex
from app.models.analytics import NeedBestScore, SupplyDemandPage, SupplyDemandRow, UnservedPage, UnservedRow
from app.models.common import utcnow
from app.models.engagement import Engagement
from app.models.need import Need
from app.models.provider import Provider
from app.reference.languages import language_name
from app.reference.regions import REGIONAL_GROUPS
from app.reference.themes import theme_index_values, theme_name
from app.reference.vocab import SCORE_STRONG
from app.services import access
from app.services.analytics.cache import cached
from app.services.analytics.reference import region_of
from app.services.analytics.slices import Slice, need_conditions

UnservedBy = Literal["theme", "region", "language"]
UNSERVED_DAYS = 30
PREDICTED = 0.5
NO_THEME = "No theme"


@dataclass(frozen=True, slots=True)
class OpenNeed:
    id: str
    state: str
    themes: tuple[str, ...]
    languages: tuple[str, ...]
    score: float | None
    weak_match: bool
    all_declined: bool


def open_needs(session: Session, *, principal: Principal, piece: Slice, now: datetime) -> list[OpenNeed]:
    """The open needs of the slice the caller may see, with their best score and engagement answers."""
    engagements = (
        select(
            col(Engagement.need_id).label("need_id"),
            func.count().label("n"),
            func.sum(case((col(Engagement.status) == "declined", 1), else_=0)).label("declined"),
        )
        .group_by(col(Engagement.need_id))
        .subquery("answers")
    )
    since = now - timedelta(days=UNSERVED_DAYS)
    query = (
        select(
            col(Need.id),
            col(Need.state),
            col(Need.themes),
            col(Need.languages),
            col(NeedBestScore.score),
            col(NeedBestScore.below_strong_since),
            engagements.c.n,
            engagements.c.declined,
        )
        .outerjoin(NeedBestScore, col(NeedBestScore.need_id) == col(Need.id))
        .outerjoin(engagements, engagements.c.need_id == col(Need.id))
        .where(col(Need.status) == "open", access.need_read_clause(principal), *need_conditions(piece))
    )
    found = []
    for need_id, state, themes, languages, score, below_since, n, declined in session.execute(query):
        found.append(
            OpenNeed(
                id=need_id,
                state=state,
                themes=tuple(themes or ()),
                languages=tuple(languages or ()),
                score=score,
                weak_match=score is not None and below_since is not None and below_since <= since,
                all_declined=bool(n) and int(declined or 0) == int(n),
            )
        )
    return found


def _unserved_keys(need: OpenNeed, by: UnservedBy, piece: Slice) -> Iterable[tuple[str, str]]:
    if by == "region":
        region = region_of(need.state)
        return [(region, REGIONAL_GROUPS[region])] if region else [("none", "Not in a UN regional group")]
    if by == "language":
        return [(code, language_name(code)) for code in dict.fromkeys(need.languages)] or [
            ("none", "No language stated")
        ]
    themes = [t for t in theme_index_values(need.themes) if not piece.themes or t in piece.themes]
    return [(t, theme_name(t)) for t in themes] or [("none", NO_THEME)]


def get_unserved(
    session: Session,
    *,
    principal: Principal,
    piece: Slice,
    by: UnservedBy = "theme",
    page: PageParams | None = None,
    now: datetime | None = None,
) -> UnservedPage:
    """`GET /v1/analytics/unserved-needs`: unserved open needs per group, most first."""
    page = page or PageParams(limit=100, offset=0)
    moment = now or utcnow()
    hour = moment.replace(minute=0, second=0, microsecond=0)

    def compute() -> tuple[list[UnservedRow], int, int, int]:
        needs = open_needs(session, principal=principal, piece=piece, now=moment)
        groups: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
        unserved = 0
        for need in needs:
            if not (need.weak_match or need.all_declined):
                continue
            unserved += 1
            for key in _unserved_keys(need, by, piece):
                counts = groups[key]
                counts[0] += 1
                counts[1] += need.weak_match
                counts[2] += need.all_declined
        rows = [
            UnservedRow(key=key, label=label, needs=n, weak_match=weak, all_declined=declined)
            for (key, label), (n, weak, declined) in groups.items()
        ]
        rows.sort(key=lambda r: (-r.needs, r.label))
        return rows, len(needs), unserved, sum(n.score is None for n in needs)

    rows, total_open, unserved, not_scored = cached(session, principal, ("unserved", piece, by, hour), compute)
    return UnservedPage(
        items=rows[page.offset : page.offset + page.limit],
        total=len(rows),
        limit=page.limit,
        offset=page.offset,
        by=by,
        open_needs=total_open,
        unserved_needs=unserved,
        not_scored=not_scored,
        strong_threshold=SCORE_STRONG,
        days=UNSERVED_DAYS,
    )


# --- supply vs demand ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Supplier:
    themes: frozenset[str]
    regions: frozenset[str]
    languages: frozenset[str]


def _predicted_themes(index: MatchIndex | None) -> dict[str, set[str]]:
    """Provider id -> controlled themes of the labels the tagger predicts with probability PREDICTED or more."""
    if index is None:
        return {}
    snapshot = index.snapshot
    classes = list(snapshot.ranker.themes.classes)
    found: dict[str, set[str]] = {}
    for provider_id, vector in snapshot.providers.vectors.items():
        if vector is None:
            continue
        labels = [classes[k] for k, p in enumerate(vector) if k < len(classes) and p >= PREDICTED]
        found[provider_id] = set(theme_index_values(labels))
    return found


def _suppliers(session: Session, index: MatchIndex | None) -> list[_Supplier]:
    predicted = _predicted_themes(index)
    rows = session.execute(
        select(
            col(Provider.id),
            col(Provider.themes),
            col(Provider.regions),
            col(Provider.countries),
            col(Provider.languages),
        )
    )
    suppliers = []
    for provider_id, themes, regions, countries, languages in rows:
        covered = set(theme_index_values([str(t) for t in themes or ()])) | predicted.get(provider_id, set())
        where = set(regions or ()) | {r for r in (region_of(c) for c in countries or ()) if r}
        suppliers.append(_Supplier(frozenset(covered), frozenset(where), frozenset(languages or ())))
    return suppliers


def supply_demand_rows(
    session: Session,
    *,
    principal: Principal,
    piece: Slice,
    index: MatchIndex | None = None,
    now: datetime | None = None,
) -> list[SupplyDemandRow]:
    """Per theme of the slice's open needs: the needs against the providers covering the theme."""
    needs = open_needs(session, principal=principal, piece=piece, now=now or utcnow())
    demand: dict[str, list[OpenNeed]] = defaultdict(list)
    for need in needs:
        for theme in theme_index_values(need.themes):
            if not piece.themes or theme in piece.themes:
                demand[theme].append(need)
    suppliers = _suppliers(session, index)
    rows = []
    for theme, on_theme in demand.items():
        covering = [s for s in suppliers if theme in s.themes]
        need_regions = Counter(r for r in (region_of(n.state) for n in on_theme) if r)
        need_languages = Counter(code for n in on_theme for code in set(n.languages))
        provider_regions = Counter(r for s in covering for r in s.regions)
        provider_languages = Counter(code for s in covering for code in s.languages)
        worldwide = provider_regions.get("global", 0) > 0
        rows.append(
            SupplyDemandRow(
                theme=theme,
                label=theme_name(theme),
                open_needs=len(on_theme),
                providers=len(covering),
                need_regions=dict(sorted(need_regions.items())),
                provider_regions=dict(sorted(provider_regions.items())),
                need_languages=dict(sorted(need_languages.items())),
                provider_languages=dict(sorted(provider_languages.items())),
                regions_without_provider=[] if worldwide else sorted(set(need_regions) - set(provider_regions)),
                languages_without_provider=sorted(set(need_languages) - set(provider_languages)),
            )
        )
    rows.sort(key=lambda r: (r.providers > 0, -r.open_needs, r.providers, r.label))
    return rows


def get_supply_demand(
    session: Session,
    *,
    principal: Principal,
    piece: Slice,
    index: MatchIndex | None = None,
    page: PageParams | None = None,
) -> SupplyDemandPage:
    """`GET /v1/analytics/supply-demand`: themes without providers first, then by open needs."""
    page = page or PageParams(limit=100, offset=0)
    version = index.current(session).provider_version if index is not None else None
    rows = cached(
        session,
        principal,
        ("supply", piece, version),
        lambda: supply_demand_rows(session, principal=principal, piece=piece, index=index),
    )
    return SupplyDemandPage(
        items=rows[page.offset : page.offset + page.limit], total=len(rows), limit=page.limit, offset=page.offset
    )


__all__ = ["UNSERVED_DAYS", "OpenNeed", "UnservedBy", "get_supply_demand", "get_unserved", "open_needs"]
