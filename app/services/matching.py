"""The match use cases: providers for a need, providers for free text, needs for a provider.

Each one checks what the caller may see (through the need and provider services), ranks on the
worker's index (`app.match_index.index`, ranking in `matching.ranking`) and answers the API
models with the explanation of every score.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from app.core.errors import NotFound
from app.core.identity import Principal
from app.match_index.index import MatchIndex
from app.match_index.rows import need_facts, need_text, provider_facts, provider_text, recommendation_texts
from app.match_index.snapshot import IndexSnapshot
from app.models.activity import Activity, ActivityRecommendation
from app.models.match import (
    EngineInfo,
    Explanation,
    MatchQuery,
    NeedMatch,
    NeedMatches,
    ProviderMatch,
    ProviderMatches,
    SignalOut,
    TermOut,
)
from app.models.need import Need
from app.models.recommendation import Recommendation
from app.services import access
from app.services import engagements as engagement_service
from app.services import needs as need_service
from app.services import overview as overview_service
from app.services import providers as provider_service
from app.services.explanation_words import in_request_language
from matching.crosslingual import TRANSLATED, detect_language
from matching.preprocessing import UPR_STOP_WORDS, fold_accents
from matching.ranking import NO_FILTERS, NeedFacts, Preferences, ProviderFilters, Ranked, Vector

# The engine's stop words and accent folding are re-exported for the pages, which phrase the shared terms
# a match is explained by in the engine's own reading of words (app/web/reasons.py).

__all__ = [
    "MatchIndex",
    "Preferences",
    "ProviderFilters",
    "UPR_STOP_WORDS",
    "fold_accents",
    "explanation_of",
    "match_needs_for_provider",
    "match_providers_for_need",
    "match_providers_for_text",
    "present_provider_matches",
    "provider_history",
    "rank_for_need",
    "scores_for_need",
]


def provider_history(session: Session, *, state: str | None, themes: Sequence[str]) -> dict[str, tuple[bool, bool]]:
    """Per provider: (has cooperated with `state`, has cooperated on any of `themes`).

    Cooperation is what both parties agreed to: a completed activity the other party (or an admin)
    confirmed, or an accepted engagement (on its need's themes). A claim can't raise a ranking.
    """
    rows = session.exec(
        select(Activity.id, Activity.provider_id, Activity.state).where(
            col(Activity.status) == "completed", col(Activity.confirmation) == "confirmed"
        )
    ).all()
    wanted = frozenset(t.casefold() for t in themes)
    out: dict[str, tuple[bool, bool]] = {}
    for provider_id, pair_state, need_themes in engagement_service.accepted_pairs(session):
        with_state, themed = out.get(provider_id, (False, False))
        shared = bool(wanted & {t.casefold() for t in need_themes})
        out[provider_id] = (with_state or pair_state == state, themed or shared)
    if not rows:
        return out
    on_theme: set[str] = set()
    if wanted:
        links = session.exec(
            # The sources' own labels, as the history read them before labels were normalised.
            select(ActivityRecommendation.activity_id, Recommendation.themes_source, Recommendation.themes)
            .join(Recommendation, col(Recommendation.id) == col(ActivityRecommendation.recommendation_id))
            .where(col(ActivityRecommendation.activity_id).in_([r[0] for r in rows]))
        ).all()
        on_theme = {aid for aid, source, themes in links if {t.casefold() for t in source or themes or []} & wanted}
    for activity_id, provider_id, activity_state in rows:
        with_state, themed = out.get(provider_id, (False, False))
        out[provider_id] = (with_state or activity_state == state, themed or activity_id in on_theme)
    return out


def explanation_of(ranked: Ranked) -> Explanation:
    """The API form of why `ranked` scored as it did, its words in the request's language."""
    return in_request_language(
        Explanation(
            terms=[TermOut(term=t, weight=w) for t, w in ranked.terms],
            themes=list(ranked.themes),
            signals={
                k: SignalOut(value=round(s.value, 6), weight=s.weight, detail=s.detail)
                for k, s in ranked.signals.items()
            },
            summary=ranked.summary,
        )
    )


def present_provider_matches(session: Session, ranked: Sequence[Ranked], principal: Principal) -> list[ProviderMatch]:
    """The ranked providers as the caller may see them (deleted since the index was read: left out)."""
    rows = overview_service.get_providers_by_ids(session, ids=[r.id for r in ranked])
    return [
        ProviderMatch(
            provider=provider_service.present_provider(rows[r.id], principal),
            score=round(r.score, 6),
            explanation=explanation_of(r),
        )
        for r in ranked
        if r.id in rows
    ]


def _provider_matches(
    session: Session,
    snapshot: IndexSnapshot,
    ranked: Sequence[Ranked],
    principal: Principal,
    language: str | None = None,
) -> ProviderMatches:
    return ProviderMatches(
        items=present_provider_matches(session, ranked, principal),
        engine=EngineInfo(**snapshot.engine_info("provider")),
        language=language if language in TRANSLATED else None,
    )


def match_providers_for_need(
    session: Session,
    index: MatchIndex,
    *,
    principal: Principal,
    need_id: str,
    filters: ProviderFilters = NO_FILTERS,
    limit: int,
    min_score: float,
) -> ProviderMatches:
    """Providers ranked for a need the caller may see (the need as the index holds it: no need query)."""
    snapshot = index.current(session)
    need = snapshot.needs.facts.get(need_id)
    if need is None or not access.need_audience(principal).allows(need):
        raise NotFound(f"Need {need_id} does not exist.")
    ranked = rank_for_need(session, snapshot, need, filters=filters, limit=limit, min_score=min_score)
    reader = index.ranker.themes.reader
    indexed = snapshot.need_texts.get(need_id)
    language = reader.origin(indexed) if reader is not None and indexed is not None else None
    return _provider_matches(session, snapshot, ranked, principal, language)


def _need_inputs(
    session: Session, snapshot: IndexSnapshot, need: NeedFacts
) -> tuple[str, Preferences, dict[str, tuple[bool, bool]], frozenset[str], Vector | None]:
    """A need's text, preferences and theme vector (from the index), its providers' history and who declined it.

    A need the snapshot does not hold yet is read from the database, its cited recommendations as the
    query's parts (the index reads them so for its vector).
    """
    text, cited = snapshot.need_texts.get(need.id), []
    if text is None:  # not indexed (only a need written since this snapshot): read it
        row = session.get(Need, need.id)
        cited = recommendation_texts(session, [need.id]).get(need.id, [])
        text = need_text(row, cited) if row is not None else ""
    prefs = Preferences(
        state=need.state,
        themes=need.themes,
        languages=need.languages,
        modalities=need.modalities,
        parts=tuple(cited),
    )
    history = provider_history(session, state=need.state, themes=need.themes)
    declined = frozenset(engagement_service.declined_out_of_scope(session, need_id=need.id))
    return text, prefs, history, declined, snapshot.needs.vectors.get(need.id)


def rank_for_need(
    session: Session,
    snapshot: IndexSnapshot,
    need: NeedFacts,
    *,
    filters: ProviderFilters = NO_FILTERS,
    limit: int,
    min_score: float = 0.0,
    exclude_declined: bool = True,
) -> list[Ranked]:
    """The ranking's inputs for a need (text, preferences, history, providers that declined it) and its answer.

    `exclude_declined=False` keeps the providers that declined the need as out of their scope (to see
    where the ranking put them: `upr-match evaluate --from-engagements`).
    """
    text, prefs, history, declined, vector = _need_inputs(session, snapshot, need)
    return snapshot.rank_providers(
        text,
        prefs,
        filters=filters,
        history=history,
        exclude=declined if exclude_declined else frozenset(),
        limit=limit,
        min_score=min_score,
        theme_vector=vector,
    )


def scores_for_need(session: Session, index: MatchIndex, *, need: Need) -> dict[str, float]:
    """Every provider's score for a need, ranked exactly as `GET /v1/needs/{id}/matches` ranks them (alerts)."""
    snapshot = index.current(session)
    facts = snapshot.needs.facts.get(need.id) or need_facts(need)
    text, prefs, history, declined, vector = _need_inputs(session, snapshot, facts)
    return snapshot.provider_scores(text, prefs, history=history, exclude=declined, theme_vector=vector)


def match_providers_for_text(
    session: Session, index: MatchIndex, *, principal: Principal, query: MatchQuery
) -> ProviderMatches:
    """Providers ranked for free text (a State exploring before it files a need)."""
    snapshot = index.current(session)
    prefs = Preferences(state=query.state, themes=tuple(query.themes))
    filters = ProviderFilters(
        kinds=frozenset(query.kinds),
        languages=frozenset(query.languages),
        countries=frozenset(query.countries),
        regions=frozenset(query.regions),
        modalities=frozenset(query.modalities),
    )
    history = provider_history(session, state=query.state, themes=query.themes) if query.state or query.themes else {}
    ranked = snapshot.rank_providers(
        query.text,
        prefs,
        filters=filters,
        history=history,
        limit=query.limit,
        min_score=query.min_score,
        theme_vector=index.theme_vector(query.text, prefs.themes),
    )
    reader = index.ranker.themes.reader
    language = reader.read(query.text)[0] if reader is not None else detect_language(query.text)
    return _provider_matches(session, snapshot, ranked, principal, language)


def match_needs_for_provider(
    session: Session, index: MatchIndex, *, principal: Principal, provider_id: str, limit: int, min_score: float
) -> NeedMatches:
    """Open needs the caller may see, ranked for a provider."""
    provider = provider_service.get_provider(session, provider_id=provider_id)
    snapshot = index.current(session)
    audience = access.need_audience(principal)
    declined = frozenset(engagement_service.declined_out_of_scope(session, provider_id=provider.id))
    ranked = snapshot.rank_needs(
        provider_text(provider),
        provider_facts(provider),
        visible=audience,
        exclude=declined,
        limit=limit,
        min_score=min_score,
    )
    rows = {n.id: n for n in session.exec(select(Need).where(col(Need.id).in_([r.id for r in ranked])))}
    ordered = [rows[r.id] for r in ranked if r.id in rows]
    public = {n.id: n for n in need_service.present_needs(session, ordered)}
    items = [
        NeedMatch(need=public[r.id], score=round(r.score, 6), explanation=explanation_of(r))
        for r in ranked
        if r.id in public
    ]
    # Count only the needs this caller may see, not every need in the index.
    engine = {**snapshot.engine_info("need"), "documents": snapshot.count_open_needs(audience)}
    return NeedMatches(items=items, engine=EngineInfo(**engine))
