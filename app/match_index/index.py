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

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import replace
from types import MappingProxyType
from typing import TypeVar

from sqlmodel import Session, col, func, select

from app.core import metrics
from app.core.config import Settings
from app.core.errors import ServiceUnavailable
from app.match_index import theme_vectors
from app.match_index.change_log import GAP_WINDOW
from app.match_index.ranker import MAIN_SCHEME, load_reader, ranker_for
from app.match_index.rows import (
    need_facts,
    need_text,
    provider_facts,
    provider_text,
    recommendation_facts,
    recommendation_texts,
)
from app.match_index.snapshot import IndexSnapshot
from app.match_index.text_index import TextIndex
from app.models.index_change import IndexChange
from app.models.need import Need
from app.models.provider import Provider
from app.models.recommendation import Recommendation
from matching.columns import ColumnsWriter
from matching.ranking import (
    FACT_COLUMNS,
    Corpus,
    NeedFacts,
    ProviderFacts,
    RecommendationFacts,
    ThemeSpace,
    Vector,
    fact_values,
)
from matching.schemes import MultiSchemeTagger

logger = logging.getLogger("app.matching")

# Free texts (POST /v1/match, drafts) whose theme vectors are kept: the tagger reads each once.
THEME_CACHE_SIZE = 512

F = TypeVar("F", ProviderFacts, NeedFacts, RecommendationFacts)


class MatchIndex:
    """Per-process matching index over providers and needs, kept current from `index_change`."""

    def __init__(self, settings: Settings, tagger: MultiSchemeTagger | None = None) -> None:
        reader, self.languages_detail = load_reader(settings)
        self.ranker = ranker_for(settings, tagger[MAIN_SCHEME] if tagger is not None else None, reader)
        self._tagger_version = str(tagger[MAIN_SCHEME].metadata_.get("version")) if tagger is not None else ""
        self._n_themes = len(self.ranker.themes.classes) if self.ranker.themes.model is not None else None
        self._provider_columns = ColumnsWriter(FACT_COLUMNS, self._n_themes)
        self._need_columns = ColumnsWriter(FACT_COLUMNS, self._n_themes)
        self._theme_cache: OrderedDict[tuple[str, tuple[str, ...]], Vector | None] = OrderedDict()
        self._theme_cache_lock = threading.Lock()
        self._providers: dict[str, ProviderFacts] = {}
        self._needs: dict[str, NeedFacts] = {}
        self._provider_vectors: dict[str, Vector] = {}
        self._need_vectors: dict[str, Vector] = {}
        self._provider_texts = TextIndex()
        self._need_texts = TextIndex()
        self._applied_seq = 0
        self._recent: set[int] = set()
        self._lock = threading.Lock()
        self._recommendation_lock = threading.Lock()
        self._recommendation_stamp: tuple[object, ...] | None = None
        self._recommendation_version = 0
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

    def with_recommendations(self, session: Session) -> IndexSnapshot:
        """:meth:`current`, holding the recommendations that count as the database holds them now.

        They are read on first use (a worker that never answers `related` never holds them) and read
        again whenever the table changed since (its row count or latest update moved: imports are rare).
        """
        snapshot = self.current(session)
        # Three queries: SQLite answers a lone max() from the column's index, a max() beside others by a scan.
        stamp = (
            session.exec(select(func.count()).select_from(Recommendation)).one(),
            session.exec(select(func.max(Recommendation.updated_at))).one(),
            session.exec(select(func.max(Recommendation.withdrawn_at))).one(),
        )
        if stamp == self._recommendation_stamp:
            return snapshot
        # Built outside the index's lock: with the tagger, 30,000 recommendations whose theme vectors are
        # not stored yet take about 30 s, and matches and the change log must not wait for them meanwhile.
        # One builder at a time; the snapshot is swapped under the index's lock.
        with self._recommendation_lock:
            if stamp != self._recommendation_stamp:
                corpus = self._recommendation_corpus(session)
                with self._lock:
                    self._recommendation_stamp = stamp
                    self._recommendation_version += 1
                    self._snapshot = replace(
                        self._snapshot, recommendations=corpus, recommendation_version=self._recommendation_version
                    )
        return self._snapshot

    def _recommendation_corpus(self, session: Session) -> Corpus[RecommendationFacts]:
        started = time.perf_counter()
        rows = session.exec(
            select(Recommendation).where(
                col(Recommendation.canonical_id).is_(None), col(Recommendation.withdrawn_at).is_(None)
            )
        ).all()
        texts = TextIndex(texts={r.id: r.text for r in rows})
        texts.refit()
        facts = {r.id: recommendation_facts(r) for r in rows}
        vectors = self._vectors(
            session, "recommendation", [(r.id, r.text, facts[r.id].themes) for r in rows], everything=True
        )
        corpus = Corpus(texts.view(), MappingProxyType(facts), MappingProxyType(vectors))
        logger.info("recommendations indexed: %d in %.0f ms", len(rows), (time.perf_counter() - started) * 1000)
        return corpus

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
            # French and Spanish profiles and needs are indexed in English (English ones as written).
            english = self.ranker.themes.english
            self._provider_texts = TextIndex(texts={p.id: english(provider_text(p)) for p in providers})
            self._need_texts = TextIndex(texts={n.id: english(need_text(n, texts.get(n.id, []))) for n in needs})
            self._provider_texts.refit()
            self._need_texts.refit()
            self._providers = {p.id: provider_facts(p) for p in providers}
            self._needs = {n.id: need_facts(n) for n in needs}
            self._provider_vectors = self._vectors(
                session,
                "provider",
                [(p.id, self._provider_texts.texts[p.id], self._providers[p.id].themes) for p in providers],
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
            recommendations=old.recommendations,
            recommendation_version=old.recommendation_version,
        )
        metrics.INDEX_DOCUMENTS.labels("provider").set(len(self._providers))
        metrics.INDEX_DOCUMENTS.labels("need").set(len(self._needs))
        metrics.INDEX_APPLIED.set(self._applied_seq)

    @staticmethod
    def _corpus(
        text: TextIndex, facts: Mapping[str, F], vectors: Mapping[str, Vector], columns: ColumnsWriter
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
        text = self.ranker.themes.english(provider_text(row))
        self._provider_texts.upsert(row.id, text)
        facts = self._providers[row.id] = provider_facts(row)
        self._provider_vectors.update(
            self._vectors(session, "provider", [(row.id, text, facts.themes)], by_sentence=True)
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
        text = self.ranker.themes.english(need_text(row, cited))
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
