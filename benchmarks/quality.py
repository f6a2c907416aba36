"""Matching quality harness: tagging and need -> provider ranking on held-out States.

Splits the shared UPR data by State under Review (30% of the States held
out, fixed seed, ``evaluation.metrics.split_by_group``, the same split as
``benchmarks/quality_tagging.py``), then:

1. **Tagging** -- trains ``ThemeTagger`` (the default "svc" variant) on the
   train States and reports micro-F1, macro-F1 and precision@1 on the
   held-out States, the training time and the single-text classify latency.
2. **Ranking** -- ranks the demo providers (``app/demo/providers.json``),
   given to every system as *text only* (name + description, never their
   ``themes`` or ``relevance``), for two kinds of queries from the held-out
   States: single supported recommendations, and synthetic needs (3-5
   recommendations of one State sharing a theme).  A provider's grade for a
   query is 2 if one of the query's true themes is in its ``relevance.core``,
   1 if in ``relevance.secondary``, else 0.  Queries with no provider of
   grade >= 1 cannot be ranked well by anyone and are left out (counted).

   Systems: ``bm25s`` and a plain scikit-learn ``TfidfVectorizer()`` cosine
   (baselines), our ``TfidfMatcher`` text score alone, the tagger's theme
   cosine alone, **the service's ranking** (``evaluation.quality.ServiceRanking``:
   ``matching.ranking`` with the service's default weights, floors and theme
   vectors, exactly what ``POST /v1/match`` answers for the text) -- plus a
   "tuned" mix whose weights and theme-vector shaping are chosen on a
   validation split *of the train States* (an inner tagger trained on the
   other train States), never on the held-out States.

Usage::

    python benchmarks/quality.py                    # full run (~2 tagger fits)
    python benchmarks/quality.py --no-tune          # skip the validation search
    python benchmarks/quality.py --json benchmarks/out/quality.json

Trained taggers are cached in ``benchmarks/out/`` (git-ignored) under a name
that encodes the split; ``--retrain`` ignores the cache (fit times are only
measured when a tagger is actually trained).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.quality_tagging import DEFAULT_DATA, SCHEME, load_rows, percentile
from evaluation.metrics import split_by_group
from evaluation.quality import (
    ServiceRanking,
    bm25_scores,
    build_needs,
    evaluate_rankings,
    evaluate_scores,
    expand_with_themes,
    graded_relevance,
    matcher_scores,
    sharpen,
    sklearn_scores,
    tagging_metrics,
    theme_scores,
)
from matching.ranking import provider_text as engine_provider_text
from matching.ranking import weighted_mean
from matching.tagger import ThemeTagger
from matching.themes import sentence_mean_proba

DEFAULT_PROVIDERS = ROOT / "app" / "demo" / "providers.json"
STATE = "state_under_review_iso3"

#: Search space of the validation tuning (train States only).
GRID: dict[str, list[Any]] = {
    "pooling": ["whole", "sentences"],  # provider probabilities: whole description, or mean over sentences
    "similarity": ["cosine", "dot"],  # theme score
    "expand": [0, 1, 3],  # predicted theme names appended to provider texts
    "power": [0.5, 1.0, 2.0],  # theme vector = proba ** power ...
    "top": [None, 5],  # ... keeping the top labels only
    "alpha": [round(a, 2) for a in np.arange(0.0, 1.0001, 0.05)],  # theme share of the weights
}
#: Knobs searched in a first run that only lost on validation (mean nDCG@5, best over the rest):
#: power 4 (0.8735 vs 0.8832 at power 1), top 3 (0.8731), expand 2 (0.8822, between 1 and 3).

TARGETS = {
    "ndcg": 0.85,
    "ndcg_margin": 0.20,
    "p1": 0.85,
    "micro_f1": 0.90,
    "macro_f1": 0.83,
    "fit_s": 120,
    "p50_ms": 5,
}


# --------------------------------------------------------------------------- data


def load_providers(path: Path) -> list[dict[str, Any]]:
    return json.loads(path.read_text(encoding="utf-8"))


def provider_text(p: dict[str, Any]) -> str:
    """What every system sees of a provider: its name and description (never themes/relevance).

    The same text the service's engine reads for a provider registered with these two fields.
    """
    return engine_provider_text(p["name"], None, p["description"], [])


def split_rows(rows: list[dict], fraction: float, seed: int) -> tuple[list[dict], list[dict]]:
    by_id = {r["id"]: r for r in rows}
    train_ids, test_ids = split_by_group([r["id"] for r in rows], [r[STATE] for r in rows], fraction, seed)
    return [by_id[i] for i in train_ids], [by_id[i] for i in test_ids]


def make_queries(
    rows: list[dict], relevance: dict[str, dict], n_recs: int, n_needs: int, seed: int
) -> dict[str, dict[str, Any]]:
    """Both query sets from ``rows``: sampled supported recommendations and sampled needs.

    Queries without any provider of grade >= 1 are dropped (and counted).
    """
    supported = [r for r in rows if r.get("response") == "supported" and r["themes"]]
    out = {}
    rng = np.random.default_rng(seed)
    for kind, pool, n in (
        ("recommendation", supported, n_recs),
        ("need", build_needs(supported, 3, 5, seed=seed), n_needs),
    ):
        gradings = [graded_relevance(q["themes"], relevance) for q in pool]
        keep = [i for i, g in enumerate(gradings) if max(g.values()) >= 1]
        picked = sorted(rng.choice(keep, size=min(n, len(keep)), replace=False).tolist())
        out[kind] = {
            "texts": [pool[i]["text"] for i in picked],
            "themes": [pool[i]["themes"] for i in picked],
            "gradings": [gradings[i] for i in picked],
            "pool": len(pool),
            "unanswerable": len(pool) - len(keep),
        }
    return out


# --------------------------------------------------------------------------- tagger


def get_tagger(
    rows: list[dict], name: str, out_dir: Path, n_jobs: int, retrain: bool
) -> tuple[ThemeTagger, dict[str, Any]]:
    """Train (or load the cached) tagger on ``rows``; returns it and fit timings."""
    path = out_dir / f"quality-tagger-{name}.joblib"
    if path.exists() and not retrain:
        tagger = ThemeTagger.load(path)
        if tagger.metadata_["n_train"] == len(rows):
            return tagger, {"cached": True, "fit_s": tagger.metadata_.get("fit_seconds")}
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    tagger = ThemeTagger(scheme=SCHEME, n_jobs=n_jobs).fit(
        [r["text"] for r in rows], [r["themes"] for r in rows], groups=[r[STATE] for r in rows]
    )
    fit_s = time.perf_counter() - started
    tagger.save(path)
    return tagger, {"cached": False, "fit_s": fit_s, "loadavg_during_fit": [load_before, os.getloadavg()[0]]}


def classify_latency(tagger: ThemeTagger, texts: list[str]) -> list[float]:
    latencies = []
    for text in texts:
        t0 = time.perf_counter()
        tagger.predict([text])
        latencies.append((time.perf_counter() - t0) * 1000)
    return latencies


# --------------------------------------------------------------------------- systems


class RankingData:
    """Everything a query set needs to be scored by every system, computed once."""

    def __init__(self, queries: dict[str, Any], providers: list[dict], tagger: ThemeTagger) -> None:
        self.ids = [p["slug"] for p in providers]
        self.provider_texts = [provider_text(p) for p in providers]
        self.texts = queries["texts"]
        self.gradings = queries["gradings"]
        self.classes = list(tagger.classes_)
        self.q_proba = tagger.proba_matrix(self.texts)
        self.p_proba = tagger.proba_matrix(self.provider_texts)
        self.p_proba_sentences = sentence_mean_proba(tagger, self.provider_texts)
        self._text_cache: dict[int, np.ndarray] = {}
        self.service = ServiceRanking(self.ids, self.provider_texts, tagger)

    def text(self, expand: int = 0) -> np.ndarray:
        """TfidfMatcher scores, provider texts expanded with ``expand`` predicted theme names."""
        if expand not in self._text_cache:
            docs = expand_with_themes(self.provider_texts, self.p_proba, self.classes, expand)
            self._text_cache[expand] = matcher_scores(self.texts, docs, self.ids)
        return self._text_cache[expand]

    def theme(
        self, power: float = 1.0, top: int | None = None, pooling: str = "whole", similarity: str = "cosine"
    ) -> np.ndarray:
        provider = self.p_proba if pooling == "whole" else self.p_proba_sentences
        return theme_scores(
            sharpen(self.q_proba, power=power, top=top), sharpen(provider, power=power, top=top), similarity
        )

    def fused(self, config: dict[str, Any]) -> np.ndarray:
        alpha = config["alpha"]
        text = self.text(config["expand"])
        if alpha == 0:
            return text
        theme = self.theme(config["power"], config["top"], config["pooling"], config["similarity"])
        return weighted_mean([(text, 1 - alpha), (theme, alpha)])

    def evaluate(self, scores: np.ndarray) -> dict[str, float]:
        return evaluate_scores(scores, self.ids, self.gradings, k=5)

    def evaluate_service(self) -> dict[str, float]:
        """The service's own ranking of every query (all providers it ranks, best first)."""
        return evaluate_rankings(self.service.rankings(self.texts), self.gradings, k=5)


SHAPING = ("pooling", "similarity", "expand", "power", "top")


def tune(datasets: dict[str, RankingData]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Grid search on validation data: maximise the mean nDCG@5 of both query kinds."""
    results = []
    for pooling, similarity, expand, power, top in itertools.product(*(GRID[k] for k in SHAPING)):
        themes = {kind: d.theme(power, top, pooling, similarity) for kind, d in datasets.items()}
        for alpha in GRID["alpha"]:
            config = dict(zip(SHAPING, (pooling, similarity, expand, power, top), strict=True)) | {"alpha": alpha}
            per_kind = {}
            for kind, d in datasets.items():
                text = d.text(expand)
                scores = text if alpha == 0 else weighted_mean([(text, 1 - alpha), (themes[kind], alpha)])
                per_kind[kind] = d.evaluate(scores)
            objective = statistics.fmean(m["ndcg"] for m in per_kind.values())
            results.append({"config": config, "objective": objective, "metrics": per_kind})
    results.sort(key=lambda r: -r["objective"])
    return results[0]["config"], results


def system_rows(d: RankingData, tuned: dict[str, Any] | None) -> list[tuple[str, dict[str, float]]]:
    rows = [
        ("bm25s (Snowball stem, en stop words)", d.evaluate(bm25_scores(d.texts, d.provider_texts))),
        ("scikit-learn TfidfVectorizer() cosine", d.evaluate(sklearn_scores(d.texts, d.provider_texts))),
        ("ours: TfidfMatcher text only", d.evaluate(d.text(0))),
        ("ours: tagger theme cosine only", d.evaluate(d.theme())),
        ("**ours: the service's ranking** (matching.ranking, default weights)", d.evaluate_service()),
    ]
    if tuned is not None:
        rows.append((f"**ours: fused, tuned on train States** ({describe(tuned)})", d.evaluate(d.fused(tuned))))
    return rows


def describe(config: dict[str, Any]) -> str:
    a = config["alpha"]
    parts = [f"w_text {1 - a:.2f} / w_theme {a:.2f}"]
    if config["pooling"] != "whole":
        parts.append("provider theme vec = mean over its sentences")
    if config["similarity"] != "cosine":
        parts.append(f"theme score = {config['similarity']} product")
    if config["power"] != 1.0 or config["top"] is not None:
        parts.append(f"theme vec = p^{config['power']:g}" + (f", top {config['top']}" if config["top"] else ""))
    if config["expand"]:
        parts.append(f"provider text + top {config['expand']} predicted theme names")
    return "; ".join(parts)


def table(rows: list[tuple[str, dict[str, float]]]) -> str:
    lines = ["| system | nDCG@5 | MRR | P@1 (grade >= 1) | P@1 (core) |", "|---|---|---|---|---|"]
    for name, m in rows:
        lines.append(f"| {name} | {m['ndcg']:.4f} | {m['mrr']:.4f} | {m['p1']:.4f} | {m['p1_core']:.4f} |")
    return "\n".join(lines)


# --------------------------------------------------------------------------- main


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "?"
    try:
        kb = int(Path("/proc/meminfo").read_text().split("\n")[0].split()[1])
        ram = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"nproc {os.cpu_count()}, {cpu}, RAM {ram}, Python {platform.python_version()}, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load average {load}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--providers", type=Path, default=DEFAULT_PROVIDERS)
    parser.add_argument("--test-fraction", type=float, default=0.3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-queries", type=int, default=600, help="recommendations and needs sampled per query set")
    parser.add_argument("--n-latency", type=int, default=300)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--no-tune", action="store_true", help="skip the validation search on train States")
    parser.add_argument("--retrain", action="store_true", help="ignore cached taggers")
    parser.add_argument("--out-dir", type=Path, default=ROOT / "benchmarks" / "out")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    print(f"machine: {machine()}", flush=True)

    rows = load_rows(args.data)
    providers = load_providers(args.providers)
    relevance = {p["slug"]: p["relevance"] for p in providers}
    train, test = split_rows(rows, args.test_fraction, args.seed)
    print(
        f"{SCHEME}: {len(rows)} rows; train {len(train)} rows / {len({r[STATE] for r in train})} States, "
        f"held out {len(test)} rows / {len({r[STATE] for r in test})} States (seed {args.seed}); "
        f"{len(providers)} providers",
        flush=True,
    )
    split_tag = f"f{args.test_fraction}-s{args.seed}"
    summary: dict[str, Any] = {"machine": machine(), "seed": args.seed}

    # 1. tagging ------------------------------------------------------------------------------
    tagger, fit_info = get_tagger(train, f"train-{split_tag}", args.out_dir, args.n_jobs, args.retrain)
    tag = tagging_metrics(tagger, [r["text"] for r in test], [r["themes"] for r in test])
    lat = classify_latency(tagger, [r["text"] for r in test[: args.n_latency]])
    tag.update(fit_info)
    tag["p50_ms"], tag["p99_ms"] = statistics.median(lat), percentile(lat, 99)
    summary["tagging"] = tag
    print(
        f"\ntagging (held-out States): micro-F1 {tag['micro_f1']:.4f}, macro-F1 {tag['macro_f1']:.4f}, "
        f"P@1 {tag['precision_at_1']:.4f}; fit {tag['fit_s']:.1f}s{' (cached artifact)' if tag['cached'] else ''}"
        + (f" loadavg {[round(x, 2) for x in tag['loadavg_during_fit']]}" if "loadavg_during_fit" in tag else "")
        + f"; classify p50 {tag['p50_ms']:.2f} ms, p99 {tag['p99_ms']:.2f} ms",
        flush=True,
    )

    # 2. tuning on train States only ------------------------------------------------------------
    tuned = None
    if not args.no_tune:
        inner_train, val = split_rows(train, args.test_fraction, args.seed + 1)
        print(
            f"\nvalidation split of the train States: inner train {len(inner_train)} rows / "
            f"{len({r[STATE] for r in inner_train})} States, validation {len(val)} rows / "
            f"{len({r[STATE] for r in val})} States",
            flush=True,
        )
        inner, inner_info = get_tagger(inner_train, f"inner-{split_tag}", args.out_dir, args.n_jobs, args.retrain)
        print(
            f"  inner tagger fit {inner_info['fit_s']:.1f}s{' (cached)' if inner_info['cached'] else ''}",
            flush=True,
        )
        val_queries = make_queries(val, relevance, args.n_queries, args.n_queries, args.seed + 1)
        val_data = {kind: RankingData(q, providers, inner) for kind, q in val_queries.items()}
        tuned, results = tune(val_data)
        summary["tuning"] = {"best": tuned, "top": results[:15]}
        service_val = statistics.fmean(d.evaluate_service()["ndcg"] for d in val_data.values())
        print(f"  the service's ranking on validation: objective {service_val:.4f}", flush=True)
        print("  best configurations on validation (mean nDCG@5 of recommendations and needs):")
        for r in results[:8]:
            print(
                f"    {r['objective']:.4f}  {describe(r['config'])}  "
                + ", ".join(f"{k} nDCG {m['ndcg']:.4f} P@1 {m['p1']:.4f}" for k, m in r["metrics"].items())
            )
        # one-factor views: best objective for each value of each knob (what helped)
        for knob in SHAPING:
            best_by = {}
            for r in results:
                best_by.setdefault(r["config"][knob], r["objective"])
            print(f"  best by {knob}: " + ", ".join(f"{k}: {v:.4f}" for k, v in best_by.items()))
        fixed = {k: tuned[k] for k in SHAPING}
        curve = [r for r in results if all(r["config"][k] == v for k, v in fixed.items())]
        curve.sort(key=lambda r: r["config"]["alpha"])
        print(
            "  alpha curve at the best shaping: "
            + ", ".join(f"{r['config']['alpha']:.2f}: {r['objective']:.4f}" for r in curve)
        )
        summary["tuning"]["alpha_curve"] = [(r["config"]["alpha"], r["objective"]) for r in curve]

    # 3. ranking on the held-out States -----------------------------------------------------------
    queries = make_queries(test, relevance, args.n_queries, args.n_queries, args.seed)
    summary["ranking"] = {}
    for kind, q in queries.items():
        d = RankingData(q, providers, tagger)
        system = system_rows(d, tuned)
        summary["ranking"][kind] = {name: m for name, m in system}
        print(
            f"\n### {kind} queries: {len(q['texts'])} sampled from {q['pool']} held-out-State "
            f"{kind}s ({q['unanswerable']} left out: no provider has grade >= 1)\n"
        )
        print(table(system))
        baseline = max(m["ndcg"] for _, m in system[:2])
        print("\ntargets:")
        for name, m in system[4:]:
            checks = [
                ("nDCG@5 >= 0.85", m["ndcg"] >= TARGETS["ndcg"], f"{m['ndcg']:.4f}"),
                (
                    "nDCG@5 >= better baseline + 0.20",
                    m["ndcg"] - baseline >= TARGETS["ndcg_margin"],
                    f"{m['ndcg'] - baseline:+.4f} over {baseline:.4f}",
                ),
                ("P@1 >= 0.85", m["p1"] >= TARGETS["p1"], f"{m['p1']:.4f}"),
            ]
            print(
                f"  {name.split('(')[0].strip('* ')}: "
                + "; ".join(f"{'MET' if ok else 'MISS'} {t} ({v})" for t, ok, v in checks)
            )
    print("\ntagging targets:")
    for label, ok, value in (
        ("micro-F1 >= 0.90", tag["micro_f1"] >= TARGETS["micro_f1"], f"{tag['micro_f1']:.4f}"),
        ("macro-F1 >= 0.83", tag["macro_f1"] >= TARGETS["macro_f1"], f"{tag['macro_f1']:.4f}"),
        ("training < 120 s", (tag["fit_s"] or 0) < TARGETS["fit_s"], f"{tag['fit_s']:.1f}s"),
        ("classify p50 < 5 ms", tag["p50_ms"] < TARGETS["p50_ms"], f"{tag['p50_ms']:.2f}ms"),
    ):
        print(f"  {'MET ' if ok else 'MISS'} {label}: {value}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(summary, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
