"""The bridge between the database and the matching engine.

One `MatchIndex` per worker process holds two engine indexes (providers and
needs) plus the structured facts the signals need. It is built at start-up and
kept current by applying the `index_change` log before every match, so a write
through any worker shows in the next match of every worker (no full rebuild).

Ranking (documented in the README, weights in settings):
score = sum(weight_c * value_c) / sum(weight_c) over the components that apply:
text (TF-IDF cosine), theme (overlap of declared or predicted themes), and the
signals language, presence, modality and history, each in [0, 1]. A component
with nothing to compare (e.g. the need names no language) does not apply, so it
neither helps nor hurts. Only candidates sharing text or themes are ranked.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import delete
from sqlmodel import Session, col, func, select

from app.config import Settings
from app.models.activity import Activity, ActivityRecommendation
from app.models.common import utcnow
from app.models.index_change import IndexChange
from app.models.need import Need, NeedRecommendation
from app.models.provider import Provider
from app.models.recommendation import Recommendation
from matching import Match, TfidfMatcher
from matching.quality import sentence_mean_proba
from matching.tagger import MultiSchemeTagger
from matching.themes import bridging_themes, cosine_similarity, theme_vector

logger = logging.getLogger("app.matching")

# How far back each refresh looks for log rows committed out of order (PostgreSQL
# sequences are taken at insert, and transactions commit in any order).
GAP_WINDOW = 200
# Refit from scratch once this share of the index was added after the last fit,
# so IDF weights do not drift far from the corpus.
REFIT_SHARE = 0.5
THEME_SCHEME = "upr_info_issues"
# With predicted (dense) theme vectors every pair has some similarity; below this a
# candidate that shares no words is not shown at all.
THEME_FLOOR = 0.15
# Predicted theme probabilities below this are treated as absent.
PROBA_FLOOR = 0.2
# A theme is named in an explanation only if it carries this much of the cosine.
BRIDGE_MIN = 0.05
REGION_FILE = Path(__file__).resolve().parent.parent / "reference" / "un_regional_groups.json"
REGION_LABELS = {
    "africa": "Africa",
    "asia_pacific": "Asia-Pacific",
    "eastern_europe": "Eastern Europe",
    "latin_america_caribbean": "Latin America and the Caribbean",
    "western_europe_others": "Western Europe and others",
    "global": "worldwide",
}


@lru_cache(maxsize=1)
def regional_groups() -> dict[str, str]:
    """ISO3 -> UN regional group slug (the five groups the UPR uses)."""
    return dict(json.loads(REGION_FILE.read_text(encoding="utf-8")))


def region_of(state: str | None) -> str | None:
    return regional_groups().get(state or "")


def _fold(values: Iterable[str]) -> frozenset[str]:
    return frozenset(v.casefold() for v in values)


@dataclass(frozen=True, slots=True)
class ProviderFacts:
    id: str
    kind: str
    themes: tuple[str, ...]
    languages: frozenset[str]
    countries: frozenset[str]
    regions: frozenset[str]
    modalities: frozenset[str]


@dataclass(frozen=True, slots=True)
class NeedFacts:
    id: str
    state: str
    status: str
    visibility: str
    themes: tuple[str, ...]
    languages: frozenset[str]
    modalities: frozenset[str]


@dataclass(frozen=True, slots=True)
class Preferences:
    """What the asking side wants, for the signals."""

    state: str | None = None
    themes: tuple[str, ...] = ()
    languages: frozenset[str] = frozenset()
    modalities: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class ProviderFilters:
    """Hard filters on providers: a provider must satisfy every one given."""

    kinds: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()
    countries: frozenset[str] = frozenset()
    regions: frozenset[str] = frozenset()
    modalities: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Signal:
    value: float
    weight: float
    detail: str


@dataclass(frozen=True, slots=True)
class Ranked:
    """One ranked object with why it ranks there."""

    id: str
    score: float
    terms: tuple[tuple[str, float], ...]
    themes: tuple[str, ...]
    signals: dict[str, Signal]
    summary: str


@dataclass
class _Corpus:
    """One engine index with its texts (kept so the index can be refitted)."""

    matcher: TfidfMatcher | None = None
    texts: dict[str, str] = field(default_factory=dict)
    fitted_size: int = 0
    added_since_fit: int = 0

    def upsert(self, doc_id: str, text: str) -> None:
        self.texts[doc_id] = text
        if self.matcher is None or self.added_since_fit + 1 > max(20, REFIT_SHARE * self.fitted_size):
            self.refit()
            return
        self.matcher.add([doc_id], [text])
        self.added_since_fit += 1

    def remove(self, doc_id: str) -> None:
        if self.texts.pop(doc_id, None) is None:
            return
        if self.matcher is not None and doc_id in self.matcher:
            if len(self.texts) == 0:
                self.matcher = None
            else:
                self.matcher.remove([doc_id])

    def refit(self) -> None:
        if not self.texts:
            self.matcher, self.fitted_size, self.added_since_fit = None, 0, 0
            return
        ids = sorted(self.texts)
        self.matcher = TfidfMatcher().fit([self.texts[i] for i in ids], ids)
        self.fitted_size, self.added_since_fit = len(ids), 0

    def scores(self, query: str, allowed: Sequence[str] | None) -> dict[str, Match]:
        matcher = self.matcher
        if matcher is None or not query.strip():
            return {}
        top_k = max(1, len(matcher))
        return {m.id: m for m in matcher.match(query, top_k=top_k, allowed_ids=allowed)}

    @property
    def version(self) -> int:
        return self.matcher.version_ if self.matcher is not None else 0


def provider_text(row: Provider) -> str:
    """What the engine reads for a provider."""
    parts = [row.name, row.acronym or "", row.description, ". ".join(row.themes)]
    return "\n".join(p for p in parts if p)


def need_text(row: Need, recommendation_texts: Sequence[str]) -> str:
    """What the engine reads for a need: its words and the recommendations it cites."""
    return "\n".join([row.title, row.description, *recommendation_texts, ". ".join(row.themes)])


class MatchIndex:
    """Per-process matching index over providers and needs, kept current from `index_change`."""

    def __init__(self, settings: Settings, tagger: MultiSchemeTagger | None = None) -> None:
        self.settings = settings
        self.tagger = tagger
        self.classes: list[str] = list(tagger[THEME_SCHEME].classes_) if tagger is not None else []
        self.provider_vectors: dict[str, np.ndarray] = {}
        self.need_vectors: dict[str, np.ndarray] = {}
        self.providers = _Corpus()
        self.needs = _Corpus()
        self.provider_facts: dict[str, ProviderFacts] = {}
        self.need_facts: dict[str, NeedFacts] = {}
        self.applied_seq = 0
        self._recent: set[int] = set()
        self._lock = threading.Lock()
        self.loaded = False
        self.generation = 0

    # --- building and following the log ------------------------------------------------

    def load(self, session: Session) -> MatchIndex:
        """Build both indexes from the database."""
        started = time.perf_counter()
        with self._lock:
            latest = session.exec(select(func.max(IndexChange.seq))).one() or 0
            seen = session.exec(select(IndexChange.seq).where(col(IndexChange.seq) > latest - GAP_WINDOW)).all()
            providers = session.exec(select(Provider)).all()
            needs = session.exec(select(Need)).all()
            texts = _recommendation_texts(session, [n.id for n in needs])
            self.providers = _Corpus(texts={p.id: provider_text(p) for p in providers})
            self.needs = _Corpus(texts={n.id: need_text(n, texts.get(n.id, [])) for n in needs})
            self.providers.refit()
            self.needs.refit()
            self.provider_facts = {p.id: _provider_facts(p) for p in providers}
            self.need_facts = {n.id: _need_facts(n) for n in needs}
            self.provider_vectors = self._vectors(
                [p.id for p in providers],
                [self.providers.texts[p.id] for p in providers],
                [p.themes for p in providers],
                by_sentence=True,
            )
            self.need_vectors = self._vectors(
                [n.id for n in needs], [self.needs.texts[n.id] for n in needs], [n.themes for n in needs]
            )
            self.applied_seq, self._recent = latest, {s for s in seen if s is not None}
            self.loaded = True
            self.generation += 1
        logger.info(
            "matching index built: %d providers, %d needs in %.0f ms",
            len(providers),
            len(needs),
            (time.perf_counter() - started) * 1000,
        )
        return self

    def refresh(self, session: Session) -> int:
        """Apply log rows not yet seen; return how many objects were updated."""
        rows = session.exec(
            select(IndexChange.seq, IndexChange.kind, IndexChange.object_id)
            .where(col(IndexChange.seq) > self.applied_seq - GAP_WINDOW)
            .order_by(col(IndexChange.seq))
        ).all()
        fresh = [(seq, kind, oid) for seq, kind, oid in rows if seq is not None and seq not in self._recent]
        if not fresh:
            return 0
        with self._lock:
            todo: dict[tuple[str, str], int] = {}
            for seq, kind, oid in fresh:
                if seq in self._recent:
                    continue
                todo[(kind, oid)] = seq
            for (kind, oid), _ in todo.items():
                if kind == "provider":
                    self._apply_provider(session, oid)
                elif kind == "need":
                    self._apply_need(session, oid)
            newest = max(seq for seq, _, _ in fresh)
            self._recent.update(seq for seq, _, _ in fresh)
            self.applied_seq = max(self.applied_seq, newest)
            self._recent = {s for s in self._recent if s > self.applied_seq - GAP_WINDOW}
            self.generation += 1
        return len(todo)

    def _apply_provider(self, session: Session, provider_id: str) -> None:
        row = session.get(Provider, provider_id, populate_existing=True)
        if row is None:
            self.providers.remove(provider_id)
            self.provider_facts.pop(provider_id, None)
            self.provider_vectors.pop(provider_id, None)
            return
        text = provider_text(row)
        self.providers.upsert(row.id, text)
        self.provider_facts[row.id] = _provider_facts(row)
        self.provider_vectors.update(self._vectors([row.id], [text], [row.themes], by_sentence=True))

    def _apply_need(self, session: Session, need_id: str) -> None:
        row = session.get(Need, need_id, populate_existing=True)
        if row is None:
            self.needs.remove(need_id)
            self.need_facts.pop(need_id, None)
            self.need_vectors.pop(need_id, None)
            return
        texts = _recommendation_texts(session, [row.id]).get(row.id, [])
        text = need_text(row, texts)
        self.needs.upsert(row.id, text)
        self.need_facts[row.id] = _need_facts(row)
        self.need_vectors.update(self._vectors([row.id], [text], [row.themes]))

    def _vectors(
        self, ids: Sequence[str], texts: Sequence[str], declared: Sequence[Sequence[str]], *, by_sentence: bool = False
    ) -> dict[str, np.ndarray]:
        """Theme vectors: declared themes of the scheme as 1.0, else the tagger's probabilities for the text.

        `by_sentence` averages the probabilities over the text's sentences (provider
        profiles list several lines of work; tagged whole they look like every theme).
        """
        if self.tagger is None or not ids:
            return {}
        model = self.tagger[THEME_SCHEME]
        probas = sentence_mean_proba(model, list(texts)) if by_sentence else model.proba_matrix(list(texts))
        # Drop faint predictions: dense low probabilities would make everything a little similar.
        probas = np.where(probas >= PROBA_FLOOR, probas, 0.0)
        return {
            i: theme_vector(d, self.classes, probas=probas[k])
            for k, (i, d) in enumerate(zip(ids, declared, strict=True))
        }

    def query_vector(self, text: str, declared: Sequence[str]) -> np.ndarray | None:
        if self.tagger is None:
            return None
        return next(iter(self._vectors(["q"], [text], [declared]).values()))

    def _theme(
        self, q_vec: np.ndarray | None, d_vec: np.ndarray | None, wanted: Sequence[str], offered: Sequence[str]
    ) -> tuple[float, list[str]]:
        """Theme similarity and the themes that bridge it: in tagger space when trained, else declared sets."""
        if q_vec is None or d_vec is None:
            return _theme_overlap(wanted, offered)
        score = float(cosine_similarity(q_vec, d_vec))
        return score, bridging_themes(q_vec, d_vec, self.classes, top=3, min_contribution=BRIDGE_MIN)

    def engine_info(self, kind: str) -> dict[str, Any]:
        corpus = self.providers if kind == "provider" else self.needs
        return {
            "version": f"{self.applied_seq}.{corpus.version}",
            "documents": len(corpus.texts),
            "log_position": self.applied_seq,
        }

    # --- ranking -------------------------------------------------------------------------

    def _weights(self) -> dict[str, float]:
        s = self.settings
        return {
            "text": s.MATCH_WEIGHT_TEXT,
            "theme": s.MATCH_WEIGHT_THEME,
            "language": s.MATCH_WEIGHT_LANGUAGE,
            "presence": s.MATCH_WEIGHT_PRESENCE,
            "modality": s.MATCH_WEIGHT_MODALITY,
            "history": s.MATCH_WEIGHT_HISTORY,
        }

    def allowed_providers(self, filters: ProviderFilters) -> list[str]:
        """Ids of the providers passing every hard filter."""
        out = []
        # A provider "present in" a State works there, in its region, or worldwide.
        wanted_regions = set(filters.regions) | {r for c in filters.countries if (r := region_of(c))} | {"global"}
        for facts in self.provider_facts.values():
            if filters.kinds and facts.kind not in filters.kinds:
                continue
            if filters.languages and not (facts.languages & filters.languages):
                continue
            if filters.modalities and not (facts.modalities & filters.modalities):
                continue
            if filters.countries or filters.regions:
                countries_ok = bool(facts.countries & filters.countries)
                regions_ok = bool(facts.regions & wanted_regions)
                if not (countries_ok or regions_ok):
                    continue
            out.append(facts.id)
        return out

    def rank_providers(
        self,
        query: str,
        prefs: Preferences,
        *,
        filters: ProviderFilters = ProviderFilters(),
        history: dict[str, tuple[bool, bool]] | None = None,
        limit: int = 10,
        min_score: float = 0.0,
    ) -> list[Ranked]:
        """Providers ranked for a need (or free text), best first."""
        allowed = self.allowed_providers(filters)
        text_hits = self.providers.scores(query, allowed)
        history = history or {}
        weights = self._weights()
        need_themes = _fold(prefs.themes)
        any_history = any(a or b for a, b in history.values())
        q_vec = self.query_vector(query, prefs.themes)
        ranked = []
        for pid in allowed:
            facts = self.provider_facts[pid]
            hit = text_hits.get(pid)
            text = hit.score if hit else 0.0
            theme, shared = self._theme(q_vec, self.provider_vectors.get(pid), prefs.themes, facts.themes)
            if text <= 0 and theme < THEME_FLOOR:
                continue
            signals = {
                "text": Signal(text, weights["text"], "shared words"),
                "theme": Signal(
                    theme, weights["theme"], "shared themes: " + ", ".join(shared) if shared else "no shared theme"
                ),
            }
            if prefs.languages:
                signals["language"] = _language(prefs.languages, facts.languages, weights["language"])
            if prefs.state:
                signals["presence"] = _presence(prefs.state, facts.countries, facts.regions, weights["presence"])
            if prefs.modalities:
                signals["modality"] = _modality(prefs.modalities, facts.modalities, weights["modality"])
            if any_history and (prefs.state or need_themes):
                with_state, on_themes = history.get(pid, (False, False))
                value = 1.0 if with_state else 0.5 if on_themes else 0.0
                detail = (
                    f"has completed cooperation with {prefs.state}"
                    if with_state
                    else "has completed cooperation on these themes"
                    if on_themes
                    else "no completed cooperation recorded"
                )
                signals["history"] = Signal(value, weights["history"], detail)
            ranked.append(self._finish(pid, hit, shared, signals))
        return _top(ranked, limit, min_score)

    def rank_needs(
        self,
        query: str,
        provider: ProviderFacts,
        *,
        visible: Sequence[str],
        limit: int = 10,
        min_score: float = 0.0,
    ) -> list[Ranked]:
        """Open needs (among `visible`) ranked for a provider, best first."""
        allowed = [nid for nid in visible if nid in self.need_facts and self.need_facts[nid].status != "closed"]
        text_hits = self.needs.scores(query, allowed)
        weights = self._weights()
        p_vec = self.query_vector(query, provider.themes)
        ranked = []
        for nid in allowed:
            facts = self.need_facts[nid]
            hit = text_hits.get(nid)
            text = hit.score if hit else 0.0
            theme, shared = self._theme(self.need_vectors.get(nid), p_vec, facts.themes, provider.themes)
            if text <= 0 and theme < THEME_FLOOR:
                continue
            signals = {
                "text": Signal(text, weights["text"], "shared words"),
                "theme": Signal(
                    theme, weights["theme"], "shared themes: " + ", ".join(shared) if shared else "no shared theme"
                ),
                "presence": _presence(facts.state, provider.countries, provider.regions, weights["presence"]),
            }
            if facts.languages:
                signals["language"] = _language(facts.languages, provider.languages, weights["language"])
            if facts.modalities:
                signals["modality"] = _modality(facts.modalities, provider.modalities, weights["modality"])
            ranked.append(self._finish(nid, hit, shared, signals))
        return _top(ranked, limit, min_score)

    @staticmethod
    def _finish(obj_id: str, hit: Match | None, shared: Sequence[str], signals: dict[str, Signal]) -> Ranked:
        total_weight = sum(s.weight for s in signals.values())
        score = sum(s.value * s.weight for s in signals.values()) / total_weight if total_weight > 0 else 0.0
        score = min(1.0, max(0.0, score))
        terms = tuple((t.term, round(t.weight, 4)) for t in (hit.terms if hit else ()))
        return Ranked(obj_id, score, terms, tuple(shared), signals, _summary(terms, shared, signals))


def _top(ranked: list[Ranked], limit: int, min_score: float) -> list[Ranked]:
    kept = [r for r in ranked if r.score >= min_score]
    kept.sort(key=lambda r: (-r.score, r.id))
    return kept[:limit]


def _theme_overlap(wanted: Sequence[str], offered: Sequence[str]) -> tuple[float, list[str]]:
    """Cosine of the two theme sets (case-insensitive) and the shared themes, in the asker's spelling."""
    wanted_f, offered_f = _fold(wanted), _fold(offered)
    if not wanted_f or not offered_f:
        return 0.0, []
    shared = [t for t in dict.fromkeys(wanted) if t.casefold() in offered_f]
    return len(_fold(shared)) / math.sqrt(len(wanted_f) * len(offered_f)), shared


@lru_cache(maxsize=256)
def language_name(code: str) -> str:
    """English name of an ISO 639-1 code ("es" -> "Spanish"), or the code itself."""
    import pycountry

    found = pycountry.languages.get(alpha_2=code)
    return str(found.name) if found is not None else code


def _language(wanted: frozenset[str], offered: frozenset[str], weight: float) -> Signal:
    common = sorted(language_name(code) for code in wanted & offered)
    return Signal(
        1.0 if common else 0.0, weight, "works in " + ", ".join(common) if common else "none of the requested languages"
    )


def _modality(wanted: frozenset[str], offered: frozenset[str], weight: float) -> Signal:
    common = sorted(wanted & offered)
    detail = (
        "offers " + ", ".join(m.replace("_", " ") for m in common) if common else "offers none of the modalities asked"
    )
    return Signal(len(common) / len(wanted), weight, detail)


def _presence(state: str, countries: frozenset[str], regions: frozenset[str], weight: float) -> Signal:
    region = region_of(state)
    if state in countries:
        return Signal(1.0, weight, f"works in {state}")
    if region and region in regions:
        return Signal(0.6, weight, f"works in the region ({REGION_LABELS.get(region, region)})")
    if "global" in regions:
        return Signal(0.3, weight, "works worldwide")
    return Signal(0.0, weight, "no presence recorded in the State or its region")


def _summary(terms: Sequence[tuple[str, float]], shared: Sequence[str], signals: dict[str, Signal]) -> str:
    """The explanation in words, e.g. 'shares: detention, torture; works in the region (Africa); offers training'."""
    parts = []
    words = [t for t, _ in terms[:4]]
    if shared or words:
        parts.append(
            "shares: " + ", ".join([*shared[:4], *[w for w in words if w.casefold() not in _fold(shared)]][:6])
        )
    for name in ("presence", "language", "modality", "history"):
        signal = signals.get(name)
        if signal is not None and signal.value > 0:
            parts.append(signal.detail)
    return "; ".join(parts)


def _provider_facts(row: Provider) -> ProviderFacts:
    return ProviderFacts(
        id=row.id,
        kind=row.kind,
        themes=tuple(row.themes),
        languages=frozenset(row.languages),
        countries=frozenset(row.countries),
        regions=frozenset(row.regions),
        modalities=frozenset(row.modalities),
    )


def _need_facts(row: Need) -> NeedFacts:
    return NeedFacts(
        id=row.id,
        state=row.state,
        status=row.status,
        visibility=row.visibility,
        themes=tuple(row.themes),
        languages=frozenset(row.languages),
        modalities=frozenset(row.modalities),
    )


def _recommendation_texts(session: Session, need_ids: Sequence[str]) -> dict[str, list[str]]:
    if not need_ids:
        return {}
    out: dict[str, list[str]] = {}
    for chunk_start in range(0, len(need_ids), 500):
        chunk = list(need_ids[chunk_start : chunk_start + 500])
        rows = session.exec(
            select(NeedRecommendation.need_id, Recommendation.text)
            .join(Recommendation, col(Recommendation.id) == col(NeedRecommendation.recommendation_id))
            .where(col(NeedRecommendation.need_id).in_(chunk))
            .order_by(col(NeedRecommendation.need_id), col(NeedRecommendation.position))
        ).all()
        for need_id, text in rows:
            out.setdefault(need_id, []).append(text)
    return out


def provider_history(session: Session, *, state: str | None, themes: Sequence[str]) -> dict[str, tuple[bool, bool]]:
    """Per provider: (completed an activity with `state`, completed one on any of `themes`).

    Only activities the other party (or an admin) confirmed count: a claim can't raise a ranking.
    """
    rows = session.exec(
        select(Activity.id, Activity.provider_id, Activity.state).where(
            col(Activity.status) == "completed", col(Activity.confirmation) == "confirmed"
        )
    ).all()
    if not rows:
        return {}
    wanted = _fold(themes)
    on_theme: set[str] = set()
    if wanted:
        links = session.exec(
            select(ActivityRecommendation.activity_id, Recommendation.themes)
            .join(Recommendation, col(Recommendation.id) == col(ActivityRecommendation.recommendation_id))
            .where(col(ActivityRecommendation.activity_id).in_([r[0] for r in rows]))
        ).all()
        on_theme = {aid for aid, rec_themes in links if _fold(rec_themes or []) & wanted}
    out: dict[str, tuple[bool, bool]] = {}
    for activity_id, provider_id, activity_state in rows:
        with_state, themed = out.get(provider_id, (False, False))
        out[provider_id] = (with_state or activity_state == state, themed or activity_id in on_theme)
    return out


def prune_log(session: Session, *, older_than: timedelta = timedelta(days=1)) -> int:
    """Delete log rows every worker has long applied (workers that start later load the tables)."""
    result = session.exec(  # type: ignore[call-overload]
        delete(IndexChange).where(col(IndexChange.created_at) < utcnow() - older_than)
    )
    session.commit()
    return int(result.rowcount or 0)


# --- what the routes call ---------------------------------------------------------------------


def get_index(app_state: Any, session: Session) -> MatchIndex:
    """The worker's index, built on first use if start-up could not build it; current with the log."""
    from app.errors import ServiceUnavailable

    index: MatchIndex = app_state.match_index
    if not index.loaded:
        try:
            index.load(session)
        except Exception as exc:
            logger.exception("matching index could not be built")
            raise ServiceUnavailable(
                "The matching index is not ready; retry shortly.", headers={"Retry-After": "5"}
            ) from exc
    index.refresh(session)
    return index


def explanation_of(ranked: Ranked) -> Any:
    """The API form of why `ranked` scored as it did."""
    from app.models.match import Explanation, SignalOut, TermOut

    return Explanation(
        terms=[TermOut(term=t, weight=w) for t, w in ranked.terms],
        themes=list(ranked.themes),
        signals={
            k: SignalOut(value=round(s.value, 6), weight=s.weight, detail=s.detail) for k, s in ranked.signals.items()
        },
        summary=ranked.summary,
    )


def present_provider_matches(session: Session, ranked: list[Ranked], principal: Any) -> list[Any]:
    from app.models.match import ProviderMatch
    from app.services.providers import present_provider

    rows = {p.id: p for p in session.exec(select(Provider).where(col(Provider.id).in_([r.id for r in ranked])))}
    out = []
    for r in ranked:
        row = rows.get(r.id)
        if row is None:  # deleted since the index was read
            continue
        out.append(
            ProviderMatch(
                provider=present_provider(row, principal),
                score=round(r.score, 6),
                explanation=explanation_of(r),
            )
        )
    return out


def match_providers_for_need(
    session: Session,
    app_state: Any,
    *,
    principal: Any,
    need_id: str,
    filters: ProviderFilters,
    limit: int,
    min_score: float,
) -> Any:
    """Providers ranked for a need the caller may see."""
    from app.models.match import EngineInfo, ProviderMatches
    from app.services.needs import get_need

    need = get_need(session, principal=principal, need_id=need_id)
    index = get_index(app_state, session)
    texts = _recommendation_texts(session, [need.id]).get(need.id, [])
    prefs = Preferences(
        state=need.state,
        themes=tuple(need.themes),
        languages=frozenset(need.languages),
        modalities=frozenset(need.modalities),
    )
    history = provider_history(session, state=need.state, themes=need.themes)
    ranked = index.rank_providers(
        need_text(need, texts), prefs, filters=filters, history=history, limit=limit, min_score=min_score
    )
    return ProviderMatches(
        items=present_provider_matches(session, ranked, principal), engine=EngineInfo(**index.engine_info("provider"))
    )


def match_providers_for_text(session: Session, app_state: Any, *, principal: Any, query: Any) -> Any:
    """Providers ranked for free text (a State exploring before it files a need)."""
    from app.models.match import EngineInfo, ProviderMatches

    index = get_index(app_state, session)
    prefs = Preferences(state=query.state, themes=tuple(query.themes))
    filters = ProviderFilters(
        kinds=frozenset(query.kinds),
        languages=frozenset(query.languages),
        countries=frozenset(query.countries),
        regions=frozenset(query.regions),
        modalities=frozenset(query.modalities),
    )
    history = provider_history(session, state=query.state, themes=query.themes) if query.state or query.themes else {}
    ranked = index.rank_providers(
        query.text, prefs, filters=filters, history=history, limit=query.limit, min_score=query.min_score
    )
    return ProviderMatches(
        items=present_provider_matches(session, ranked, principal), engine=EngineInfo(**index.engine_info("provider"))
    )


def match_needs_for_provider(
    session: Session, app_state: Any, *, principal: Any, provider_id: str, limit: int, min_score: float
) -> Any:
    """Open needs the caller may see, ranked for a provider."""
    from app.models.match import EngineInfo, NeedMatch, NeedMatches
    from app.services import access
    from app.services.needs import present_needs
    from app.services.providers import get_provider

    provider = get_provider(session, provider_id=provider_id)
    index = get_index(app_state, session)
    visible = session.exec(
        select(Need.id).where(access.need_read_clause(principal), col(Need.status) != "closed")
    ).all()
    ranked = index.rank_needs(
        provider_text(provider), _provider_facts(provider), visible=list(visible), limit=limit, min_score=min_score
    )
    rows = {n.id: n for n in session.exec(select(Need).where(col(Need.id).in_([r.id for r in ranked])))}
    ordered = [rows[r.id] for r in ranked if r.id in rows]
    public = {n.id: n for n in present_needs(session, ordered)}
    items = [
        NeedMatch(
            need=public[r.id],
            score=round(r.score, 6),
            explanation=explanation_of(r),
        )
        for r in ranked
        if r.id in public
    ]
    # Count only the needs this caller may see, not every need in the index.
    engine = {**index.engine_info("need"), "documents": len(visible)}
    return NeedMatches(items=items, engine=EngineInfo(**engine))
