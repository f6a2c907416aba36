"""Theme space bridges a vocabulary gap that text matching cannot cross (real data).

Real recommendations that only name the treaty by its acronym ("Ratify the
OPCAT") share no term with a provider that describes the same work in plain
words ("national preventive mechanisms ... places of detention").  TF-IDF
gives that provider 0; the service's ranking (``matching.ranking`` through
``evaluation.quality.ServiceRanking``: default weights, theme vectors and floors)
must still put it in the recommendation's top 5 among real provider texts from
``app/demo/providers.json``, including the torture and detention specialists
that do share a word with the query.

The tagger (word n-grams only and 2 calibration folds, to be fast) is
trained on 9,000 rows of the shared data, leaving out every State whose
recommendation is queried here (so the tagger has never seen these texts),
once for its inputs: it is kept in the user's cache folder under a digest of
the data, this file and the code fitting it (tests/model_cache.py).  The
service's ranking puts the bridge 4th, 3rd and 4th of 21.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

from app.core.config import get_settings
from evaluation.quality import ServiceRanking, matcher_scores, rank_ids
from matching.matcher import TfidfMatcher
from matching.preprocessing import Analyzer
from matching.tagger import ThemeTagger
from matching.texts import provider_text
from tests.model_cache import cached, digest, imported_modules

DATA = get_settings().UPR_DATA_DIR / "recommendations.jsonl"
PROVIDERS = Path(__file__).resolve().parents[2] / "app" / "demo" / "providers.json"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not DATA.exists(), reason=f"shared data file {DATA} is absent"),
]

#: Real recommendations (ids in the shared data) that cite the OPCAT by acronym only.
QUERY_IDS = [
    "uprinfo-c1-s12-TLS-4f6e6d9c6b",  # "Ratify the OPCAT"
    "uprinfo-c1-s8-TUR-6e019e0d9f",  # "Consider ratifying OPCAT in the near future"
    "uprinfo-c1-s9-JAM-8ecac3a206",  # "Become a party to CAT and OPCAT"
]
#: The bridging provider: covers torture prevention / detention, shares no word with the queries.
BRIDGE_ID = "npm-advisers"
BRIDGE_TEXT = "Advice on national preventive mechanisms and independent monitoring of places of detention."
#: ~20 real providers, among them torture and detention specialists (apt, opcat-special-fund,
#: irct, penal-reform-international, unodc) that compete for the same queries.
OTHER_IDS = [
    "ohchr", "undp", "unicef", "un-women", "ilo", "unhcr", "iom", "unodc", "unesco", "who",
    "fao", "council-of-europe", "ipu", "save-the-children", "article-19",
    "transparency-international", "penal-reform-international", "irct", "apt", "opcat-special-fund",
]  # fmt: skip
N_TRAIN = 9000
ARTIFACT = "theme-tagger.joblib"


@pytest.fixture(scope="module")
def data():
    rows, queries = [], {}
    with DATA.open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            if row["id"] in QUERY_IDS:
                queries[row["id"]] = row
            if row.get("theme_scheme") == "upr_info_issues" and row.get("themes") and row.get("text"):
                rows.append(row)
    assert sorted(queries) == sorted(QUERY_IDS), "the OPCAT recommendations are missing from the shared data"
    held_out = {q["state_under_review_iso3"] for q in queries.values()}
    pool = [r for r in rows if r["state_under_review_iso3"] not in held_out]
    picked = np.random.default_rng(0).choice(len(pool), size=N_TRAIN, replace=False)
    train = [pool[i] for i in sorted(picked)]
    return train, [queries[i] for i in QUERY_IDS]


@pytest.fixture(scope="module")
def tagger(data):
    train, _ = data

    def fit(folder: Path) -> None:
        started = time.perf_counter()
        fitted = ThemeTagger(calibration_folds=2, char_ngram_range=None, n_jobs=2).fit(
            [r["text"] for r in train],
            [r["themes"] for r in train],
            groups=[r["state_under_review_iso3"] for r in train],
        )
        seconds = time.perf_counter() - started
        print(f"\ntheme tagger: {len(train)} rows, {len(fitted.classes_)} labels, fit {seconds:.1f}s")
        fitted.save(folder / ARTIFACT)

    sources, external = imported_modules("matching.tagger")
    key = digest([DATA, Path(__file__), *sources], external)
    return ThemeTagger.load(cached("bridging-tagger", key, fit, marker=ARTIFACT) / ARTIFACT)


@pytest.fixture(scope="module")
def providers():
    by_slug = {p["slug"]: p for p in json.loads(PROVIDERS.read_text(encoding="utf-8"))}
    ids = [BRIDGE_ID, *OTHER_IDS]
    texts = [BRIDGE_TEXT] + [provider_text(by_slug[s]["name"], None, by_slug[s]["description"], []) for s in OTHER_IDS]
    return ids, texts


def test_the_queries_share_no_term_with_the_bridging_provider(data):
    _, queries = data
    params = TfidfMatcher().get_params()
    analyzer = Analyzer(params["stop_words"], params["strip_accents"], params["stem"])
    provider_terms = set(analyzer.analyze(BRIDGE_TEXT))
    assert {"prevent", "detent"} <= provider_terms
    for q in queries:
        assert "Torture and other CID treatment" in q["themes"]
        query_terms = set(analyzer.analyze(q["text"]))
        assert "opcat" in query_terms
        assert not query_terms & provider_terms, (q["text"], query_terms & provider_terms)


def test_the_service_ranks_the_bridging_provider_in_the_top_5(data, tagger, providers):
    _, queries = data
    ids, texts = providers
    query_texts = [q["text"] for q in queries]
    text = matcher_scores(query_texts, texts, ids)
    assert np.all(text[:, 0] == 0), "TF-IDF alone cannot see the bridging provider"
    service = ServiceRanking(ids, texts, tagger)
    for q, row_text in zip(query_texts, text, strict=True):
        ranking = [r.id for r in service.rank(q)]
        assert BRIDGE_ID in ranking, (q, ranking[:8])
        rank = ranking.index(BRIDGE_ID) + 1
        print(
            f"{q!r}: bridge rank {rank}/{len(ids)}; top 5 {ranking[:5]}; text-only top 3 {rank_ids(row_text, ids)[:3]}"
        )
        assert rank <= 5, (q, ranking[:8])
