"""Matching quality on providers and States the ranking has never seen.

Two held-out splits at once:

* **States.** The shared UPR data is split by State under Review (30% of the States held out, fixed
  seed, ``evaluation.metrics.split_by_group``, the split of ``benchmarks/quality_tagging.py``). The
  tagger that ranks the reported queries is trained on the other States; settings are chosen with an
  inner tagger (trained on part of the training States) on queries of the remaining training States.
* **Providers.** The 82 demo profiles (``app/demo/providers.json``, registered with name, kind and
  description only, never their themes) are halved at random, each kind evenly
  (``evaluation.heldout.provider_folds``), five times, each half used both ways: ten folds. Settings
  are chosen on one half (``tune``: validation States) and reported on the other (``report``:
  held-out States). The headline is the mean and spread over the ten report halves.

Queries as they arrive: single supported recommendations (text only, ``POST /v1/match``), and needs of
3-5 supported recommendations of one State sharing an issue, filed with a title naming no theme on
recommendations imported without labels, so their themes are predicted
(``evaluation.heldout.need_as_filed``). A provider's grade for a query is 2 if one of the query's true
UPR Info issues is in its ``relevance.core``, 1 if in ``relevance.secondary``; queries no provider of
the half can answer are left out. Every system ranks through ``matching.ranking`` (the service's code)
unless it is a text baseline.

Usage::

    python benchmarks/quality.py --json benchmarks/out/quality.json       # the full run (~25 min)
    python benchmarks/quality.py --repeats 1 --n-queries 60 --variants service   # a quick check
    python benchmarks/quality.py --repeats 2 --languages en,fr,es   # French and Spanish queries (Apertium)

Trained taggers are cached in ``benchmarks/out/`` (git-ignored); ``--retrain`` ignores the cache.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app.core.jsontypes import JsonObject  # noqa: E402
from benchmarks.quality_tagging import DEFAULT_DATA, SCHEME, load_rows, percentile  # noqa: E402
from evaluation.heldout import CachedModel, Fold, mean_and_spread, need_as_filed, provider_folds  # noqa: E402
from evaluation.lab import LabThemeSpace, lab_space  # noqa: E402
from evaluation.metrics import split_by_group  # noqa: E402
from evaluation.quality import (  # noqa: E402
    ServiceRanking,
    bm25_scores,
    build_needs,
    evaluate_rankings,
    graded_relevance,
    matcher_scores,
    sklearn_scores,
    tagging_metrics,
)
from matching.examples import EXAMPLE_NEIGHBOURS, examples_from_profiles  # noqa: E402
from matching.ranking import Preferences, ThemeSpace, Weights  # noqa: E402
from matching.tagger import ThemeTagger  # noqa: E402
from matching.texts import need_text  # noqa: E402
from matching.texts import provider_text as engine_provider_text  # noqa: E402

DEFAULT_PROVIDERS = ROOT / "app" / "demo" / "providers.json"
STATE = "state_under_review_iso3"
KINDS = ("recommendation", "need")
METRICS = ("ndcg", "mrr", "p1", "p1_core")
# One row of recommendations.jsonl or a demo need (JSON).
Row = JsonObject
# Provider slug -> {"core": [themes], "secondary": [themes]}.
Relevance = dict[str, dict[str, list[str]]]
TARGETS = {"ndcg_recommendation": 0.85, "ndcg_need": 0.90, "margin_recommendation": 0.20}


# --------------------------------------------------------------------------- what is tried


@dataclass(frozen=True)
class Variant:
    """One way of ranking: theme-space settings, weights, how a need's themes are read."""

    name: str
    space: JsonObject = field(default_factory=dict)  # ThemeSpace fields over the service's
    legacy: bool = False  # the theme space of 2026-12-01 (floor 0.2, sentences, no prototypes)
    weights: Weights = Weights()
    needs: str = "parts"  # "parts": max over its recommendations; "labels": predicted labels declared
    short_theme: float | None = None  # query-length weights: the theme weight under SHORT_WORDS words
    neighbours: int = EXAMPLE_NEIGHBOURS  # example profiles a profile borrows from

    def space_for(self, model: Any, examples: Sequence[JsonObject] = ()) -> ThemeSpace:
        """The variant's theme space; ``examples``: the labelled profiles it may read others by."""
        if self.legacy:
            legacy = {"floor": 0.2, "pieces": "sentences", "expansion_top": 0, "best_share": 0.0, "whole_share": 0.0}
            return LabThemeSpace(model, **{**legacy, **self.space})
        found = examples_from_profiles(examples, model.classes_, neighbours=self.neighbours)
        return lab_space(model, examples=found, **self.space)


SHORT_WORDS = 40
SERVICE = "the service's ranking"
VARIANTS = [
    Variant(
        "2026-12-01 ranking (floor 0.2, sentences; needs: predicted labels as declared themes)",
        legacy=True,
        needs="labels",
    ),
    Variant("2026-12-01 ranking, needs read from their recommendations", legacy=True),
    Variant("+ no floor on probabilities", legacy=True, space={"floor": 0.0}),
    Variant(
        "+ catch-all themes (Other, General) left out",
        space={
            "pieces": "sentences",
            "prototype_share": 0.0,
            "expansion_top": 0,
            "best_share": 0.0,
            "whole_share": 0.0,
            "example_share": 0.0,
        },
    ),
    Variant(
        "+ profiles read clause by clause",
        space={"prototype_share": 0.0, "expansion_top": 0, "best_share": 0.0, "whole_share": 0.0, "example_share": 0.0},
    ),
    Variant(
        "+ theme prototypes (share 0.3)",
        space={"expansion_top": 0, "best_share": 0.0, "whole_share": 0.0, "example_share": 0.0},
    ),
    Variant(
        "+ the query borrows its top theme's description",
        space={"best_share": 0.0, "whole_share": 0.0, "example_share": 0.0},
    ),
    Variant("+ the best shared theme (share 0.5)", space={"whole_share": 0.0, "example_share": 0.0}),
    Variant("+ the profile also tagged whole (share 0.2)", space={"example_share": 0.0}),
    Variant(SERVICE),  # + the themes of the 5 closest example profiles (share 0.15)
    Variant("example profiles: share 0.1", space={"example_share": 0.1}),
    Variant("example profiles: share 0.25", space={"example_share": 0.25}),
    Variant("example profiles: 3 closest", neighbours=3),
    Variant("example profiles: 10 closest", neighbours=10),
    Variant("profile tagged whole: share 0.3", space={"whole_share": 0.3}),
    Variant("profile tagged whole: share 0.5", space={"whole_share": 0.5}),
    Variant("profile tagged whole only (share 1.0)", space={"whole_share": 1.0}),
    Variant("best shared theme share 0.3", space={"best_share": 0.3}),
    Variant("best shared theme only (share 1.0)", space={"best_share": 1.0}),
    Variant("prototypes share 0.5", space={"prototype_share": 0.5}),
    Variant("prototypes only (zero-shot, share 1.0)", space={"prototype_share": 1.0}),
    Variant("max-pooling over clauses", space={"pooling": "max"}),
    Variant("query expansion: top 2 themes", space={"expansion_top": 2}),
    Variant("theme weight 0.45 (text 0.55)", weights=Weights(text=0.55, theme=0.45)),
    Variant("theme weight 0.65 (text 0.35)", weights=Weights(text=0.35, theme=0.65)),
    Variant(f"theme weight 0.70 under {SHORT_WORDS} words, 0.55 over", short_theme=0.70),
    Variant(f"theme weight 0.40 under {SHORT_WORDS} words, 0.55 over", short_theme=0.40),
    Variant("needs: predicted labels as declared themes", needs="labels"),
    Variant("needs: tagged whole (no max over recommendations)", needs="whole"),
]


# --------------------------------------------------------------------------- data


def load_providers(path: Path) -> list[Row]:
    providers: list[Row] = json.loads(path.read_text(encoding="utf-8"))
    return providers


def provider_text(p: JsonObject) -> str:
    """What the service reads of a provider registered with name and description only."""
    return engine_provider_text(p["name"], None, p["description"], [])


def split_rows(rows: list[Row], fraction: float, seed: int) -> tuple[list[Row], list[Row]]:
    by_id = {r["id"]: r for r in rows}
    train_ids, test_ids = split_by_group([r["id"] for r in rows], [r[STATE] for r in rows], fraction, seed)
    return [by_id[i] for i in train_ids], [by_id[i] for i in test_ids]


@dataclass
class Query:
    """One query: the recommendation texts it is made of, their State and true themes."""

    kind: str
    texts: list[str]
    state: str
    themes: list[str]


def make_queries(rows: list[Row], relevance: Relevance, n: int, seed: int) -> dict[str, list[Query]]:
    """``n`` supported recommendations and ``n`` needs from ``rows`` that some demo provider can answer."""
    supported = [r for r in rows if r.get("response") == "supported" and r["themes"]]
    by_id = {r["id"]: r for r in supported}
    rng = np.random.default_rng(seed)
    pools = {
        "recommendation": [Query("recommendation", [r["text"]], r[STATE], r["themes"]) for r in supported],
        "need": [
            Query("need", [by_id[i]["text"] for i in q["record_ids"]], q["state"], q["themes"])
            for q in build_needs(supported, 3, 5, seed=seed)
        ],
    }
    out = {}
    for kind, pool in pools.items():
        keep = [i for i, q in enumerate(pool) if max(graded_relevance(q.themes, relevance).values()) >= 1]
        out[kind] = [pool[i] for i in sorted(rng.choice(keep, size=min(n, len(keep)), replace=False).tolist())]
    return out


def get_tagger(rows: list[Row], name: str, out_dir: Path, n_jobs: int, retrain: bool) -> tuple[ThemeTagger, JsonObject]:
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


# --------------------------------------------------------------------------- ranking on one half


class Side:
    """One query side: its queries and tagger (validation States + inner tagger, or held-out + main)."""

    def __init__(self, name: str, queries: dict[str, list[Query]], tagger: ThemeTagger) -> None:
        self.name = name
        self.queries = queries
        self.tagger = tagger
        self.model = CachedModel(tagger)
        # The labels an import would store for each recommendation (tag_unthemed), for the "labels" variants.
        texts = sorted({t for qs in queries.values() for q in qs for t in q.texts})
        self.labels = dict(zip(texts, tagger.predict(texts), strict=True))

    def need_query(self, q: Query, how: str) -> tuple[str, Preferences]:
        filed = need_as_filed(q.state, q.texts)
        if how == "parts":
            return filed.text, filed.prefs
        if how == "whole":
            return filed.text, Preferences(state=q.state)
        labels = tuple(dict.fromkeys(label for t in q.texts for label in self.labels[t]))
        return need_text(filed.text.splitlines()[0], "", q.texts, labels), Preferences(state=q.state, themes=labels)


def gradings_for(queries: Sequence[Query], relevance: Relevance, ids: Sequence[str]) -> list[dict[str, int]]:
    pool = {i: relevance[i] for i in ids}
    return [graded_relevance(q.themes, pool) for q in queries]


def evaluate_on(rankings: list[list[str]], gradings: list[dict[str, int]]) -> dict[str, float]:
    """Metrics over the queries some provider of the half can answer."""
    kept = [(r, g) for r, g in zip(rankings, gradings, strict=True) if max(g.values(), default=0) >= 1]
    return evaluate_rankings([r for r, _ in kept], [g for _, g in kept], k=5)


def rank_variant(
    variant: Variant, side: Side, ids: list[str], texts: list[str], examples: Sequence[JsonObject] = ()
) -> dict[str, list[list[str]]]:
    """Every query of ``side`` ranked by ``variant`` among the providers ``ids``, reading their profiles
    with the labelled ``examples`` (never a ranked profile's own themes: see :func:`run_folds`)."""
    space = variant.space_for(side.model, examples)
    ranking = ServiceRanking(ids, texts, side.model, weights=variant.weights, space=space)
    short = None
    if variant.short_theme is not None:
        theme = variant.short_theme
        short = ServiceRanking(ids, texts, side.model, weights=Weights(text=1 - theme, theme=theme), space=space)
    out: dict[str, list[list[str]]] = {}
    for kind, queries in side.queries.items():
        rankings = []
        for q in queries:
            text, prefs = (q.texts[0], Preferences()) if kind == "recommendation" else side.need_query(q, variant.needs)
            ranker = short if short is not None and len(text.split()) < SHORT_WORDS else ranking
            rankings.append([r.id for r in ranker.rank(text, prefs=prefs)])
        out[kind] = rankings
    return out


def baselines(side: Side, ids: list[str], texts: list[str]) -> dict[str, dict[str, list[list[str]]]]:
    """Text-only systems on the same providers: bm25s, scikit-learn TF-IDF, our TfidfMatcher."""
    out: dict[str, dict[str, list[list[str]]]] = {"bm25s": {}, "scikit-learn TF-IDF": {}, "TfidfMatcher": {}}
    for kind, queries in side.queries.items():
        query_texts = [
            q.texts[0] if kind == "recommendation" else need_as_filed(q.state, q.texts).text for q in queries
        ]
        for name, scores in (
            ("bm25s", bm25_scores(query_texts, texts)),
            ("scikit-learn TF-IDF", sklearn_scores(query_texts, texts)),
            ("TfidfMatcher", matcher_scores(query_texts, texts, ids)),
        ):
            order = [[ids[j] for j in np.argsort(-row, kind="stable") if row[j] > 0] for row in scores]
            out[name][kind] = order
    return out


# --------------------------------------------------------------------------- the run


def run_folds(
    folds: list[Fold],
    variants: list[Variant],
    sides: dict[str, Side],
    providers: list[Row],
    relevance: Relevance,
    progress: Callable[[str], None],
) -> JsonObject:
    """Per fold: every variant on the tune half (validation States) and the report half (held-out States).

    Each half's profiles are read with the other half's, themes and all, as example profiles
    (:mod:`matching.examples`): in the service too the examples (the demo profiles) are not the
    providers ranked. A report profile's themes never reach its own reading: they grade the report
    half and, as examples, shape only the tune half's readings.
    """
    text_of = {p["slug"]: provider_text(p) for p in providers}
    by_slug = {p["slug"]: p for p in providers}
    results: JsonObject = {"variants": {v.name: {"tune": [], "report": []} for v in variants}, "baselines": {}}
    for number, fold in enumerate(folds, start=1):
        for half, ids, side in (("tune", fold.tune, sides["tune"]), ("report", fold.report, sides["report"])):
            texts = [text_of[i] for i in ids]
            examples = [by_slug[i] for i in (fold.report if half == "tune" else fold.tune)]
            grades = {kind: gradings_for(qs, relevance, ids) for kind, qs in side.queries.items()}
            for variant in variants:
                ranked = rank_variant(variant, side, ids, texts, examples)
                results["variants"][variant.name][half].append(
                    {kind: evaluate_on(ranked[kind], grades[kind]) for kind in KINDS}
                )
            if half == "report":
                for name, ranked in baselines(side, ids, texts).items():
                    results["baselines"].setdefault(name, []).append(
                        {kind: evaluate_on(ranked[kind], grades[kind]) for kind in KINDS}
                    )
        progress(f"  fold {number}/{len(folds)} done")
    return results


def objective(fold_metrics: dict[str, dict[str, float]]) -> float:
    return statistics.fmean(fold_metrics[kind]["ndcg"] for kind in KINDS)


def summarise(per_fold: list[dict[str, dict[str, float]]]) -> dict[str, dict[str, tuple[float, float]]]:
    return {kind: {m: mean_and_spread([f[kind][m] for f in per_fold]) for m in (*METRICS, "n")} for kind in KINDS}


def fold_tuned(results: JsonObject, n_folds: int) -> tuple[list[dict[str, dict[str, float]]], list[str]]:
    """Per fold, the variant with the best tune-half objective, and its report-half metrics."""
    chosen, metrics = [], []
    for k in range(n_folds):
        best = max(results["variants"], key=lambda name: objective(results["variants"][name]["tune"][k]))
        chosen.append(best)
        metrics.append(results["variants"][best]["report"][k])
    return metrics, chosen


def row(name: str, summary: dict[str, dict[str, tuple[float, float]]]) -> str:
    cells = []
    for kind in KINDS:
        s = summary[kind]
        cells += [f"{s['ndcg'][0]:.4f} ± {s['ndcg'][1]:.4f}", f"{s['mrr'][0]:.4f}", f"{s['p1_core'][0]:.4f}"]
    return f"| {name} | " + " | ".join(cells) + " |"


HEADER = (
    "| system | recs nDCG@5 | recs MRR | recs P@1 (core) | needs nDCG@5 | needs MRR | needs P@1 (core) |\n"
    "|---|---|---|---|---|---|---|"
)


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"nproc {os.cpu_count()}, {cpu}, Python {platform.python_version()}, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load average {load}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--providers", type=Path, default=DEFAULT_PROVIDERS)
    parser.add_argument("--test-fraction", type=float, default=0.3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=5, help="random halvings of the providers (2 folds each)")
    parser.add_argument("--n-queries", type=int, default=600, help="recommendations and needs per side")
    parser.add_argument("--variants", choices=("all", "service"), default="all")
    parser.add_argument("--n-latency", type=int, default=300)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--retrain", action="store_true", help="ignore cached taggers")
    parser.add_argument("--out-dir", type=Path, default=ROOT / "benchmarks" / "out")
    parser.add_argument("--json", type=Path)
    parser.add_argument(
        "--languages",
        type=lambda v: [x.strip() for x in v.split(",") if x.strip()],
        help="e.g. en,fr,es: the cross-language evaluation instead (benchmarks/crosslingual_quality.py)",
    )
    args = parser.parse_args(argv)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    print(f"machine: {machine()}", flush=True)

    rows = load_rows(args.data)
    providers = load_providers(args.providers)
    relevance = {p["slug"]: p["relevance"] for p in providers}
    train, test = split_rows(rows, args.test_fraction, args.seed)
    inner_train, val = split_rows(train, args.test_fraction, args.seed + 1)
    print(
        f"{SCHEME}: {len(rows)} rows; train {len(train)} rows / {len({r[STATE] for r in train})} States "
        f"(inner {len({r[STATE] for r in inner_train})} + validation {len({r[STATE] for r in val})}), "
        f"held out {len(test)} rows / {len({r[STATE] for r in test})} States; {len(providers)} providers",
        flush=True,
    )
    split_tag = f"f{args.test_fraction}-s{args.seed}"
    summary: JsonObject = {"machine": machine(), "seed": args.seed}

    # 1. the tagger on held-out States ------------------------------------------------------------
    tagger, fit_info = get_tagger(train, f"train-{split_tag}", args.out_dir, args.n_jobs, args.retrain)
    inner, _ = get_tagger(inner_train, f"inner-{split_tag}", args.out_dir, args.n_jobs, args.retrain)
    tag = tagging_metrics(tagger, [r["text"] for r in test], [r["themes"] for r in test])
    latencies = []
    for text in [r["text"] for r in test[: args.n_latency]]:
        started = time.perf_counter()
        tagger.predict([text])
        latencies.append((time.perf_counter() - started) * 1000)
    tag |= fit_info | {"p50_ms": statistics.median(latencies), "p99_ms": percentile(latencies, 99)}
    summary["tagging"] = tag
    print(
        f"\ntagging (held-out States): micro-F1 {tag['micro_f1']:.4f}, macro-F1 {tag['macro_f1']:.4f}, "
        f"P@1 {tag['precision_at_1']:.4f}; classify p50 {tag['p50_ms']:.2f} ms",
        flush=True,
    )

    # 2. ranking on held-out providers ------------------------------------------------------------
    sides = {
        "tune": Side("tune", make_queries(val, relevance, args.n_queries, args.seed + 1), inner),
        "report": Side("report", make_queries(test, relevance, args.n_queries, args.seed), tagger),
    }
    folds = provider_folds(providers, repeats=args.repeats, seed=args.seed)
    variants = VARIANTS if args.variants == "all" else [v for v in VARIANTS if v.name == SERVICE]
    print(
        f"\n{len(folds)} provider folds of {len(folds[0].tune)}/{len(folds[0].report)} profiles; "
        f"{len(variants)} variants; queries per side: "
        + ", ".join(f"{k} {len(v)}" for k, v in sides["report"].queries.items()),
        flush=True,
    )
    if args.languages:
        from benchmarks import crosslingual_quality

        train_texts = [r["text"] for r in train]
        found = crosslingual_quality.run(
            args, sides, folds, providers, relevance, train_texts, lambda m: print(m, flush=True)
        )
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(summary | {"languages": found}, indent=2, default=str))
        return 0
    results = run_folds(folds, variants, sides, providers, relevance, lambda m: print(m, flush=True))
    service = summarise(results["variants"][SERVICE]["report"])
    base = {name: summarise(per_fold) for name, per_fold in results["baselines"].items()}
    print("\n### Held-out providers and States (mean ± spread over the report halves)\n")
    print(HEADER)
    for name, s in base.items():
        print(row(name, s))
    print(row(f"**{SERVICE}**", service))
    by_fold = {kind: [f[kind]["ndcg"] for f in results["variants"][SERVICE]["report"]] for kind in KINDS}
    for kind, target in (("recommendation", TARGETS["ndcg_recommendation"]), ("need", TARGETS["ndcg_need"])):
        below = sum(v < target for v in by_fold[kind])
        print(
            f"  {SERVICE}, {kind}s nDCG@5 by report half: "
            + ", ".join(f"{v:.4f}" for v in by_fold[kind])
            + f" ({below} of {len(by_fold[kind])} below {target})"
        )
    summary["headline"] = {"service": service, "service_by_fold": by_fold, "baselines": base}
    if len(variants) > 1:
        tuned_metrics, chosen = fold_tuned(results, len(folds))
        print(row("chosen per fold on the tune half", summarise(tuned_metrics)))
        print("  chosen: " + "; ".join(f"{name} x{chosen.count(name)}" for name in dict.fromkeys(chosen)))
        summary["fold_tuned"] = {"summary": summarise(tuned_metrics), "chosen": chosen}
        print("\n### What was tried (tune half: validation States; report half: held-out States; nDCG@5)\n")
        print("| variant | tune recs | tune needs | report recs | report needs | report needs P@1 (core) |")
        print("|---|---|---|---|---|---|")
        for variant in variants:
            t = summarise(results["variants"][variant.name]["tune"])
            r = summarise(results["variants"][variant.name]["report"])
            print(
                f"| {variant.name} | {t['recommendation']['ndcg'][0]:.4f} | {t['need']['ndcg'][0]:.4f} | "
                f"{r['recommendation']['ndcg'][0]:.4f} ± {r['recommendation']['ndcg'][1]:.4f} | "
                f"{r['need']['ndcg'][0]:.4f} ± {r['need']['ndcg'][1]:.4f} | {r['need']['p1_core'][0]:.4f} |"
            )
        summary["variants"] = {
            v.name: {h: summarise(results["variants"][v.name][h]) for h in ("tune", "report")} for v in variants
        }

    best_text = max(base.values(), key=lambda s: s["recommendation"]["ndcg"][0])
    tfidf = base["scikit-learn TF-IDF"]
    checks = [
        ("recs nDCG@5 >= 0.85", service["recommendation"]["ndcg"][0], TARGETS["ndcg_recommendation"]),
        ("needs nDCG@5 >= 0.90", service["need"]["ndcg"][0], TARGETS["ndcg_need"]),
        (
            "recs nDCG@5 - best text baseline >= +0.20",
            service["recommendation"]["ndcg"][0] - best_text["recommendation"]["ndcg"][0],
            TARGETS["margin_recommendation"],
        ),
        ("needs P@1 (core) >= TF-IDF's", service["need"]["p1_core"][0], tfidf["need"]["p1_core"][0]),
    ]
    print("\ntargets:")
    for label, value, target in checks:
        print(f"  {'MET ' if value >= target else 'MISS'} {label}: {value:.4f} (target {target:.4f})")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(summary, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
