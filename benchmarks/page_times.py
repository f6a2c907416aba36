"""Wall time of every kind of page, served as `make run` serves them (demo data, trained tagger).

Starts `upr-match serve` on a copy of the demo SQLite database with the trained tagger loaded
(both built once and cached: see `benchmarks/service_setup.py`), or measures a running server
(`--url`). Each page is fetched once (the first request may build the matching index or a
cache), then N times one after the other on one keep-alive connection; prints p50/p90/max in
milliseconds next to the budget of 300 ms a page, and the load average (wall time on a shared
machine means little without it).

Always exits 0: this is a report, not a gate.

    python benchmarks/page_times.py                 # N=20 per page
    python benchmarks/page_times.py --n 50 --model-dir /path/to/models
    python benchmarks/page_times.py --url http://127.0.0.1:8000
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.http_latency import pct
from benchmarks.service_setup import demo_service, load_average, run_report

BUDGET_MS = 300.0


class Pages:
    def __init__(self, base: str) -> None:
        u = urllib.parse.urlsplit(base)
        self.conn = http.client.HTTPConnection(u.hostname or "127.0.0.1", u.port, timeout=60)

    def get(self, path: str, accept: str = "text/html") -> tuple[int, bytes, float]:
        started = time.perf_counter()
        self.conn.request("GET", path, headers={"Accept": accept})
        response = self.conn.getresponse()
        body = response.read()
        return response.status, body, (time.perf_counter() - started) * 1000

    def first_id(self, path: str) -> str:
        status, body, _ = self.get(path, accept="application/json")
        items = json.loads(body)["items"] if status == 200 else []
        if not items:
            raise SystemExit(f"GET {path} -> {status}, no items: load the demo data")
        return str(items[0]["id"])


def page_paths(pages: Pages) -> list[str]:
    """One path of every page kind, with objects of the demo data for the detail pages."""
    return [
        "/",
        "/recommendations",
        "/recommendations?q=torture",
        f"/recommendations/{pages.first_id('/v1/recommendations?limit=1')}",
        "/states/FRA",
        f"/needs/{pages.first_id('/v1/needs?limit=1')}",
        "/providers",
        f"/providers/{pages.first_id('/v1/providers?limit=1')}",
        "/activities",
        "/signin",
    ]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", help="measure this running server instead of starting one")
    ap.add_argument("--sqlite", type=Path, help="copy this loaded demo SQLite database (default: the cached one)")
    ap.add_argument("--model-dir", type=Path, help="the trained tagger to load (default: trained once, cached)")
    ap.add_argument("--n", type=int, default=20, help="requests per page after the first")
    ap.add_argument("--workers", type=int, default=1)
    args = ap.parse_args()

    if args.url:
        measure(args.url.rstrip("/"), args.n)
    else:
        with demo_service(args.model_dir, args.sqlite, args.workers) as base:
            measure(base, args.n)
    return 0


def measure(base: str, n: int) -> None:
    pages = Pages(base)
    status, body, _ = pages.get("/health/ready", accept="application/json")
    tagger = json.loads(body).get("checks", {}).get("tagger") if status == 200 else f"HTTP {status}"
    print(f"server {base}, N={n} per page after a first request; tagger: {tagger}")
    print(f"nproc {os.cpu_count()}, load average at start {load_average()}")
    head = f"{'page':<48} {'first ms':>8} {'p50 ms':>7} {'p90 ms':>7} {'max ms':>7} {'budget':>7}"
    print(head)
    print("-" * len(head))
    over = []
    for path in page_paths(pages):
        code, _, first = pages.get(path)
        times = sorted(pages.get(path)[2] for _ in range(n))
        p50, p90, worst = pct(times, 50), pct(times, 90), times[-1]
        if p50 > BUDGET_MS or code != 200:
            over.append(f"{path} (HTTP {code}, p50 {p50:.0f} ms)")
        print(f"{path[:48]:<48} {first:>8.1f} {p50:>7.1f} {p90:>7.1f} {worst:>7.1f} {BUDGET_MS:>7.0f}")
    print(f"pages over the {BUDGET_MS:.0f} ms budget (p50) or not 200: {', '.join(over) or 'none'}")
    print(f"load average at the end {load_average()}")


if __name__ == "__main__":
    run_report(main)
