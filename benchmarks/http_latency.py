"""Sequential HTTP latency of the service: one client, one keep-alive connection.

Starts `upr-match serve --workers 2` on SQLite with the demo data (or measures a
running server given with `--url`), then sends N requests to each endpoint, one
after the other, and prints p50/p90/p99 per endpoint, the server's CPU time per
request (when it knows the server's processes) and the load average around each
block.  Reports the ratio `needs/{id}/matches p50 / health/live p50` against the
target (<= 2x).  When the target is missed and `--profile` is on (default), it
profiles `app.services.matching.match_providers_for_need` in-process with
cProfile against the same database and prints where the time goes.

Always exits 0: this is a report, not a gate.

    python benchmarks/http_latency.py                       # fresh SQLite demo database in a temporary folder
    python benchmarks/http_latency.py --sqlite /tmp/x.db    # copy an already loaded demo database (saves ~1 min)
    python benchmarks/http_latency.py --url http://127.0.0.1:8000 --n 500
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
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TARGET_RATIO = 2.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_env(db_url: str, workdir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=db_url,
        UPR_DATA_DIR=os.environ.get("UPR_DATA_DIR", str(ROOT.parent / "shared" / "data" / "upr")),
        MODEL_DIR=str(workdir / "models"),
        RATE_LIMIT_PER_MINUTE="10000000",
        WRITE_QUOTA_PER_HOUR="10000000",
        AUTH_FAILURES_PER_MINUTE="10000000",
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
    )
    return env


def cli(args: list[str], env: dict[str, str], cwd: Path) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "app.cli", *args], env=env, cwd=cwd, check=True, capture_output=True, text=True
    )
    return out.stdout


def wait_ready(base: str, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            u = urllib.parse.urlsplit(base)
            c = http.client.HTTPConnection(u.hostname, u.port, timeout=5)
            c.request("GET", "/health/ready")
            if c.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"server at {base} not ready after {timeout:.0f} s")


def server_pids(root_pid: int) -> list[int]:
    try:
        import psutil
    except ImportError:
        return []
    p = psutil.Process(root_pid)
    return [root_pid, *[c.pid for c in p.children(recursive=True)]]


def cpu_seconds(pids: list[int]) -> float | None:
    if not pids:
        return None
    import psutil

    total = 0.0
    for pid in pids:
        try:
            t = psutil.Process(pid).cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def pct(sorted_ms: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    k = max(0, min(len(sorted_ms) - 1, round(q / 100 * len(sorted_ms) + 0.5) - 1))
    return sorted_ms[k]


class Client:
    def __init__(self, base: str, key: str | None) -> None:
        u = urllib.parse.urlsplit(base)
        self.conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        self.headers = {"Accept": "application/json"}
        if key:
            self.headers["Authorization"] = f"Bearer {key}"

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, bytes, float]:
        headers = dict(self.headers)
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        t0 = time.perf_counter()
        self.conn.request(method, path, body=data, headers=headers)
        r = self.conn.getresponse()
        payload = r.read()
        return r.status, payload, (time.perf_counter() - t0) * 1000


def measure(
    client: Client, name: str, method: str, paths: list[str], body: Any, n: int, pids: list[int]
) -> dict[str, Any]:
    for i in range(20):  # warm-up (also builds per-worker caches)
        client.call(method, paths[i % len(paths)], body)
    load0 = os.getloadavg()[0]
    cpu0 = cpu_seconds(pids)
    lat, bad = [], 0
    t0 = time.perf_counter()
    for i in range(n):
        status, _, ms = client.call(method, paths[i % len(paths)], body)
        if status >= 400:
            bad += 1
        lat.append(ms)
    wall = time.perf_counter() - t0
    cpu1 = cpu_seconds(pids)
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


def profile_match(db_url: str, need_id: str, n: int = 200) -> str:
    """cProfile the service function in-process, against the same database."""
    os.environ["DATABASE_URL"] = db_url
    sys.path.insert(0, str(ROOT))
    from sqlmodel import Session

    from app.config import get_settings
    from app.db import create_db_engine
    from app.identity import ANONYMOUS
    from app.services.match_index import MatchIndex
    from app.services.matching import match_providers_for_need
    from matching.ranking import NO_FILTERS

    get_settings.cache_clear()
    settings = get_settings()
    engine = create_db_engine(settings)
    index = MatchIndex(settings)
    with Session(engine) as s:
        index.load(s)

    def once() -> None:
        with Session(engine) as s:
            res = match_providers_for_need(
                s, index, principal=ANONYMOUS, need_id=need_id, filters=NO_FILTERS, limit=10, min_score=0.0
            )
            res.model_dump_json()  # the route serialises the answer too

    for _ in range(10):
        once()
    c0 = time.process_time()
    t0 = time.perf_counter()
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(n):
        once()
    prof.disable()
    wall = (time.perf_counter() - t0) / n * 1000
    cpu = (time.process_time() - c0) / n * 1000
    # Same loop without the profiler, for the true cost per call.
    c1, t1 = time.process_time(), time.perf_counter()
    for _ in range(n):
        once()
    plain_wall = (time.perf_counter() - t1) / n * 1000
    plain_cpu = (time.process_time() - c1) / n * 1000
    out = io.StringIO()
    out.write(
        f"match_providers_for_need + JSON, {n} calls, need {need_id}: "
        f"{plain_wall:.2f} ms wall / {plain_cpu:.2f} ms CPU per call without profiler "
        f"({wall:.2f} / {cpu:.2f} ms under cProfile), load {os.getloadavg()[0]:.1f}\n"
    )
    st = pstats.Stats(prof, stream=out).strip_dirs()
    st.sort_stats("cumulative").print_stats(35)
    st.sort_stats("tottime").print_stats(20)
    engine.dispose()
    return out.getvalue()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", help="measure this running server instead of starting one")
    ap.add_argument("--pid", type=int, help="with --url: the server's master pid, for CPU time per request")
    ap.add_argument("--db-url", help="with --url: its DATABASE_URL, for the in-process profile")
    ap.add_argument("--sqlite", type=Path, help="copy this loaded demo SQLite database instead of loading one")
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--key", help="send this API key (default: anonymous)")
    ap.add_argument("--no-profile", dest="profile", action="store_false")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="upr-http-bench-"))
    proc = None
    db_url = args.db_url
    try:
        if args.url:
            base = args.url.rstrip("/")
            pids = server_pids(args.pid) if args.pid else []
        else:
            db = tmp / "upr.db"
            db_url = f"sqlite:///{db}"
            env = server_env(db_url, tmp)
            if args.sqlite:
                shutil.copy(args.sqlite, db)
                print(f"copied {args.sqlite} -> {db}")
            else:
                t = time.perf_counter()
                cli(["migrate"], env, tmp)
                cli(["demo", "load", "--key-file", str(tmp / "admin_key")], env, tmp)
                print(f"demo data loaded in {time.perf_counter() - t:.0f} s")
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            log = open(tmp / "server.log", "w")  # noqa: SIM115 - open while the server runs
            proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "app.cli",
                    "serve",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--workers",
                    str(args.workers),
                ],
                env=env,
                cwd=tmp,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            wait_ready(base)
            time.sleep(2)  # let both workers finish start-up
            pids = server_pids(proc.pid)

        client = Client(base, args.key)
        status, body, _ = client.call("GET", "/v1/needs?limit=50")
        needs = [n["id"] for n in json.loads(body)["items"]]
        if status != 200 or not needs:
            raise SystemExit(f"no needs to match (GET /v1/needs -> {status}); load the demo data")
        q = urllib.parse.quote("torture optional protocol")
        theme = urllib.parse.quote("Women's rights")
        match_body = {
            "text": (
                "Ratify the Optional Protocol to the Convention against Torture "
                "and set up a national preventive mechanism"
            )
        }
        plan = [
            ("GET /health/live", "GET", ["/health/live"], None),
            ("GET /v1/needs/{id}/matches", "GET", [f"/v1/needs/{i}/matches" for i in needs], None),
            ("GET /v1/recommendations?state=MEX&limit=20", "GET", ["/v1/recommendations?state=MEX&limit=20"], None),
            ("GET /v1/recommendations?q=torture optional protocol", "GET", [f"/v1/recommendations?q={q}"], None),
            ("POST /v1/match", "POST", ["/v1/match"], match_body),
            # The search page: one list and one facet pass, plus one facet pass per theme or
            # affected-group filter in force (its other values stay on offer).
            ("GET /recommendations (page)", "GET", ["/recommendations"], None),
            (
                "GET /recommendations?state=MEX&sort=newest (page)",
                "GET",
                ["/recommendations?state=MEX&sort=newest"],
                None,
            ),
            (
                "GET /recommendations?state=MEX&theme=... (page)",
                "GET",
                [f"/recommendations?state=MEX&theme={theme}"],
                None,
            ),
        ]
        print(
            f"server {base}, {args.workers} workers, {len(needs)} needs, N={args.n} per endpoint, "
            "one keep-alive connection"
        )
        print(f"nproc {os.cpu_count()}, load average at start {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        rows = [measure(client, name, m, paths, body, args.n, pids) for name, m, paths, body in plan]

        head = (
            f"{'endpoint':<52} {'n':>5} {'err':>4} {'p50 ms':>7} {'p90 ms':>7} {'p99 ms':>7} {'max ms':>7} "
            f"{'req/s':>6} {'srv CPU ms/req':>14} {'load1':>5}"
        )
        print(head)
        print("-" * len(head))
        for r in rows:
            cpu = f"{r['cpu_ms']:.2f}" if r["cpu_ms"] is not None else "n/a"
            print(
                f"{r['name']:<52} {r['n']:>5} {r['errors']:>4} {r['p50']:>7.2f} {r['p90']:>7.2f} {r['p99']:>7.2f} "
                f"{r['max']:>7.1f} {r['rps']:>6.0f} {cpu:>14} {r['load']:>5.1f}"
            )
        live, match = rows[0], rows[1]
        ratio = match["p50"] / live["p50"]
        met = ratio <= TARGET_RATIO
        print(
            f"\nratio needs/{{id}}/matches p50 / health/live p50 = {match['p50']:.2f} / {live['p50']:.2f} "
            f"= {ratio:.1f}x "
            f"(target <= {TARGET_RATIO:.0f}x): {'MET' if met else 'NOT MET'}"
        )
        if live["cpu_ms"] and match["cpu_ms"]:
            print(
                f"server CPU per request: matches {match['cpu_ms']:.2f} ms vs live {live['cpu_ms']:.2f} ms "
                f"= {match['cpu_ms'] / live['cpu_ms']:.1f}x"
            )
        if not met and args.profile and db_url:
            print("\nprofile of the match request (in-process, cProfile):")
            print(profile_match(db_url, needs[0]))
        elif not met and args.profile:
            print("(no profile: pass --db-url with --url)")
    finally:
        if proc is not None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    try:
        main()
    except SystemExit as exc:
        print(exc, file=sys.stderr)
    sys.exit(0)
