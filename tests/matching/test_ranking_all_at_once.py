"""Scoring every candidate at once (matching/columns.py, matching/scoring.py) answers as scoring them one by one.

The oracle ranks every candidate with the one-by-one scorer (`Ranker._provider_one`,
`Ranker._need_one`, the explanation builders the service always used) and sorts; the ranking must
return exactly that, whatever the facts, filters, preferences, history, exclusions and limits.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import numpy as np
import pytest

from matching import TfidfMatcher
from matching.columns import ColumnsWriter
from matching.facts import FACT_COLUMNS, NeedAudience, fact_values
from matching.prototypes import ThemePrototypes
from matching.ranking import (
    THEME_FLOOR,
    Corpus,
    NeedFacts,
    Preferences,
    ProviderFacts,
    ProviderFilters,
    Ranked,
    Ranker,
    ThemeSpace,
)
from matching.scoring import Candidates, best, hit, score_all
from tests.matching.test_ranking import CHILD, TORTURE, WOMEN, KeywordTagger

REGIONS = {"KEN": "africa", "NGA": "africa", "MEX": "latin_america_caribbean", "FRA": "western_europe_others"}
WORDS = ["torture", "detention", "women", "girls", "child", "birth", "prison", "judges", "law", "training", "water"]
LANGS, MODES = ["en", "fr", "es"], ["training", "funding", "legal_review"]
KINDS = ["ngo", "un_entity", "academic"]


def text(rng: random.Random) -> str:
    return " ".join(rng.choices(WORDS, k=rng.randint(2, 7)))


def some(rng: random.Random, values: Sequence[str], most: int = 2) -> frozenset[str]:
    return frozenset(rng.sample(list(values), rng.randint(0, most)))


def providers_corpus(rng: random.Random, n: int, tagger: KeywordTagger | None) -> tuple[Corpus, dict[str, str]]:
    texts = {f"p{i:03d}": text(rng) for i in range(n)}
    facts = {
        pid: ProviderFacts(
            pid,
            kind=rng.choice(KINDS),
            themes=tuple(rng.sample([TORTURE, WOMEN, CHILD], rng.randint(0, 2))),
            languages=some(rng, LANGS),
            countries=some(rng, list(REGIONS)),
            regions=some(rng, ["africa", "global", "latin_america_caribbean"], 1),
            modalities=some(rng, MODES),
        )
        for pid in texts
    }
    ids = sorted(texts)
    vectors = ThemeSpace(tagger).vectors([texts[i] for i in ids], [facts[i].themes for i in ids], by_sentence=True)  # type: ignore[arg-type]
    matcher = TfidfMatcher().fit([texts[i] for i in ids], ids=ids)
    return Corpus(matcher, facts, dict(zip(ids, vectors, strict=True)) if vectors else {}), texts


def one_by_one_providers(
    ranker: Ranker, corpus: Corpus, query: str, prefs: Preferences, allowed: list[str], history: dict, limit: int
) -> list[Ranked]:  # type: ignore[type-arg]
    q_vec = ranker.themes.vector(query, prefs.themes, parts=prefs.parts or None)
    found = score_all(corpus.matcher, ranker.themes.expand(query, q_vec, prefs.themes))
    with_history = any(a or b for a, b in history.values()) and bool(prefs.state or prefs.themes)
    ranked = []
    for pid in allowed:
        row = corpus.table.rows[pid]
        one = ranker._provider_one(
            corpus.facts[pid],
            hit(found, int(corpus.text_positions[row])),
            q_vec,
            corpus.vectors.get(pid),
            prefs,
            history if with_history else None,
            query.lower(),
        )
        if one is not None:
            ranked.append(one)
    ranked.sort(key=lambda r: (-r.score, r.id))
    return ranked[:limit]


def passes(ranker: Ranker, facts: ProviderFacts, filters: ProviderFilters) -> bool:
    """The hard filters, spelled out one provider at a time."""
    if filters.kinds and facts.kind not in filters.kinds:
        return False
    if filters.languages and not facts.languages & filters.languages:
        return False
    if filters.modalities and not facts.modalities & filters.modalities:
        return False
    if filters.countries or filters.regions:
        wanted = set(filters.regions) | {REGIONS[c] for c in filters.countries if c in REGIONS} | {"global"}
        return bool(facts.countries & filters.countries or facts.regions & wanted)
    return True


#: Theme prototypes as the service has them: profiles read with them, queries borrow their words.
PROTOTYPES = ThemePrototypes(
    {TORTURE: "prison detention visits", WOMEN: "girls shelters", CHILD: "birth registration"}, KeywordTagger.classes_
)


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("space", ["none", "tagger", "prototypes"])
def test_providers_ranked_at_once_as_one_by_one(seed: int, space: str) -> None:
    rng = random.Random(seed)
    tagger = KeywordTagger() if space != "none" else None
    corpus, _ = providers_corpus(rng, 60, tagger)
    themes = ThemeSpace(tagger, PROTOTYPES if space == "prototypes" else None)  # type: ignore[arg-type]
    ranker = Ranker(themes=themes, regions=REGIONS)
    for _ in range(6):
        query = text(rng)
        prefs = Preferences(
            state=rng.choice([None, "KEN", "MEX", "FRA", "ZZZ"]),
            themes=tuple(rng.sample([TORTURE, WOMEN, CHILD, "torture and other cid treatment"], rng.randint(0, 2))),
            languages=some(rng, LANGS),
            modalities=some(rng, MODES),
            # a need's recommendations: its predicted themes are their maximum
            parts=tuple(text(rng) for _ in range(rng.choice([0, 0, 2, 4]))),
        )
        filters = rng.choice(
            [
                ProviderFilters(),
                ProviderFilters(kinds=frozenset({"ngo"})),
                ProviderFilters(countries=frozenset({"KEN"})),
            ]
            + [ProviderFilters(languages=frozenset({"fr"}), regions=frozenset({"africa"}))]
        )
        history = {pid: (rng.random() < 0.3, rng.random() < 0.5) for pid in rng.sample(sorted(corpus.facts), 8)}
        exclude = frozenset(rng.sample(sorted(corpus.facts), 5))
        limit = rng.choice([1, 3, 10, 100])
        got = ranker.rank_providers(
            corpus, query, prefs, filters=filters, history=history, exclude=exclude, limit=limit
        )
        allowed = [p for p in sorted(corpus.facts) if p not in exclude and passes(ranker, corpus.facts[p], filters)]
        want = one_by_one_providers(ranker, corpus, query, prefs, allowed, history, limit)
        assert got == want
        scores = ranker.provider_scores(corpus, query, prefs, history=history, exclude=exclude)
        everyone = [p for p in sorted(corpus.facts) if p not in exclude]
        oracle = one_by_one_providers(ranker, corpus, query, prefs, everyone, history, 10**6)
        assert scores == {r.id: r.score for r in oracle}


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("with_tagger", [False, True])
def test_needs_ranked_at_once_as_one_by_one(seed: int, with_tagger: bool) -> None:
    rng = random.Random(seed)
    tagger = KeywordTagger() if with_tagger else None
    texts = {f"n{i:03d}": text(rng) for i in range(80)}
    facts = {
        nid: NeedFacts(
            nid,
            state=rng.choice(list(REGIONS) + ["ZZZ"]),
            status=rng.choice(["open", "open", "in_progress", "closed"]),
            visibility=rng.choice(["public", "public", "providers", "state_only"]),
            themes=tuple(rng.sample([TORTURE, WOMEN, CHILD], rng.randint(0, 2))),
            languages=some(rng, LANGS),
            modalities=some(rng, MODES),
        )
        for nid in texts
    }
    ids = sorted(texts)
    space = ThemeSpace(tagger)  # type: ignore[arg-type]
    vectors = space.vectors([texts[i] for i in ids], [facts[i].themes for i in ids])
    needs = Corpus(
        TfidfMatcher().fit([texts[i] for i in ids], ids=ids),
        facts,
        dict(zip(ids, vectors, strict=True)) if vectors else {},
    )
    ranker = Ranker(themes=space, regions=REGIONS)
    for _ in range(6):
        provider = ProviderFacts(
            "p",
            themes=tuple(rng.sample([TORTURE, WOMEN, CHILD], rng.randint(0, 2))),
            languages=some(rng, LANGS),
            countries=some(rng, list(REGIONS)),
            regions=some(rng, ["africa", "global"], 1),
            modalities=some(rng, MODES),
        )
        query = text(rng)
        audience = rng.choice(
            [NeedAudience(), NeedAudience(everything=True), NeedAudience(frozenset({"public", "providers"}))]
            + [NeedAudience(states=frozenset({"KEN"}))]
        )
        exclude = frozenset(rng.sample(ids, 6))
        limit = rng.choice([1, 5, 10, 200])
        got = ranker.rank_needs(needs, query, provider, visible=audience, exclude=exclude, limit=limit)
        visible = [n for n in ids if audience.allows(facts[n])]
        assert got == ranker.rank_needs(needs, query, provider, visible=visible, exclude=exclude, limit=limit)
        p_vec = space.profile_vector(query, provider.themes)
        found = score_all(needs.matcher, query)
        oracle = []
        for nid in visible:
            if facts[nid].status == "closed" or nid in exclude:
                continue
            row = needs.table.rows[nid]
            one = ranker._need_one(
                facts[nid], hit(found, int(needs.text_positions[row])), needs.vectors.get(nid), p_vec, provider
            )
            if one is not None:
                oracle.append(one)
        oracle.sort(key=lambda r: (-r.score, r.id))
        assert got == oracle[:limit]
        # the provider's vector as the service's index keeps it answers the same
        kept = ranker.rank_needs(
            needs, query, provider, visible=audience, exclude=exclude, limit=limit, theme_vector=p_vec
        )
        assert kept == got


def test_the_cut_keeps_a_row_whose_exact_score_differs_in_the_last_bits() -> None:
    """Rows within the margin of the k-th are scored exactly: rounding in the arrays never changes the answer."""
    arrays = np.array([0.5, 0.5 - 1e-13, 0.2, 0.5 - 1e-13])
    exact = {0: 0.5 - 2e-13, 1: 0.5, 2: 0.2, 3: 0.5 - 1e-13}  # row 1 wins once scored exactly

    class Row:
        def __init__(self, i: int) -> None:
            self.id, self.score = f"r{i}", exact[i]

    found = Candidates(np.ones(4, dtype=bool), arrays, Row)
    assert [r.id for r in best(found, 1, 0.0)] == ["r1"]
    assert [r.id for r in best(found, 2, 0.0)] == ["r1", "r3"]
    dropped = Candidates(np.ones(4, dtype=bool), arrays, lambda i: None if i in (0, 1) else Row(i))
    assert [r.id for r in best(dropped, 1, 0.0)] == ["r3"]  # the exact check dropped the best: look further


def test_columns_views_never_change_and_compaction_keeps_answers() -> None:
    writer = ColumnsWriter(FACT_COLUMNS, n_themes=3)
    facts = {f"p{i}": ProviderFacts(f"p{i}", languages=frozenset({LANGS[i % 3]})) for i in range(200)}
    for pid, one in facts.items():
        writer.put(pid, fact_values(one), np.array([1.0, float(pid[1:]), 0.0]))
    before = writer.freeze()
    french_before = set(before.ids_of(np.flatnonzero(before.any_of("languages", ["fr"]) & before.alive)))
    for i in list(range(150)) * 2:  # more dead rows than live ones: the writer compacts on the next freeze
        writer.put(f"p{i}", fact_values(ProviderFacts(f"p{i}", languages=frozenset({"es"}))), None)
    for i in range(150, 160):
        writer.drop(f"p{i}")
    after = writer.freeze()
    assert set(before.ids_of(np.flatnonzero(before.any_of("languages", ["fr"]) & before.alive))) == french_before
    assert len(before) == 200 and len(after) == 190
    assert after.n == 190, "compacted: only live rows remain"
    alive = after.alive
    assert set(after.ids_of(np.flatnonzero(after.any_of("languages", ["es"]) & alive))) == (
        {f"p{i}" for i in range(150)} | {f"p{i}" for i in range(160, 200) if i % 3 == 2}
    )
    row = after.rows["p170"]
    assert after.has_vector[row] and not after.has_vector[after.rows["p3"]]
    assert after.unit is not None and np.allclose(np.linalg.norm(after.unit[row]), 1.0)


def test_theme_floor_and_min_score_hold_exactly() -> None:
    rng = random.Random(3)
    tagger = KeywordTagger()
    corpus, _ = providers_corpus(rng, 40, tagger)
    ranker = Ranker(themes=ThemeSpace(tagger))  # type: ignore[arg-type]
    ranked = ranker.rank_providers(corpus, "water judges", Preferences(), limit=100, min_score=0.1)
    assert ranked and all(r.score >= 0.1 for r in ranked)
    assert all(r.signals["text"].value > 0 or r.signals["theme"].value >= THEME_FLOOR for r in ranked)
