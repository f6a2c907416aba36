"""The matching index of one worker process: built from the database, kept current by the change log.

`MatchIndex` holds the engine indexes of providers and needs, their facts and theme vectors. It is
built at start-up and follows the `index_change` log (filled by database triggers on every provider
and need write) before every match, so a write through any worker shows in the next match of every
worker, without a rebuild.

Readers never see a change half applied: every load or refresh builds a new immutable
`IndexSnapshot` and publishes it by replacing one reference. A match reads `current()` once and
ranks on that snapshot to the end, whatever writers do meanwhile. Writers (load, refresh) are
serialised by a lock. The ranking itself is `matching.ranking`.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import TypedDict, TypeVar

import pycountry
from sqlalchemy import delete
from sqlmodel import Session, col, func, select

from app.core.config import Settings
from app.core.errors import ServiceUnavailable
from app.http import metrics
from app.models.common import utcnow
from app.models.index_change import IndexChange
from app.models.need import Need, NeedRecommendation
from app.models.provider import Provider
from app.models.recommendation import Recommendation
from app.services import theme_vectors
from app.services import themes as theme_service
from matching import TfidfMatcher
from matching.columns import ColumnsWriter
from matching.ranking import (
    FACT_COLUMNS,
    NO_FILTERS,
    Corpus,
    NeedAudience,
    NeedFacts,
    Preferences,
    ProbaModel,
    ProviderFacts,
    ProviderFilters,
    Ranked,
    Ranker,
    ThemeSpace,
    Vector,
    Weights,
    fact_values,
    visible_needs,
)
from matching.schemes import MultiSchemeTagger
from matching.texts import need_text as engine_need_text
from matching.texts import provider_text as engine_provider_text

logger = logging.getLogger("app.matching")

# How far back each refresh looks for log rows committed out of order (PostgreSQL
# sequences are taken at insert, and transactions commit in any order).
GAP_WINDOW = 200
# Refit from scratch once this share of the index was added after the last fit,
# so IDF weights do not drift far from the corpus (the engine freezes IDF at fit).
REFIT_SHARE = 0.5
REFIT_MIN = 20
THEME_SCHEME = "upr_info_issues"
REGION_FILE = Path(__file__).resolve().parents[1] / "reference" / "un_regional_groups.json"
# Free texts (POST /v1/match, drafts) whose theme vectors are kept: the tagger reads each once.
THEME_CACHE_SIZE = 512

F = TypeVar("F", ProviderFacts, NeedFacts)


@lru_cache(maxsize=1)
def regional_groups() -> Mapping[str, str]:
    """ISO3 -> UN regional group slug (the five groups the UPR uses)."""
    groups: dict[str, str] = json.loads(REGION_FILE.read_text(encoding="utf-8"))
    return MappingProxyType(groups)


def region_of(state: str | None) -> str | None:
    return regional_groups().get(state or "")


@lru_cache(maxsize=256)
def language_name(code: str) -> str:
    """English name of an ISO 639-1 code ("es" -> "Spanish"), or the code itself."""
    found = pycountry.languages.get(alpha_2=code)
    return str(found.name) if found is not None else code


def ranker_for(settings: Settings, model: ProbaModel | None) -> Ranker:
    """The service's ranking: weights from the settings, the tagger's theme space, the UN regional groups."""
    weights = Weights(
        text=settings.MATCH_WEIGHT_TEXT,
        theme=settings.MATCH_WEIGHT_THEME,
        language=settings.MATCH_WEIGHT_LANGUAGE,
        presence=settings.MATCH_WEIGHT_PRESENCE,
        modality=settings.MATCH_WEIGHT_MODALITY,
        history=settings.MATCH_WEIGHT_HISTORY,
    )
    return Ranker(
        weights=weights,
        themes=theme_service.ranking_space(model),
        regions=regional_groups(),
        language_name=language_name,
    )


# --- what the engine reads of a row ------------------------------------------------------------


def provider_text(row: Provider) -> str:
    """What the engine reads for a provider."""
    return engine_provider_text(row.name, row.acronym, row.description, row.themes)


def need_text(row: Need, recommendation_texts: Sequence[str]) -> str:
    """What the engine reads for a need: its words and the recommendations it cites."""
    return engine_need_text(row.title, row.description, recommendation_texts, row.themes)


def provider_facts(row: Provider) -> ProviderFacts:
    return ProviderFacts(
        id=row.id,
        kind=row.kind,
        themes=tuple(row.themes),
        languages=frozenset(row.languages),
        countries=frozenset(row.countries),
        regions=frozenset(row.regions),
        modalities=frozenset(row.modalities),
    )


def need_facts(row: Need) -> NeedFacts:
    return NeedFacts(
        id=row.id,
        state=row.state,
        status=row.status,
        visibility=row.visibility,
        themes=tuple(row.themes),
        languages=frozenset(row.languages),
        modalities=frozenset(row.modalities),
    )


def recommendation_texts(session: Session, need_ids: Sequence[str]) -> dict[str, list[str]]:
    """The texts of the recommendations each need cites, in the need's order."""
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


# --- the snapshot readers rank on ----------------------------------------------------------------


class EngineInfo(TypedDict):
    version: str
    documents: int
    log_position: int


@dataclass(frozen=True, slots=True)
class IndexSnapshot:
    """Providers and needs as the index held them at one log position; never changed once published."""

    providers: Corpus[ProviderFacts]
    needs: Corpus[NeedFacts]
    ranker: Ranker
    applied_seq: int = 0
    provider_version: int = 0
    need_version: int = 0
    #: What the engine read for each need (its words and the recommendations it cites).
    need_texts: Mapping[str, str] = field(default_factory=dict)

    def rank_providers(
        self,
        query: str,
        prefs: Preferences,
        *,
        filters: ProviderFilters = NO_FILTERS,
        history: Mapping[str, tuple[bool, bool]] | None = None,
        exclude: frozenset[str] = frozenset(),
        limit: int = 10,
        min_score: float = 0.0,
        theme_vector: Vector | None = None,
    ) -> list[Ranked]:
        """Providers ranked for a need (or free text), best first, none of `exclude`."""
        return self.ranker.rank_providers(
            self.providers,
            query,
            prefs,
            filters=filters,
            history=history,
            exclude=exclude,
            limit=limit,
            min_score=min_score,
            theme_vector=theme_vector,
        )

    def provider_scores(
        self,
        query: str,
        prefs: Preferences,
        *,
        history: Mapping[str, tuple[bool, bool]] | None = None,
        exclude: frozenset[str] = frozenset(),
        theme_vector: Vector | None = None,
    ) -> dict[str, float]:
        """Every provider's score for a need, as `rank_providers` scores them (unordered)."""
        return self.ranker.provider_scores(
            self.providers, query, prefs, history=history, exclude=exclude, theme_vector=theme_vector
        )

    def rank_needs(
        self,
        query: str,
        provider: ProviderFacts,
        *,
        visible: Sequence[str] | NeedAudience,
        exclude: frozenset[str] = frozenset(),
        limit: int = 10,
        min_score: float = 0.0,
    ) -> list[Ranked]:
        """Open needs (those `visible` names or allows, none of `exclude`) ranked for a provider, best first.

        The provider's theme vector is the one the index keeps for it (computed from the same text).
        """
        return self.ranker.rank_needs(
            self.needs,
            query,
            provider,
            visible=visible,
            exclude=exclude,
            limit=limit,
            min_score=min_score,
            theme_vector=self.providers.vectors.get(provider.id),
        )

    def count_open_needs(self, audience: NeedAudience) -> int:
        """How many needs that are not closed the audience may see."""
        return int(visible_needs(self.needs, audience).sum())

    def engine_info(self, kind: str) -> EngineInfo:
        """Which index answered: log position, engine version and how many documents it holds."""
        corpus_version, documents = (
            (self.provider_version, len(self.providers)) if kind == "provider" else (self.need_version, len(self.needs))
        )
        return {
            "version": f"{self.applied_seq}.{corpus_version}",
            "documents": documents,
            "log_position": self.applied_seq,
        }


# --- the writer side -----------------------------------------------------------------------------


@dataclass
class _TextIndex:
    """One engine index with its texts, kept so the index can be refitted (writer side only)."""

    matcher: TfidfMatcher | None = None
    texts: dict[str, str] = field(default_factory=dict)
    fitted_size: int = 0
    added_since_fit: int = 0

    def upsert(self, doc_id: str, text: str) -> None:
        self.texts[doc_id] = text
        if self.matcher is None or self.added_since_fit + 1 > max(REFIT_MIN, REFIT_SHARE * self.fitted_size):
            self.refit()
            return
        self.matcher.add([text], ids=[doc_id])
        self.added_since_fit += 1

    def remove(self, doc_id: str) -> None:
        if self.texts.pop(doc_id, None) is None:
            return
        if self.matcher is not None and doc_id in self.matcher:
            if not self.texts:
                self.matcher = None
            else:
                self.matcher.remove([doc_id])

    def refit(self) -> None:
        if not self.texts:
            self.matcher, self.fitted_size, self.added_since_fit = None, 0, 0
            return
        ids = sorted(self.texts)
        self.matcher = TfidfMatcher().fit([self.texts[i] for i in ids], ids=ids)
        self.fitted_size, self.added_since_fit = len(ids), 0

    def view(self) -> TfidfMatcher | None:
        return self.matcher.view() if self.matcher is not None else None

    @property
    def version(self) -> int:
        return self.matcher.version_ if self.matcher is not None else 0


class MatchIndex:
    """Per-process matching index over providers and needs, kept current from `index_change`."""

    def __init__(self, settings: Settings, tagger: MultiSchemeTagger | None = None) -> None:
        self.ranker = ranker_for(settings, tagger[THEME_SCHEME] if tagger is not None else None)
        self._tagger_version = str(tagger[THEME_SCHEME].metadata_.get("version")) if tagger is not None else ""
        self._n_themes = len(self.ranker.themes.classes) if self.ranker.themes.model is not None else None
        self._provider_columns = ColumnsWriter(FACT_COLUMNS, self._n_themes)
        self._need_columns = ColumnsWriter(FACT_COLUMNS, self._n_themes)
        self._theme_cache: OrderedDict[tuple[str, tuple[str, ...]], Vector | None] = OrderedDict()
        self._theme_cache_lock = threading.Lock()
        self._providers: dict[str, ProviderFacts] = {}
        self._needs: dict[str, NeedFacts] = {}
        self._provider_vectors: dict[str, Vector] = {}
        self._need_vectors: dict[str, Vector] = {}
        self._provider_texts = _TextIndex()
        self._need_texts = _TextIndex()
        self._applied_seq = 0
        self._recent: set[int] = set()
        self._lock = threading.Lock()
        self.loaded = False
        self._snapshot = IndexSnapshot(Corpus(None, {}), Corpus(None, {}), self.ranker)

    @property
    def snapshot(self) -> IndexSnapshot:
        """The index as last published (empty until loaded)."""
        return self._snapshot

    @property
    def themes(self) -> ThemeSpace:
        return self.ranker.themes

    def theme_vector(self, text: str, themes: Sequence[str]) -> Vector | None:
        """The theme vector of a free text with its declared themes; the tagger reads each distinct text once.

        The last `THEME_CACHE_SIZE` texts are kept (the tagger never changes while the process runs).
        """
        if self.ranker.themes.model is None:
            return None
        key = (text, tuple(themes))
        with self._theme_cache_lock:
            if key in self._theme_cache:
                self._theme_cache.move_to_end(key)
                return self._theme_cache[key]
        vector = self.ranker.themes.vector(text, themes)
        with self._theme_cache_lock:
            self._theme_cache[key] = vector
            while len(self._theme_cache) > THEME_CACHE_SIZE:
                self._theme_cache.popitem(last=False)
        return vector

    def current(self, session: Session) -> IndexSnapshot:
        """The index, built on first use if start-up could not build it, current with the log."""
        if not self.loaded:
            try:
                self.load(session)
            except Exception as exc:
                logger.exception("matching index could not be built")
                raise ServiceUnavailable(
                    "The matching index is not ready; retry shortly.", headers={"Retry-After": "5"}
                ) from exc
        self.refresh(session)
        return self._snapshot

    def status(self) -> dict[str, object]:
        """For /health/ready: whether the index is built, its size and log position."""
        snap = self._snapshot
        return {
            "ok": self.loaded,
            "providers": len(snap.providers),
            "needs": len(snap.needs),
            "log_position": snap.applied_seq,
        }

    # --- building and following the log ------------------------------------------------------------

    def load(self, session: Session) -> IndexSnapshot:
        """Build both indexes from the database."""
        started = time.perf_counter()
        with self._lock:
            latest = session.exec(select(func.max(IndexChange.seq))).one() or 0
            seen = session.exec(select(IndexChange.seq).where(col(IndexChange.seq) > latest - GAP_WINDOW)).all()
            providers = session.exec(select(Provider)).all()
            needs = session.exec(select(Need)).all()
            texts = recommendation_texts(session, [n.id for n in needs])
            self._provider_texts = _TextIndex(texts={p.id: provider_text(p) for p in providers})
            self._need_texts = _TextIndex(texts={n.id: need_text(n, texts.get(n.id, [])) for n in needs})
            self._provider_texts.refit()
            self._need_texts.refit()
            self._providers = {p.id: provider_facts(p) for p in providers}
            self._needs = {n.id: need_facts(n) for n in needs}
            self._provider_vectors = self._vectors(
                session,
                "provider",
                [(p.id, self._provider_texts.texts[p.id], p.themes) for p in providers],
                by_sentence=True,
                everything=True,
            )
            self._need_vectors = self._vectors(
                session,
                "need",
                [(n.id, self._need_texts.texts[n.id], n.themes) for n in needs],
                parts={n.id: texts.get(n.id, []) for n in needs},
                everything=True,
            )
            self._provider_columns = self._columns(self._providers, self._provider_vectors)
            self._need_columns = self._columns(self._needs, self._need_vectors)
            self._applied_seq, self._recent = latest, {s for s in seen if s is not None}
            self._publish(providers=True, needs=True)
            self.loaded = True
        logger.info(
            "matching index built: %d providers, %d needs in %.0f ms",
            len(providers),
            len(needs),
            (time.perf_counter() - started) * 1000,
        )
        return self._snapshot

    def refresh(self, session: Session) -> int:
        """Apply log rows not yet seen and publish the result; return how many objects were updated."""
        rows = session.exec(
            select(IndexChange.seq, IndexChange.kind, IndexChange.object_id)
            .where(col(IndexChange.seq) > self._applied_seq - GAP_WINDOW)
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
            for kind, oid in todo:
                if kind == "provider":
                    self._apply_provider(session, oid)
                elif kind == "need":
                    self._apply_need(session, oid)
            newest = max(seq for seq, _, _ in fresh)
            self._recent.update(seq for seq, _, _ in fresh)
            self._applied_seq = max(self._applied_seq, newest)
            self._recent = {s for s in self._recent if s > self._applied_seq - GAP_WINDOW}
            kinds = {kind for kind, _ in todo}
            self._publish(providers="provider" in kinds, needs="need" in kinds)
        return len(todo)

    def _publish(self, *, providers: bool, needs: bool) -> None:
        """Replace the snapshot by one holding copies of the sides that changed."""
        old = self._snapshot
        self._snapshot = IndexSnapshot(
            providers=self._corpus(
                self._provider_texts, self._providers, self._provider_vectors, self._provider_columns
            )
            if providers
            else old.providers,
            needs=self._corpus(self._need_texts, self._needs, self._need_vectors, self._need_columns)
            if needs
            else old.needs,
            ranker=self.ranker,
            applied_seq=self._applied_seq,
            provider_version=self._provider_texts.version,
            need_version=self._need_texts.version,
            need_texts=MappingProxyType(dict(self._need_texts.texts)) if needs else old.need_texts,
        )
        metrics.INDEX_DOCUMENTS.labels("provider").set(len(self._providers))
        metrics.INDEX_DOCUMENTS.labels("need").set(len(self._needs))
        metrics.INDEX_APPLIED.set(self._applied_seq)

    @staticmethod
    def _corpus(
        text: _TextIndex, facts: Mapping[str, F], vectors: Mapping[str, Vector], columns: ColumnsWriter
    ) -> Corpus[F]:
        return Corpus(
            text.view(), MappingProxyType(dict(facts)), MappingProxyType(dict(vectors)), columns=columns.freeze()
        )

    def _columns(self, facts: Mapping[str, F], vectors: Mapping[str, Vector]) -> ColumnsWriter:
        writer = ColumnsWriter(FACT_COLUMNS, self._n_themes)
        for obj_id, one in facts.items():
            writer.put(obj_id, fact_values(one), vectors.get(obj_id))
        return writer

    def _apply_provider(self, session: Session, provider_id: str) -> None:
        row = session.get(Provider, provider_id, populate_existing=True)
        if row is None:
            self._provider_texts.remove(provider_id)
            self._providers.pop(provider_id, None)
            self._provider_vectors.pop(provider_id, None)
            self._provider_columns.drop(provider_id)
            return
        text = provider_text(row)
        self._provider_texts.upsert(row.id, text)
        facts = self._providers[row.id] = provider_facts(row)
        self._provider_vectors.update(
            self._vectors(session, "provider", [(row.id, text, row.themes)], by_sentence=True)
        )
        self._provider_columns.put(row.id, fact_values(facts), self._provider_vectors.get(row.id))

    def _apply_need(self, session: Session, need_id: str) -> None:
        row = session.get(Need, need_id, populate_existing=True)
        if row is None:
            self._need_texts.remove(need_id)
            self._needs.pop(need_id, None)
            self._need_vectors.pop(need_id, None)
            self._need_columns.drop(need_id)
            return
        cited = recommendation_texts(session, [row.id]).get(row.id, [])
        text = need_text(row, cited)
        self._need_texts.upsert(row.id, text)
        facts = self._needs[row.id] = need_facts(row)
        self._need_vectors.update(self._vectors(session, "need", [(row.id, text, row.themes)], parts={row.id: cited}))
        self._need_columns.put(row.id, fact_values(facts), self._need_vectors.get(row.id))

    def _vectors(
        self,
        session: Session,
        kind: str,
        items: Sequence[tuple[str, str, Sequence[str]]],
        *,
        by_sentence: bool = False,
        parts: Mapping[str, Sequence[str]] | None = None,
        everything: bool = False,
    ) -> dict[str, Vector]:
        """Theme vectors of (id, text, declared themes): stored ones reused, the others computed and stored.

        `parts` gives a need's cited recommendations: its predicted themes are the maximum over them.

        With `everything` (a load), the stored vectors are read at once and those of objects gone are dropped.
        """
        if self.ranker.themes.model is None:
            return {}
        stored = theme_vectors.stored_vectors(session, kind) if everything else None
        found = theme_vectors.vectors_for(
            session,
            self.ranker.themes,
            self._tagger_version,
            kind,
            items,
            by_sentence=by_sentence,
            parts=parts,
            stored=stored,
        )
        if stored is not None:
            theme_vectors.forget(session, kind, sorted(set(stored) - set(found)))
        return found


def newest_log_seq(session: Session) -> int:
    """The newest row of the change log (0 when empty): how far the indexes have to follow."""
    return int(session.exec(select(func.max(IndexChange.seq))).one() or 0)


def prune_log(session: Session, *, older_than: timedelta = timedelta(days=1)) -> int:
    """Delete log rows every worker has long applied (workers that start later load the tables)."""
    result = session.exec(delete(IndexChange).where(col(IndexChange.created_at) < utcnow() - older_than))
    session.commit()
    return int(result.rowcount or 0)
