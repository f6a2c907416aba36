"""How well `POST /v1/recommendations/related` finds the recommendations a text speaks to, on States nobody tuned on.

* **Texts.** ``benchmarks/data/related_texts.json``: 30 needs and asks written by hand as a ministry, a
  national human rights institution or an NGO writes them (one or two sentences, in their own words, never a
  recommendation's), each in English, French and Spanish (written by hand too), each with the UPR Info issues
  it is about (``core``) and those it touches (``related``).
* **Recommendations.** The held-out States of ``benchmarks/quality.py`` (30% of the States under Review with
  UPR Info issues, seed 0): the tagger that reads the texts was trained on the other States
  (``quality-tagger-train-f0.3-s0``, the cached model of ``benchmarks/quality.py``) and the lexicon that reads
  French and Spanish in English was built by Apertium from the other States' recommendations only. Each
  held-out State is asked for its largest review (State and session filters, as a ministry asks about its own
  review); the held-out States are halved (sorted, alternately): **tune** (anything chosen, chosen there) and
  **report** (the headline, looked at only to report).
* **Grades.** A recommendation is grade 2 when one of its UPR Info issues is one of the text's ``core`` issues,
  grade 1 when one is ``related``. A (text, State) pair with no grade-2 recommendation is left out.
* **Systems.** ``service``: the service's ranking (``matching.ranking.Ranker.rank_recommendations`` with the
  service's theme space, weights and reader, ``app.match_index.ranker.ranker_for``), the recommendations with
  their human labels as the repository stores them; ``service, unlabelled``: the same with every recommendation's
  themes predicted (as imported without labels); ``TF-IDF`` (scikit-learn) and ``BM25`` (``bm25s``) on the same
  recommendations, the text as written.

Metrics over the (text, State) pairs: nDCG@10 (ideal from every grade), recall@10 (grade >= 1 found in the top
10 over min(10, number relevant)) and MRR (first grade >= 1). Targets: nDCG@10 >= 0.60 in English, >= 0.55
from French and Spanish::

    PYTHONPATH=. .venv/bin/python benchmarks/related_quality.py [--part tune|report|both] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app.core.config import Settings  # noqa: E402
from app.match_index.ranker import ranker_for  # noqa: E402
from benchmarks.crosslingual_quality import _lexicon  # noqa: E402
from benchmarks.quality import STATE, get_tagger, split_rows  # noqa: E402
from benchmarks.quality_tagging import DEFAULT_DATA, load_rows  # noqa: E402
from evaluation.heldout import CachedModel  # noqa: E402
from evaluation.quality import bm25_scores, rank_ids, sklearn_scores  # noqa: E402
from matching.crosslingual import CrossLingual  # noqa: E402
from matching.feedback import mrr, ndcg_at_k  # noqa: E402
from matching.matcher import TfidfMatcher  # noqa: E402
from matching.persons import affected_in  # noqa: E402
from matching.ranking import Corpus, RecommendationFacts, RecommendationFilters, Vector  # noqa: E402

OUT = ROOT / "benchmarks" / "out"
TEXTS = ROOT / "benchmarks" / "data" / "related_texts.json"
LANGUAGES = ("en", "fr", "es")
TARGETS = {"en": 0.60, "fr": 0.55, "es": 0.55}
K = 10
RESIDUAL = {"Other", "General"}
Row = dict[str, Any]


def reviews(test: Sequence[Row]) -> dict[str, tuple[int, list[Row]]]:
    """Each held-out State's largest review: (session, its recommendations)."""
    by_review: dict[tuple[str, int], list[Row]] = defaultdict(list)
    for r in test:
        by_review[(r[STATE], int(r["session"]))].append(r)
    out: dict[str, tuple[int, list[Row]]] = {}
    for (state, session), rows in sorted(by_review.items()):
        if state not in out or len(rows) > len(out[state][1]):
            out[state] = (session, rows)
    return out


def grades(text: Mapping[str, Any], rows: Sequence[Row]) -> dict[str, int]:
    core, related = set(text["core"]), set(text["related"])
    out = {}
    for r in rows:
        issues = set(r["themes"]) - RESIDUAL
        out[r["id"]] = 2 if issues & core else 1 if issues & related else 0
    return out


def metrics(ranking: Sequence[str], graded: Mapping[str, int]) -> tuple[float, float, float]:
    relevant = {i for i, g in graded.items() if g >= 1}
    top = list(ranking[:K])
    recall = len(relevant & set(top)) / min(K, len(relevant)) if relevant else 0.0
    return ndcg_at_k(top, graded, k=K), recall, mrr(ranking, relevant)


def corpus_of(
    ranker: Any, rows: Sequence[Row], matcher: TfidfMatcher, *, labelled: bool
) -> Corpus[RecommendationFacts]:
    """The recommendations as the service indexes them: facts (labels when `labelled`), theme vectors."""
    facts = {
        r["id"]: RecommendationFacts(
            id=r["id"],
            state=r[STATE],
            cycle=int(r["cycle"]),
            session=int(r["session"]),
            response=str(r.get("response") or ""),
            themes=tuple(r["themes"]) if labelled else (),
            affected=affected_in(r["text"]),
        )
        for r in rows
    }
    vectors = ranker.themes.vectors([r["text"] for r in rows], [facts[r["id"]].themes for r in rows]) or []
    return Corpus(matcher, facts, dict(zip(facts, vectors, strict=True)))


def evaluate(
    texts: Sequence[Mapping[str, Any]],
    part: Mapping[str, tuple[int, list[Row]]],
    systems: Mapping[str, Callable[[str, str, int, list[Row]], list[str]]],
) -> dict[str, dict[str, dict[str, float]]]:
    """system -> language -> {ndcg, recall, mrr, n} over the (text, State) pairs of one part."""
    found: dict[str, dict[str, list[tuple[float, float, float]]]] = defaultdict(lambda: defaultdict(list))
    for text in texts:
        for state, (session, rows) in part.items():
            graded = grades(text, rows)
            if not any(g == 2 for g in graded.values()):
                continue
            for language in LANGUAGES:
                for name, rank in systems.items():
                    found[name][language].append(metrics(rank(text[language], state, session, rows), graded))
    return {
        name: {
            language: {
                "ndcg": statistics.fmean(v[0] for v in values),
                "recall": statistics.fmean(v[1] for v in values),
                "mrr": statistics.fmean(v[2] for v in values),
                "n": len(values),
            }
            for language, values in by_language.items()
        }
        for name, by_language in found.items()
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--part", choices=("tune", "report", "both"), default="both")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    rows = load_rows(DEFAULT_DATA)
    train, test = split_rows(rows, 0.3, 0)
    tagger, _ = get_tagger(train, "train-f0.3-s0", OUT, n_jobs=1, retrain=False)
    lexicon = _lexicon([r["text"] for r in train], OUT / "quality-lexicon-f0.3-s0.json.gz", print)
    ranker = ranker_for(Settings(), CachedModel(tagger), CrossLingual(lexicon))
    held = reviews(test)
    states = sorted(held)
    parts = {"tune": {s: held[s] for s in states[0::2]}, "report": {s: held[s] for s in states[1::2]}}
    in_reviews = [r for _, rs in held.values() for r in rs]
    # The text index holds every shared recommendation, as the service's does.
    everything = [r for r in rows]
    matcher = TfidfMatcher().fit([r["text"] for r in everything], ids=[r["id"] for r in everything])
    corpora = {
        "service": corpus_of(ranker, in_reviews, matcher, labelled=True),
        "service, unlabelled": corpus_of(ranker, in_reviews, matcher, labelled=False),
    }
    theme_vectors: dict[str, Vector | None] = {}

    def service(name: str) -> Callable[[str, str, int, list[Row]], list[str]]:
        def rank(text: str, state: str, session: int, _: list[Row]) -> list[str]:
            if text not in theme_vectors:
                theme_vectors[text] = ranker.themes.vector(text, ())
            filters = RecommendationFilters(states=frozenset([state]), sessions=frozenset([session]))
            ranked, _total = ranker.rank_recommendations(
                corpora[name], text, filters=filters, limit=K, theme_vector=theme_vectors[text]
            )
            return [r.id for r in ranked]

        return rank

    def baseline(score: Callable[[list[str], list[str]], Any]) -> Callable[[str, str, int, list[Row]], list[str]]:
        def rank(text: str, state: str, session: int, review: list[Row]) -> list[str]:
            scores = score([text], [r["text"] for r in review])
            return rank_ids(scores[0], [r["id"] for r in review])[:K]

        return rank

    systems = {
        "service": service("service"),
        "service, unlabelled": service("service, unlabelled"),
        "TF-IDF": baseline(sklearn_scores),
        "BM25": baseline(bm25_scores),
    }
    texts = json.loads(TEXTS.read_text(encoding="utf-8"))["texts"]
    chosen = ("tune", "report") if args.part == "both" else (args.part,)
    results = {name: evaluate(texts, parts[name], systems) for name in chosen}
    for name in chosen:
        print(f"\n{name}: {len(parts[name])} held-out States ({', '.join(parts[name])}), {len(texts)} texts")
        print(f"{'system':<20} {'lang':<4} {'nDCG@10':>8} {'R@10':>6} {'MRR':>6} {'pairs':>6}  target")
        for system, by_language in results[name].items():
            for language in LANGUAGES:
                m = by_language[language]
                mark = ""
                if system == "service":
                    mark = f">= {TARGETS[language]:.2f} {'met' if m['ndcg'] >= TARGETS[language] else 'NOT met'}"
                scores = f"{m['ndcg']:8.4f} {m['recall']:6.3f} {m['mrr']:6.3f} {m['n']:6d}"
                print(f"{system:<20} {language:<4} {scores}  {mark}")
    print(f"\n{time.perf_counter() - started:.0f} s")
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
