"""Sequential HTTP latency and server CPU per request, with the trained tagger loaded (as `make run`).

Starts `upr-match serve --workers 2` on a copy of the demo SQLite database with the trained
tagger (trained once into `benchmarks/out/models`, or `--model-dir`; see
`benchmarks/service_setup.py`), or measures a running server (`--url`, with `--pid` for CPU).
Sends N requests to each endpoint, one after the other on one keep-alive connection, and prints
p50/p90/p99, the server's CPU time per request (user + system time of its processes, divided by
the requests: robust to other load on the machine, unlike wall time) and the load average.

The targets are ratios to the floor: a bare FastAPI endpoint (`benchmarks/bare_app.py`) that this
script starts itself on the same uvicorn (same workers, same settings) and measures in the same
run, so that the load of the machine shows in both; both wall time (p50) and server CPU per
request are divided by the floor's. `--profile` adds a cProfile of the match of one need, in-process.

Always exits 0: this is a report, not a gate.

    python benchmarks/http_latency.py                       # demo database from the cache (loaded once)
    python benchmarks/http_latency.py --n 200 --model-dir /path/to/models
    python benchmarks/http_latency.py --url http://127.0.0.1:8000 --pid <serve pid>
"""

from __future__ import annotations

import argparse
import cProfile
import http.client
import io
import json
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.service_setup import (
    cpu_seconds,
    demo_database,
    free_port,
    load_average,
    run_report,
    server_env,
    server_pids,
    start_server,
    stop_server,
    trained_tagger,
)

MATCH_TEXT = "Ratify the Optional Protocol to the Convention against Torture and set up a national preventive mechanism"


def pct(sorted_ms: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    k = max(0, min(len(sorted_ms) - 1, round(q / 100 * len(sorted_ms) + 0.5) - 1))
    return sorted_ms[k]


class Client:
    def __init__(self, base: str, key: str | None) -> None:
        u = urllib.parse.urlsplit(base)
        if u.hostname is None:
            raise ValueError(f"no host in {base!r}")
        self.conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        self.headers = {"Accept": "application/json"}
        if key:
            self.headers["Authorization"] = f"Bearer {key}"

    def call(
        self, method: str, path: str, body: Any = None, extra: dict[str, str] | None = None
    ) -> tuple[int, bytes, float]:
        headers = {**self.headers, **(extra or {})}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        t0 = time.perf_counter()
        self.conn.request(method, path, body=data, headers=headers)
        r = self.conn.getresponse()
        payload = r.read()
        return r.status, payload, (time.perf_counter() - t0) * 1000

    def json(self, path: str) -> Any:
        status, body, _ = self.call("GET", path)
        if status != 200:
            raise SystemExit(f"GET {path} -> {status}")
        return json.loads(body)


def measure(
    client: Client,
    name: str,
    method: str,
    paths: list[str],
    bodies: list[Any],
    n: int,
    pids: list[int],
    extra: dict[str, str] | None = None,
) -> dict[str, Any]:
    for i in range(20):  # warm-up (also builds per-worker caches); bodies from the end, unseen by the run
        client.call(method, paths[i % len(paths)], bodies[(n + i) % len(bodies)], extra)
    load0 = os.getloadavg()[0]
    cpu0 = cpu_seconds(pids) if pids else None
    lat, bad = [], 0
    t0 = time.perf_counter()
    for i in range(n):
        status, _, ms = client.call(method, paths[i % len(paths)], bodies[i % len(bodies)], extra)
        bad += status >= 400
        lat.append(ms)
    wall = time.perf_counter() - t0
    cpu1 = cpu_seconds(pids) if pids else None
    lat.sort()
    return {
        "name": name,
        "n": n,
        "errors": bad,
        "p50": pct(lat, 50),
        "p90": pct(lat, 90),
        "p99": pct(lat, 99),
        "max": lat[-1],
        "rps": n / wall,
        "cpu_ms": (cpu1 - cpu0) / n * 1000 if cpu0 is not None and cpu1 is not None else None,
        "load": (load0 + os.getloadavg()[0]) / 2,
    }


Endpoint = tuple[str, str, list[str], list[Any], float | None]


def plan(client: Client, n: int) -> list[Endpoint]:
    """(name, method, paths, bodies, target ratio to the floor) for every measured endpoint."""
    needs = [x["id"] for x in client.json("/v1/needs?limit=50")["items"]]
    providers = [x["id"] for x in client.json("/v1/providers?limit=100")["items"]]
    recs = [x["id"] for x in client.json("/v1/recommendations?state=MEX&limit=100")["items"]]
    if not needs or not providers:
        raise SystemExit("no needs or providers: load the demo data")
    q = urllib.parse.quote("torture optional protocol")
    theme = urllib.parse.quote("Women's rights")
    # Distinct texts, each seen once: the tagger reads every one (no cache hit).
    fresh = [{"text": f"{MATCH_TEXT}, step {i} of the plan"} for i in range(n + 20)]
    return [
        ("GET /health/live", "GET", ["/health/live"], [None], None),
        ("GET /v1/needs/{id}/matches", "GET", [f"/v1/needs/{i}/matches" for i in needs], [None], 6.0),
        ("POST /v1/match (same text)", "POST", ["/v1/match"], [{"text": MATCH_TEXT}], 9.0),
        ("POST /v1/match (a new text each time)", "POST", ["/v1/match"], fresh, None),
        ("GET /v1/providers/{id}/matches", "GET", [f"/v1/providers/{i}/matches" for i in providers], [None], None),
        ("GET /v1/recommendations?state=MEX&limit=20", "GET", ["/v1/recommendations?state=MEX&limit=20"], [None], 4.0),
        ("GET /v1/recommendations?q=torture optional protocol", "GET", [f"/v1/recommendations?q={q}"], [None], 6.0),
        ("GET /v1/recommendations/facets?state=MEX", "GET", ["/v1/recommendations/facets?state=MEX"], [None], None),
        ("GET /v1/recommendations/{id}", "GET", [f"/v1/recommendations/{i}" for i in recs], [None], None),
        ("GET /v1/providers/{id}", "GET", [f"/v1/providers/{i}" for i in providers], [None], None),
        ("GET /v1/needs/{id}", "GET", [f"/v1/needs/{i}" for i in needs], [None], None),
        ("GET /v1/providers?limit=20", "GET", ["/v1/providers?limit=20"], [None], None),
        # The search page: one list and one facet pass, plus one facet pass per theme or
        # affected-group filter in force (its other values stay on offer).
        ("GET /recommendations (page)", "GET", ["/recommendations"], [None], None),
        (
            "GET /recommendations?state=MEX&sort=newest (page)",
            "GET",
            ["/recommendations?state=MEX&sort=newest"],
            [None],
            None,
        ),
        (
            "GET /recommendations?state=MEX&theme=... (page)",
            "GET",
            [f"/recommendations?state=MEX&theme={theme}"],
            [None],
            None,
        ),
    ]


def profile_match(db_url: str, model_dir: Path, need_id: str, n: int = 200) -> str:
    """cProfile the match of one need in-process (service function and JSON), against the same database."""
    os.environ.update(DATABASE_URL=db_url, MODEL_DIR=str(model_dir))
    from sqlmodel import Session

    from app.core.config import get_settings
    from app.core.db import create_db_engine
    from app.core.identity import ANONYMOUS
    from app.match_index.index import MatchIndex
    from app.services import themes as theme_service
    from app.services.matching import match_providers_for_need
    from matching.ranking import NO_FILTERS

    get_settings.cache_clear()
    settings = get_settings()
    engine = create_db_engine(settings)
    index = MatchIndex(settings, theme_service.load(settings))
    with Session(engine) as s:
        index.load(s)

    def once() -> None:
        with Session(engine) as s:
            res = match_providers_for_need(
                s, index, principal=ANONYMOUS, need_id=need_id, filters=NO_FILTERS, limit=10, min_score=0.0
            )
            res.model_dump_json()

    for _ in range(10):
        once()
    c0, t0 = time.process_time(), time.perf_counter()
    for _ in range(n):
        once()
    plain_wall, plain_cpu = (time.perf_counter() - t0) / n * 1000, (time.process_time() - c0) / n * 1000
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(n):
        once()
    prof.disable()
    out = io.StringIO()
    out.write(
        f"match_providers_for_need + JSON, {n} calls, need {need_id}: {plain_wall:.2f} ms wall / "
        f"{plain_cpu:.2f} ms CPU per call (without the profiler), load {os.getloadavg()[0]:.1f}\n"
    )
    st = pstats.Stats(prof, stream=out).strip_dirs()
    st.sort_stats("cumulative").print_stats(30)
    engine.dispose()
    return out.getvalue()


CONDITIONAL_PATH = "/v1/recommendations?state=MEX&limit=20"
CONDITIONAL_TARGET = 1.5


def start_bare(workdir: Path, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    """The floor: `benchmarks/bare_app.py` on uvicorn with the service's settings, once it answers."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    with open(workdir / "bare.log", "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "benchmarks.bare_app:app", "--host", "127.0.0.1"]
            + ["--port", str(port), "--workers", str(workers), "--no-server-header", "--log-level", "warning"],
            env=env,
            cwd=workdir,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            c.request("GET", "/bare")
            if c.getresponse().status == 200:
                return proc, base
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"the bare endpoint did not start; see {workdir / 'bare.log'}")


def print_rows(rows: list[dict[str, Any]], floor: dict[str, Any]) -> None:
    head = (
        f"{'endpoint':<52} {'n':>5} {'err':>4} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} "
        f"{'req/s':>6} {'CPU ms/req':>10} {'x floor':>7} {'CPU x':>6} {'target':>7} {'load1':>5}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        cpu = f"{r['cpu_ms']:.2f}" if r["cpu_ms"] is not None else "n/a"
        cpu_x = f"{r['cpu_ms'] / floor['cpu_ms']:.1f}" if r["cpu_ms"] and floor["cpu_ms"] else "n/a"
        target = f"<={r['target']:g}x" if r["target"] else ""
        print(
            f"{r['name']:<52} {r['n']:>5} {r['errors']:>4} {r['p50']:>7.2f} {r['p99']:>7.2f} "
            f"{r['max']:>7.1f} {r['rps']:>6.0f} {cpu:>10} {r['p50'] / floor['p50']:>7.1f} {cpu_x:>6} "
            f"{target:>7} {r['load']:>5.1f}"
        )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", help="measure this running server instead of starting one")
    ap.add_argument("--pid", type=int, help="with --url: the server's master pid, for CPU time per request")
    ap.add_argument("--sqlite", type=Path, help="copy this loaded demo SQLite database (default: the cached one)")
    ap.add_argument("--model-dir", type=Path, help="the trained tagger to load (default: trained once, cached)")
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--key", help="send this API key (default: anonymous)")
    ap.add_argument("--profile", action="store_true", help="also profile the match of one need in-process")
    ap.add_argument("--json", type=Path, help="also write the rows here")
    ap.add_argument("--only", help="measure only the endpoints whose name contains this")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="upr-http-bench-"))
    proc = bare_proc = None
    db_url = None
    model_dir = None
    try:
        bare_proc, bare_base = start_bare(tmp, args.workers)
        if args.url:
            base = args.url.rstrip("/")
            pids = server_pids(args.pid) if args.pid else []
        else:
            model_dir = trained_tagger(args.model_dir)
            db_url = demo_database(tmp / "upr.db", model_dir, args.sqlite)
            proc, base = start_server(server_env(db_url, model_dir), tmp, args.workers, tmp / "server.log")
            pids = server_pids(proc.pid)
        client = Client(base, args.key)
        endpoints = [e for e in plan(client, args.n) if not args.only or args.only in e[0]]
        print(f"server {base}, {args.workers} workers, N={args.n} per endpoint, one keep-alive connection")
        ready = client.json("/health/ready")["checks"].get("tagger", {})
        print(f"tagger: {ready}; nproc {os.cpu_count()}, load average at start {load_average()}")
        bare_pids = server_pids(bare_proc.pid)
        floor_name = "bare FastAPI GET /bare (the floor)"
        floor = {**measure(Client(bare_base, None), floor_name, "GET", ["/bare"], [None], args.n, bare_pids)}
        floor["target"] = None
        rows = [floor]
        for name, m, paths, bodies, target in endpoints:
            rows.append({**measure(client, name, m, paths, bodies, args.n, pids), "target": target})
        etag = _etag(client, CONDITIONAL_PATH)
        if etag:
            name = f"GET {CONDITIONAL_PATH} If-None-Match (304)"
            row = measure(client, name, "GET", [CONDITIONAL_PATH], [None], args.n, pids, {"If-None-Match": etag})
            rows.append({**row, "target": CONDITIONAL_TARGET})
        # The floor again at the end: the machine's load moves during a run.
        again = measure(Client(bare_base, None), floor_name + ", again", "GET", ["/bare"], [None], args.n, bare_pids)
        rows.append({**again, "target": None})
        floor = {
            "p50": (floor["p50"] + again["p50"]) / 2,
            "cpu_ms": (floor["cpu_ms"] + again["cpu_ms"]) / 2 if floor["cpu_ms"] and again["cpu_ms"] else None,
        }
        print_rows(rows, floor)
        print(f"\nfloor: p50 {floor['p50']:.2f} ms, CPU {floor['cpu_ms'] or 0:.2f} ms/request (mean of both runs)")
        print("targets (ratio of p50 to the floor's; CPU ratio alongside):")
        for r in rows:
            if r["target"]:
                ratio = r["p50"] / floor["p50"]
                cpu_x = f", CPU {r['cpu_ms'] / floor['cpu_ms']:.1f}x" if r["cpu_ms"] and floor["cpu_ms"] else ""
                met = "MET" if ratio <= r["target"] else "NOT MET"
                print(f"  {r['name']}: {ratio:.1f}x (<= {r['target']:g}x{cpu_x}) {met}")
        print(f"load average at the end {load_average()}")
        if args.json:
            args.json.write_text(json.dumps({"floor": floor, "rows": rows}, indent=1))
        if args.profile and db_url and model_dir:
            needs = client.json("/v1/needs?limit=1")["items"]
            print("\nprofile of the match of one need (in-process, cProfile):")
            print(profile_match(db_url, model_dir, needs[0]["id"]))
    finally:
        for running in (proc, bare_proc):
            if running is not None:
                stop_server(running)
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


def _etag(client: Client, path: str) -> str | None:
    client.conn.request("GET", path, headers=client.headers)
    response = client.conn.getresponse()
    response.read()
    return response.getheader("ETag")


if __name__ == "__main__":
    run_report(main)
