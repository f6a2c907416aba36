"""Benchmark the matching engine against bm25s, tantivy and naive scikit-learn.

Corpus: the shared UPR recommendation texts minus 200 held-out queries
(fixed seed), replicated with fresh ids up to each size.  Every engine runs
in its own ``python`` subprocess so that its peak RSS is honest; the child
prints one JSON line, the parent prints a table and the targets.

Measured per engine and size: index build time, top-10 query latency (p50 and
p99 over the queries, query tokenisation included, after 5 warm-up queries),
both wall-clock and process CPU time (the machine is shared: other processes
preempt ours, which inflates wall-clock tails but not CPU time), peak RSS of
the process (``ru_maxrss``; it includes the Python interpreter and the corpus
texts, see ``base_rss_mb`` for that baseline) and the time for ``add`` of one
document until a query returns it.  ``--repeat N`` runs N interleaved rounds
and reports medians; the 1-minute load average is printed with each run.

This is a report, not a gate: it exits non-zero only if something crashes.

Usage::

    .venv/bin/python benchmarks/engine.py [--sizes 30000,120000,300000]
        [--queries 200] [--sklearn-queries 200] [--repeat 1]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, TypeGuard

import numpy as np

# The service's setting UPR_DATA_DIR (read here without importing the app, so RSS is the engine's own).
DATA = Path(os.environ.get("UPR_DATA_DIR", "../shared/data/upr")) / "recommendations.jsonl"
ROOT = Path(__file__).resolve().parent.parent
SEED = 20241126
N_WARMUP = 5
N_ADDS = 30
ENGINES = ("ours", "bm25s", "tantivy", "sklearn")


# ---------------------------------------------------------------- data


def load_split(n_queries: int) -> tuple[list[str], list[str]]:
    """Return (corpus texts, held-out query texts)."""
    texts = []
    with DATA.open(encoding="utf-8") as fh:
        for line in fh:
            texts.append(json.loads(line)["text"])
    order = list(range(len(texts)))
    random.Random(SEED).shuffle(order)
    queries = [texts[i] for i in order[:n_queries]]
    corpus = [texts[i] for i in sorted(order[n_queries:])]
    return corpus, queries


def replicate(corpus: list[str], size: int) -> tuple[list[str], list[str]]:
    docs = [corpus[i % len(corpus)] for i in range(size)]
    ids = [f"doc{i:07d}" for i in range(size)]
    return docs, ids


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def percentile_ms(latencies: list[float], q: float) -> float:
    return float(np.percentile(np.array(latencies) * 1e3, q))


def time_queries(search: Any, queries: list[str]) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU (``process_time``, all threads) seconds per query."""
    for q in queries[:N_WARMUP]:
        search(q)
    wall, cpu = [], []
    for q in queries:
        c0 = time.process_time()
        t0 = time.perf_counter()
        search(q)
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return wall, cpu


# ---------------------------------------------------------------- engines


def run_ours(docs: list[str], ids: list[str], queries: list[str]) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    from matching import TfidfMatcher

    t0 = time.perf_counter()
    m = TfidfMatcher().fit(docs, ids=ids)
    build = time.perf_counter() - t0
    lat = time_queries(lambda q: m.match(q, top_k=10), queries)
    adds, adds_cpu = [], []
    for i in range(N_ADDS):
        text = queries[i % len(queries)] + f" zzaddmarker{i}"
        c0 = time.process_time()
        t0 = time.perf_counter()
        m.add([text], ids=[f"added{i}"])
        hits = m.match(f"zzaddmarker{i}", top_k=1)
        adds.append(time.perf_counter() - t0)
        adds_cpu.append(time.process_time() - c0)
        assert hits and hits[0].id == f"added{i}", hits
    t0 = time.perf_counter()
    m.compact()
    compact = time.perf_counter() - t0
    return {
        "build_s": build,
        "lat": lat,
        "add_ms_p50": percentile_ms(adds, 50),
        "add_ms_max": max(adds) * 1e3,
        "add_cpu_ms_max": max(adds_cpu) * 1e3,
        "note": f"compact() of the delta after {N_ADDS} adds: {compact * 1e3:.0f} ms",
    }


def run_bm25s(docs: list[str], ids: list[str], queries: list[str]) -> dict[str, Any]:
    import bm25s
    import snowballstemmer

    stemmer = snowballstemmer.stemmer("english")
    t0 = time.perf_counter()
    tokens = bm25s.tokenize(docs, stopwords="en", stemmer=stemmer, show_progress=False)
    retriever = bm25s.BM25()
    retriever.index(tokens, show_progress=False)
    build = time.perf_counter() - t0
    del tokens

    def search(q: str) -> Any:
        qt = bm25s.tokenize([q], stopwords="en", stemmer=stemmer, show_progress=False)
        return retriever.retrieve(qt, k=10, show_progress=False, n_threads=1)

    lat = time_queries(search, queries)
    return {
        "build_s": build,
        "lat": lat,
        "add_ms_p50": None,
        "add_ms_max": None,
        "note": f"bm25s {bm25s.__version__}: no incremental add (full re-index); "
        "same snowball stemmer, English stop words, unigrams, numpy backend",
    }


_TANTIVY_WORD = re.compile(r"[^\W_]+")


def run_tantivy(docs: list[str], ids: list[str], queries: list[str]) -> dict[str, Any]:
    import tantivy

    builder = tantivy.SchemaBuilder()
    builder.add_text_field("text", stored=False, tokenizer_name="en_stem")
    builder.add_text_field("id", stored=True, tokenizer_name="raw")
    schema = builder.build()
    index = tantivy.Index(schema)  # in RAM
    threads = os.cpu_count() or 1
    t0 = time.perf_counter()
    writer = index.writer(heap_size=256_000_000, num_threads=threads)
    for id_, doc in zip(ids, docs, strict=True):
        writer.add_document(tantivy.Document(id=id_, text=doc))
    writer.commit()
    writer.wait_merging_threads()
    index.reload()
    searcher = index.searcher()
    build = time.perf_counter() - t0

    def parse(q: str) -> Any:
        words = " ".join(_TANTIVY_WORD.findall(q)) or "a"
        return index.parse_query(words, ["text"])

    lat = time_queries(lambda q: searcher.search(parse(q), 10).hits, queries)
    writer = index.writer(heap_size=64_000_000, num_threads=1)
    adds, adds_cpu = [], []
    for i in range(N_ADDS):
        text = queries[i % len(queries)] + f" zzaddmarker{i}"
        c0 = time.process_time()
        t0 = time.perf_counter()
        writer.add_document(tantivy.Document(id=f"added{i}", text=text))
        writer.commit()
        index.reload()
        s = index.searcher()
        hits = s.search(index.parse_query(f"zzaddmarker{i}", ["text"]), 1).hits
        adds.append(time.perf_counter() - t0)
        adds_cpu.append(time.process_time() - c0)
        assert hits, "added document not found"
    return {
        "build_s": build,
        "lat": lat,
        "add_ms_p50": percentile_ms(adds, 50),
        "add_ms_max": max(adds) * 1e3,
        "add_cpu_ms_max": max(adds_cpu) * 1e3,
        "note": f"{getattr(tantivy, '__version__', 'tantivy ?')}: BM25, en_stem, "
        f"in-RAM index, writer with {threads} threads; add = add_document+commit+reload",
    }


def run_sklearn(docs: list[str], ids: list[str], queries: list[str]) -> dict[str, Any]:
    from sklearn.feature_extraction.text import TfidfVectorizer

    def fit() -> tuple[Any, Any]:
        vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, stop_words="english")
        return vec, vec.fit_transform(docs)

    t0 = time.perf_counter()
    vec, matrix = fit()
    build = time.perf_counter() - t0

    def search(q: str) -> list[str]:
        scores = (matrix @ vec.transform([q]).T).toarray().ravel()  # whole matrix
        top = np.argpartition(-scores, 10)[:10]
        return [ids[i] for i in top[np.argsort(-scores[top])]]

    lat = time_queries(search, queries)
    t0 = time.perf_counter()
    docs.append(queries[0])
    vec, matrix = fit()  # naive add: refit everything
    refit = time.perf_counter() - t0
    return {
        "build_s": build,
        "lat": lat,
        "add_ms_p50": refit * 1e3,
        "add_ms_max": refit * 1e3,
        "note": "naive: TfidfVectorizer(1-2 grams) fit once, per query transform + "
        "sparse product with the whole matrix; add = full refit",
    }


RUNNERS = {"ours": run_ours, "bm25s": run_bm25s, "tantivy": run_tantivy, "sklearn": run_sklearn}


def worker(engine: str, size: int, n_queries: int, limit_queries: int) -> None:
    corpus, queries = load_split(n_queries)
    docs, ids = replicate(corpus, size)
    queries = queries[:limit_queries]
    base = rss_mb()
    result = RUNNERS[engine](docs, ids, queries)
    lat, cpu = result.pop("lat")
    result.update(
        cpu_p50_ms=percentile_ms(cpu, 50),
        cpu_p99_ms=percentile_ms(cpu, 99),
        engine=engine,
        size=size,
        n_queries=len(lat),
        p50_ms=percentile_ms(lat, 50),
        p99_ms=percentile_ms(lat, 99),
        peak_rss_mb=rss_mb(),
        base_rss_mb=base,
    )
    print(json.dumps(result))


# ---------------------------------------------------------------- parent


def run_child(engine: str, size: int, n_queries: int, limit: int) -> dict[str, Any]:
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker",
        engine,
        "--size",
        str(size),
        "--queries",
        str(n_queries),
        "--limit-queries",
        str(limit),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        err = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return {"engine": engine, "size": size, "error": err}
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
        ram = f"{mem_kb / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration):
        ram = "?"
    return (
        f"nproc={os.cpu_count()}, CPU={cpu}, RAM={ram}, Python {platform.python_version()}, "
        f"numpy {np.__version__}, date {time.strftime('%Y-%m-%d %H:%M %Z')}"
    )


def _median_run(rs: list[dict[str, Any]]) -> dict[str, Any]:
    """Median of each metric over the successful rounds (first error otherwise)."""
    ok = [r for r in rs if "error" not in r]
    if not ok:
        return rs[0]
    out = dict(ok[0])
    for key in (
        "build_s",
        "p50_ms",
        "p99_ms",
        "cpu_p50_ms",
        "cpu_p99_ms",
        "peak_rss_mb",
        "add_ms_p50",
        "add_ms_max",
        "add_cpu_ms_max",
        "load",
    ):
        values = [r[key] for r in ok if r.get(key) is not None]
        out[key] = float(np.median(values)) if values else None
    return out


def fmt(value: Any, spec: str = ".2f") -> str:
    return "n/a" if value is None else format(value, spec)


def ratio(a: Any, b: Any) -> str:
    if a is None or b is None or b == 0:
        return "n/a"
    return f"{a / b:.2f}x"


def installed(module: str) -> bool:
    proc = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True)
    return proc.returncode == 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="30000,120000,300000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument(
        "--sklearn-queries", type=int, default=200, help="queries for the naive baseline (smallest size only)"
    )
    parser.add_argument("--repeat", type=int, default=1, help="rounds (engines interleaved); the table shows medians")
    parser.add_argument("--worker", choices=ENGINES)
    parser.add_argument("--size", type=int)
    parser.add_argument("--limit-queries", type=int)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.size, args.queries, args.limit_queries or args.queries)
        return 0

    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    print(f"# Engine benchmark\n{machine()}")
    print(f"queries: {args.queries} held-out recommendations (seed {SEED}), top-10")
    missing = [m for m in ("bm25s", "tantivy") if not installed(m)]
    for m in missing:
        print(f"NOTE: {m} is not installed; its rows are skipped (pip install {m}).")
    print(f"load average at start: {os.getloadavg()[0]:.2f} (1 min)")
    runs: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for round_ in range(args.repeat):
        for size in sizes:
            for engine in ENGINES:
                if engine in missing or (engine == "sklearn" and size != min(sizes)):
                    continue
                limit = args.sklearn_queries if engine == "sklearn" else args.queries
                load = os.getloadavg()[0]
                r = run_child(engine, size, args.queries, limit)
                r["load"] = load
                runs.setdefault((engine, size), []).append(r)
                status = r.get("error") or (
                    f"build {r['build_s']:.1f}s p50 {r['p50_ms']:.2f}ms p99 {r['p99_ms']:.2f}ms"
                )
                print(f"  round {round_ + 1}: {engine} @ {size}: {status} (load {load:.1f})", flush=True)
    print(f"load average at end: {os.getloadavg()[0]:.2f} (1 min)")
    results = [_median_run(rs) for rs in runs.values()]
    print()
    header = (
        f"{'size':>8} {'engine':<8} {'build s':>8} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'cpu p50':>8} {'cpu p99':>8} "
        f"{'RSS MB':>8} {'add ms':>9} {'n_q':>4} {'load':>5}"
    )
    print(f"medians over {args.repeat} round(s)")
    print(header)
    print("-" * len(header))
    by = {(r["engine"], r["size"]): r for r in results}
    for r in results:
        if "error" in r:
            print(f"{r['size']:>8} {r['engine']:<8} ERROR: {r['error']}")
            continue
        print(
            f"{r['size']:>8} {r['engine']:<8} {r['build_s']:>8.2f} {r['p50_ms']:>8.2f} "
            f"{r['p99_ms']:>8.2f} {r['cpu_p50_ms']:>8.2f} {r['cpu_p99_ms']:>8.2f} "
            f"{r['peak_rss_mb']:>8.0f} {fmt(r['add_ms_max']):>9} "
            f"{r['n_queries']:>4} {r['load']:>5.1f}"
        )
    print(
        "(add ms = worst of the timed adds, until a query finds the document; "
        "sklearn: one full refit; load = 1-min load average when the child started, "
        f"on {os.cpu_count()} CPUs; cpu = process CPU time per query, which other "
        "processes on the machine do not inflate)"
    )
    print()
    print("ratios ours / other (lower is better):")
    for size in sizes:
        ours = by.get(("ours", size))
        if not ours or "error" in ours:
            continue
        for other in ("bm25s", "tantivy", "sklearn"):
            o = by.get((other, size))
            if not o or "error" in o:
                continue
            print(
                f"  {size:>7} vs {other:<8} build {ratio(ours['build_s'], o['build_s'])}  "
                f"p50 {ratio(ours['p50_ms'], o['p50_ms'])}  "
                f"p99 {ratio(ours['p99_ms'], o['p99_ms'])}  "
                f"cpu p99 {ratio(ours['cpu_p99_ms'], o['cpu_p99_ms'])}  "
                f"RSS {ratio(ours['peak_rss_mb'], o['peak_rss_mb'])}"
            )
    print()
    for r in results:
        if r.get("note"):
            print(f"note {r['engine']} @ {r['size']}: {r['note']}")

    big = max(sizes)
    ours, bm, tv = by.get(("ours", big)), by.get(("bm25s", big)), by.get(("tantivy", big))
    print(f"\ntargets at {big} documents:")

    def target(name: str, ok: bool | None, detail: str) -> None:
        status = "n/a " if ok is None else ("MET " if ok else "MISS")
        print(f"  [{status}] {name}: {detail}")

    def ok_(o: dict[str, Any] | None) -> TypeGuard[dict[str, Any]]:
        return o is not None and bool(o) and "error" not in o

    if ok_(ours):
        target(
            "query p50 <= bm25s p50",
            ours["p50_ms"] <= bm["p50_ms"] if ok_(bm) else None,
            f"{ours['p50_ms']:.2f} vs {bm['p50_ms']:.2f} ms" if ok_(bm) else "bm25s missing",
        )
        target(
            "query p99 <= tantivy p99",
            ours["p99_ms"] <= tv["p99_ms"] if ok_(tv) else None,
            f"{ours['p99_ms']:.2f} vs {tv['p99_ms']:.2f} ms wall-clock "
            f"(CPU time: {ours['cpu_p99_ms']:.2f} vs {tv['cpu_p99_ms']:.2f} ms)"
            if ok_(tv)
            else "tantivy missing",
        )
        target(
            "build <= bm25s build",
            ours["build_s"] <= bm["build_s"] if ok_(bm) else None,
            f"{ours['build_s']:.2f} vs {bm['build_s']:.2f} s" if ok_(bm) else "bm25s missing",
        )
        target("peak RSS <= 1.5 GB", ours["peak_rss_mb"] <= 1536, f"{ours['peak_rss_mb']:.0f} MB")
        target(
            "add visible < 10 ms",
            ours["add_ms_max"] < 10,
            f"worst {ours['add_ms_max']:.2f} ms wall-clock, median {ours['add_ms_p50']:.2f} ms, "
            f"worst CPU time {ours['add_cpu_ms_max']:.2f} ms",
        )
    else:
        print("  our engine did not run at this size")
    return 0


if __name__ == "__main__":
    sys.exit(main())
