"""Theme-tagging quality harness: whole-State held-out split on the shared UPR data.

Trains ``ThemeTagger`` variants for the ``upr_info_issues`` scheme on 70% of
the States under Review and scores the other 30% (whole States, fixed seed,
``evaluation.metrics.split_by_group``), then prints a Markdown table:
micro-F1, macro-F1, precision@1, training time, single-text classify
p50/p99, artifact load time and size.

Usage::

    python benchmarks/quality_tagging.py                       # all variants
    python benchmarks/quality_tagging.py --variants svc --full-fit
    python benchmarks/quality_tagging.py --json benchmarks/out/tagging.json

The data file is read in place (never copied); artifacts go to
``benchmarks/out/`` (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app.core.config import get_settings  # noqa: E402
from evaluation.metrics import split_by_group  # noqa: E402
from evaluation.quality import tagging_metrics  # noqa: E402
from matching.tagger import ThemeTagger  # noqa: E402

DEFAULT_DATA = get_settings().UPR_DATA_DIR / "recommendations.jsonl"
SCHEME = "upr_info_issues"

#: name -> (ThemeTagger parameters, one-line description). The variants that lost (per-label
#: thresholds, logistic regression, SGD) are in docs/decisions/2026-11-26-theme-tagger.md.
VARIANTS: dict[str, tuple[dict[str, Any], str]] = {
    "svc": ({}, "LinearSVC C=0.5, word 1-2 + char_wb 2-5, Platt, one global threshold (the service's)"),
    "svc-wordonly": ({"char_ngram_range": None}, "as svc, word 1-2 grams only"),
}


def load_rows(path: Path) -> list[dict[str, Any]]:
    rows = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            if row.get("theme_scheme") == SCHEME and row.get("themes") and row.get("text"):
                rows.append(row)
    return rows


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def run_variant(
    name: str, train: list[dict[str, Any]], test: list[dict[str, Any]], out_dir: Path, n_latency: int, n_jobs: int
) -> dict[str, Any]:
    params, description = VARIANTS[name]
    tagger = ThemeTagger(scheme=SCHEME, n_jobs=n_jobs, **params)
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    tagger.fit(
        [r["text"] for r in train], [r["themes"] for r in train], groups=[r["state_under_review_iso3"] for r in train]
    )
    fit_s = time.perf_counter() - started
    load_after = os.getloadavg()[0]

    texts = [r["text"] for r in test]
    scores = tagging_metrics(tagger, texts, [r["themes"] for r in test])

    latencies = []
    for text in texts[:n_latency]:
        t0 = time.perf_counter()
        tagger.predict([text])
        latencies.append((time.perf_counter() - t0) * 1000)

    path = tagger.save(out_dir / f"tagger-{name}.joblib")
    loads = []
    for _ in range(3):
        t0 = time.perf_counter()
        ThemeTagger.load(path)
        loads.append(time.perf_counter() - t0)

    return {
        "variant": name,
        "description": description,
        **scores,
        "oof_metrics": tagger.metadata_["metrics"],
        "threshold": getattr(tagger, "global_threshold_", None),
        "fit_s": fit_s,
        "loadavg_during_fit": [round(load_before, 2), round(load_after, 2)],
        "classify_p50_ms": statistics.median(latencies),
        "classify_p99_ms": percentile(latencies, 99),
        "load_s": statistics.median(loads),
        "artifact_mb": path.stat().st_size / 1e6,
        "n_features": tagger.metadata_["n_features"],
        "n_labels": len(tagger.classes_),
    }


def full_fit(rows: list[dict[str, Any]], name: str, n_jobs: int) -> float:
    params, _ = VARIANTS[name]
    print(f"full fit: loadavg before {os.getloadavg()[0]:.2f}", flush=True)
    started = time.perf_counter()
    ThemeTagger(scheme=SCHEME, n_jobs=n_jobs, **params).fit(
        [r["text"] for r in rows], [r["themes"] for r in rows], groups=[r["state_under_review_iso3"] for r in rows]
    )
    return time.perf_counter() - started


def table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| variant | micro-F1 | macro-F1 | P@1 | train (s) | classify p50 / p99 (ms) | load (s) | artifact (MB) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['variant']} | {r['micro_f1']:.4f} | {r['macro_f1']:.4f} | {r['precision_at_1']:.4f} | "
            f"{r['fit_s']:.1f} | {r['classify_p50_ms']:.2f} / {r['classify_p99_ms']:.2f} | "
            f"{r['load_s']:.2f} | {r['artifact_mb']:.1f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--variants", default="svc,svc-wordonly", help=f"comma list of {list(VARIANTS)}")
    parser.add_argument("--test-fraction", type=float, default=0.3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-latency", type=int, default=500, help="single-text classify calls to time")
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--full-fit", action="store_true", help="also time training the first variant on all rows")
    parser.add_argument("--out-dir", type=Path, default=ROOT / "benchmarks" / "out")
    parser.add_argument("--json", type=Path, help="write the results here as JSON")
    args = parser.parse_args(argv)

    rows = load_rows(args.data)
    by_id = {r["id"]: r for r in rows}
    train_ids, test_ids = split_by_group(
        [r["id"] for r in rows], [r["state_under_review_iso3"] for r in rows], args.test_fraction, args.seed
    )
    train = [by_id[i] for i in train_ids]
    test = [by_id[i] for i in test_ids]
    n_states = len({r["state_under_review_iso3"] for r in rows})
    n_test_states = len({r["state_under_review_iso3"] for r in test})
    print(
        f"{SCHEME}: {len(rows)} rows, {n_states} States; held out {n_test_states} States "
        f"({len(test)} rows), train {len(train)} rows; seed {args.seed}",
        flush=True,
    )

    args.out_dir.mkdir(parents=True, exist_ok=True)
    results = []
    for name in [v.strip() for v in args.variants.split(",") if v.strip()]:
        if name not in VARIANTS:
            parser.error(f"unknown variant {name!r}")
        result = run_variant(name, train, test, args.out_dir, args.n_latency, args.n_jobs)
        results.append(result)
        print(
            f"  {name}: micro {result['micro_f1']:.4f} macro {result['macro_f1']:.4f} "
            f"P@1 {result['precision_at_1']:.4f} fit {result['fit_s']:.1f}s "
            f"(loadavg {result['loadavg_during_fit']}) p50 {result['classify_p50_ms']:.2f}ms "
            f"thr {result['threshold']} oof {result['oof_metrics']}",
            flush=True,
        )
    print()
    print(table(results))
    for r in results:
        print(f"- {r['variant']}: {r['description']} ({r['n_features']} features, {r['n_labels']} labels)")

    summary: dict[str, Any] = {"results": results, "n_train": len(train), "n_test": len(test)}
    if args.full_fit and results:
        seconds = full_fit(rows, results[0]["variant"], args.n_jobs)
        summary["full_fit_s"] = seconds
        print(f"\nfull fit of {results[0]['variant']} on all {len(rows)} rows: {seconds:.1f}s")

    best = results[0] if results else None
    if best:
        targets = [
            ("micro-F1 >= 0.90", best["micro_f1"] >= 0.90, f"{best['micro_f1']:.4f}"),
            ("macro-F1 >= 0.83", best["macro_f1"] >= 0.83, f"{best['macro_f1']:.4f}"),
            (
                "training < 120 s",
                summary.get("full_fit_s", best["fit_s"]) < 120,
                f"{summary.get('full_fit_s', best['fit_s']):.1f}s",
            ),
            ("classify p50 < 5 ms", best["classify_p50_ms"] < 5, f"{best['classify_p50_ms']:.2f}ms"),
        ]
        print(f"\ntargets ({best['variant']}):")
        for label, ok, value in targets:
            print(f"  {'MET ' if ok else 'MISS'} {label}: {value}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(summary, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
