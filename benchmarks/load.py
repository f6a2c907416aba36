"""Load gates for upr-match (BENCHMARKS.md, "Service"): drives locust headless.

Starts `upr-match serve --workers 2` with the trained tagger (trained once into
`benchmarks/out/models`, or `--model-dir`) on `--db-url` (which must hold the demo data:
`upr-match migrate && upr-match demo load`), by default on a copy of the cached demo SQLite
database (`benchmarks/service_setup.py`: the state `make run` leaves); or uses a running server
(`--url`, with `--server-pid` for CPU/RSS sampling and `--server-log` for the lock grep).
Runs each scenario with `python -m locust -f benchmarks/locustfile.py --headless
... --csv ...`, parses the CSV stats, prints a table per scenario and the pass/fail
of each target, and exits 1 when any gate fails (it is a gate script).

Arrivals (`--arrivals`): `poisson` (default), each user an independent visitor sending 1 request a
second on average; `lockstep`, locust's `constant_throughput`, under which the users fall into step
and every second's requests arrive together (see benchmarks/locustfile.py). The run prints how the
requests arrived (per 100 ms, from the server's log) next to the server-side times.

Scenarios (targets in parentheses):
  read    ReadUser,  100 users x 1 req/s, 5 min  (p50 < 50 ms, p99 < 250 ms, 0 failures)
  match   MatchUser,  20 users x 1 req/s, 3 min  (p99 < 200 ms, 0 failures)
  writes  MixedUser,  50 users x 1 task/s, 3 min, ~10% writes; SQLite
          (0 "database is locked" in the server log, p99 < 500 ms, 0 failures; 409/412 are expected)
  soak    SoakUser,   50 users x 1 req/s, 30 min, RSS sampled every 30 s
          (RSS growth < 10% from minute 5 to the end, 0 failures)
  capacity  ReadUser at 50, 100, 150... req/s (`--step-duration` each, default 60 s) until p99
          reaches 500 ms or a request fails; reports the highest rate whose p99 stayed under it
          (goal >= 300 req/s on 2 workers / 2 cores, locust on the same machine)

    python benchmarks/load.py --scenario read capacity          # demo SQLite copy, trained tagger
    python benchmarks/load.py --db-url postgresql+psycopg://postgres@127.0.0.1:55601/postgres --scenario read match
    python benchmarks/load.py --db-url sqlite:////tmp/copy-of-demo.db --scenario writes
    python benchmarks/load.py --db-url postgresql+psycopg://... --scenario soak [--duration 30m]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LOCUSTFILE = ROOT / "benchmarks" / "locustfile.py"
sys.path.insert(0, str(ROOT))

from benchmarks import service_setup  # noqa: E402


@dataclass
class Scenario:
    name: str
    user_class: str
    users: int
    duration: str
    p50_ms: float | None = None
    p99_ms: float | None = None
    lock_grep: bool = False
    rss: bool = False
    notes: list[str] = field(default_factory=list)


SCENARIOS = {
    "read": Scenario("read", "ReadUser", 100, "5m", p50_ms=50, p99_ms=250),
    "match": Scenario("match", "MatchUser", 20, "3m", p99_ms=200),
    "writes": Scenario("writes", "MixedUser", 50, "3m", p99_ms=500, lock_grep=True),
    "soak": Scenario("soak", "SoakUser", 50, "30m", rss=True),
    "capacity": Scenario("capacity", "ReadUser", 50, "60s", p99_ms=500),
}
CAPACITY_STEP = 50


def seconds(duration: str) -> int:
    m = re.fullmatch(r"(\d+)([smh]?)", duration)
    if not m:
        raise SystemExit(f"bad duration {duration!r}")
    return int(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[m.group(2)]


def cli_key(env: dict[str, str], cwd: Path, *args: str) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "app.cli", "keys", "create", *args],
        env=env,
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip().splitlines()[-1].strip()


class Sampler(threading.Thread):
    """Every `every` seconds: load average, server CPU seconds, RSS per server process, DB connections."""

    def __init__(self, root_pid: int | None, every: float, db_url: str | None) -> None:
        super().__init__(daemon=True)
        self.root_pid, self.every, self.db_url = root_pid, every, db_url
        self.samples: list[dict[str, Any]] = []
        self.stop_event = threading.Event()

    def _procs(self) -> list[Any]:
        if not self.root_pid:
            return []
        import psutil

        try:
            root = psutil.Process(self.root_pid)
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def _db_connections(self) -> int | None:
        if not self.db_url or not self.db_url.startswith("postgresql"):
            return None
        try:
            import psycopg

            url = self.db_url.replace("postgresql+psycopg://", "postgresql://")
            with psycopg.connect(url, connect_timeout=3) as c:
                row = c.execute(
                    "select count(*) from pg_stat_activity "
                    "where datname = current_database() and pid <> pg_backend_pid()"
                ).fetchone()
                return int(row[0]) if row else None
        except Exception:  # noqa: BLE001 - a sample is optional
            return None

    def sample(self, t0: float) -> dict[str, Any]:
        import psutil

        s: dict[str, Any] = {
            "t": time.monotonic() - t0,
            "load1": os.getloadavg()[0],
            "cpu_s": 0.0,
            "rss": {},
            "workers": [],
        }
        for p in self._procs():
            try:
                ct = p.cpu_times()
                s["cpu_s"] += ct.user + ct.system
                s["rss"][p.pid] = p.memory_info().rss
                if "spawn_main" in " ".join(p.cmdline()):  # uvicorn's workers (multiprocessing spawn)
                    s["workers"].append(p.pid)
            except psutil.NoSuchProcess:
                pass
        s["db_conns"] = self._db_connections()
        return s

    def run(self) -> None:
        t0 = time.monotonic()
        while True:
            self.samples.append(self.sample(t0))
            if self.stop_event.wait(self.every):
                self.samples.append(self.sample(t0))
                return


def label(row: dict[str, str]) -> str:
    """The request name, with the method in front unless the name already starts with it."""
    name = row["Name"]
    return name if name == "Aggregated" or name.startswith(row["Type"] + " ") else f"{row['Type']} {name}"


def read_stats(prefix: Path) -> list[dict[str, str]]:
    with open(f"{prefix}_stats.csv", newline="") as f:
        return list(csv.DictReader(f))


def read_failures(prefix: Path) -> list[dict[str, str]]:
    try:
        with open(f"{prefix}_failures.csv", newline="") as f:
            return list(csv.DictReader(f))
    except FileNotFoundError:
        return []


def num(row: dict[str, str], key: str) -> float:
    v = row.get(key, "")
    return float(v) if v not in ("", "N/A") else float("nan")


def run_scenario(
    sc: Scenario,
    args: argparse.Namespace,
    base: str,
    out: Path,
    env: dict[str, str],
    root_pid: int | None,
    server_log: Path | None,
    users: int | None = None,
) -> tuple[bool, dict[str, Any]]:
    prefix = out / sc.name
    expected_file = out / f"{sc.name}_expected.json"
    duration = sc.duration if users else args.duration or sc.duration
    users = users or args.users or sc.users
    lock_before = count_locked(server_log) if server_log else None
    log_offset = server_log.stat().st_size if server_log and server_log.exists() else 0
    sampler = Sampler(root_pid, 30.0 if sc.rss else 10.0, args.db_url)
    cmd = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "-u",
        str(users),
        "-r",
        str(max(args.spawn_rate, users / 5)),  # every user running within 5 s
        "-t",
        duration,
        "--host",
        base,
        "--csv",
        str(prefix),
        "--only-summary",
        "--stop-timeout",
        "10",
        "--loglevel",
        "WARNING",
        sc.user_class,
    ]
    print(f"\n=== {sc.name}: {' '.join(cmd[1:])}", flush=True)
    start_clock = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    sampler.start()
    t0 = time.monotonic()
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(out / f"{sc.name}_locust.log", "w") as log:
        rc = subprocess.run(
            cmd,
            check=False,
            env={**env, "BENCH_EXPECTED_FILE": str(expected_file), "BENCH_ARRIVALS": args.arrivals},
            stdout=log,
            stderr=subprocess.STDOUT,
        ).returncode
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = time.monotonic() - t0
    locust_cpu = (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)
    sampler.stop_event.set()
    sampler.join()
    rows = read_stats(prefix)
    agg = next(r for r in rows if r["Name"] == "Aggregated")
    samples = sampler.samples
    loads = [s["load1"] for s in samples]
    cpu_pct = (
        (samples[-1]["cpu_s"] - samples[0]["cpu_s"]) / max(1e-9, samples[-1]["t"] - samples[0]["t"]) * 100
        if root_pid
        else None
    )
    requests_total = num(agg, "Request Count")

    print(f"started {start_clock}, wall {wall:.0f} s, locust exit {rc}, {users} users")
    head = f"{'request':<44} {'count':>7} {'fail':>5} {'p50':>6} {'p90':>6} {'p99':>6} {'max':>7} {'req/s':>6}"
    print(head)
    print("-" * len(head))
    for r in sorted(rows, key=lambda r: (r["Name"] == "Aggregated", r["Name"])):
        print(
            f"{label(r)[:44]:<44} "
            f"{int(num(r, 'Request Count')):>7} {int(num(r, 'Failure Count')):>5} "
            f"{num(r, '50%'):>6.0f} {num(r, '90%'):>6.0f} "
            f"{num(r, '99%'):>6.0f} {num(r, 'Max Response Time'):>7.0f} {num(r, 'Requests/s'):>6.1f}"
        )
    print("(ms; locust rounds times above 100 ms to 2 significant digits)")
    print(
        f"load average 1 min during the run: mean {sum(loads) / len(loads):.1f}, "
        f"min {min(loads):.1f}, max {max(loads):.1f}"
        + (
            f"; server CPU {cpu_pct:.0f}% of one core (2 cores), "
            f"{cpu_pct * 10 / max(1, num(agg, 'Requests/s')):.1f} ms CPU per request"
            if cpu_pct is not None
            else ""
        )
        + f"; locust CPU {locust_cpu / wall * 100:.0f}% of one core"
    )
    if server_log and server_log.exists():
        logged = served(server_log, log_offset)
        if logged:
            times = [ms for _, ms in logged]
            mean, most = arrival_bursts([t for t, _ in logged])
            print(
                f"server-side time (app.access log, {len(times)} requests): p50 {pct(times, 50):.1f} ms, "
                f"p90 {pct(times, 90):.1f} ms, p99 {pct(times, 99):.1f} ms; "
                f"arrivals per 100 ms: mean {mean:.1f}, most {most} ({args.arrivals})"
            )
    conns = [s["db_conns"] for s in samples if s.get("db_conns") is not None]
    if conns:
        print(f"PostgreSQL connections from the server (sampled): max {max(conns)}, last {conns[-1]}")
    expected = json.loads(expected_file.read_text()) if expected_file.exists() else {}
    if expected:
        print("expected non-2xx (not failures): " + ", ".join(f"{k}: {v}" for k, v in expected.items()))

    checks: list[tuple[str, bool, str]] = []
    failures = int(num(agg, "Failure Count"))
    checks.append(("0 failures", failures == 0, f"{failures} of {int(requests_total)}"))
    if sc.p50_ms is not None:
        v = num(agg, "50%")
        checks.append((f"p50 < {sc.p50_ms:.0f} ms", v < sc.p50_ms, f"{v:.0f} ms"))
    if sc.p99_ms is not None:
        v = num(agg, "99%")
        checks.append((f"p99 < {sc.p99_ms:.0f} ms", v < sc.p99_ms, f"{v:.0f} ms"))
    target_rps = users * 1.0
    achieved = num(agg, "Requests/s")
    print(f"throughput: {achieved:.1f} req/s achieved for {target_rps:.0f} req/s offered (users x 1/s)")
    if sc.lock_grep:
        if server_log:
            locked = count_locked(server_log) - (lock_before or 0)
            checks.append(('0 "database is locked" in the server log', locked == 0, str(locked)))
        else:
            checks.append(('0 "database is locked" in the server log', False, "no server log (pass --server-log)"))
    rss_result: dict[str, Any] = {}
    if sc.rss:
        rss_result = rss_growth(samples)
        for line in rss_result["lines"]:
            print(line)
        checks.append(("RSS growth < 10% (minute 5 to end)", rss_result["ok"], rss_result["summary"]))
    failed_rows = read_failures(prefix)
    for f in failed_rows[:10]:
        print(f"  failure: {f.get('Method')} {f.get('Name')}: {f.get('Error', '')[:160]} x{f.get('Occurrences')}")
    ok = True
    print(f"targets ({sc.name}):")
    for name, passed, detail in checks:
        ok &= passed
        print(f"  [{'PASS' if passed else 'FAIL'}] {name}: {detail}")
    summary = {
        "scenario": sc.name,
        "started": start_clock,
        "users": users,
        "duration": duration,
        "ok": ok,
        "checks": [{"name": n, "pass": p, "value": d} for n, p, d in checks],
        "rps": achieved,
        "load_mean": sum(loads) / len(loads),
        "server_cpu_pct": cpu_pct,
        "locust_cpu_s": locust_cpu,
        "expected": expected,
        "samples": samples,
    }
    (out / f"{sc.name}_summary.json").write_text(json.dumps(summary, indent=1, default=str))
    return ok, summary


def rss_growth(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """Compare the sample nearest minute 5 with the last one: total RSS of the workers, and each process."""
    if len(samples) < 2 or not samples[0]["rss"]:
        return {"ok": False, "summary": "no RSS samples (pass --server-pid)", "lines": []}
    pick = min(samples, key=lambda s: abs(s["t"] - 300))
    last = samples[-1]
    lines = [
        "workers' total RSS (MiB) every 30 s, t in s: "
        + " ".join(f"{s['t']:.0f}:{sum(s['rss'][p] for p in s['workers']) / 2**20:.0f}" for s in samples)
    ]
    others = {p: v for p, v in last["rss"].items() if p not in last["workers"]}
    lines.append(
        "  other server processes (supervisor, resource tracker), MiB at end: "
        + ", ".join(f"{p}: {v / 2**20:.1f}" for p, v in others.items())
    )
    workers = [p for p in last["workers"] if p in pick["rss"]]
    before = sum(pick["rss"][p] for p in workers)
    after = sum(last["rss"][p] for p in workers)
    growth = (after - before) / before * 100 if before else float("nan")
    for p in workers:
        g = (last["rss"][p] - pick["rss"][p]) / pick["rss"][p] * 100
        lines.append(
            f"  worker {p}: {pick['rss'][p] / 2**20:.1f} MiB at t={pick['t']:.0f} s -> "
            f"{last['rss'][p] / 2**20:.1f} MiB at t={last['t']:.0f} s ({g:+.1f}%)"
        )
    if len(workers) == 0:
        return {"ok": False, "summary": "workers changed during the run (restarted?)", "lines": lines}
    summary = (
        f"workers' total {before / 2**20:.1f} -> {after / 2**20:.1f} MiB ({growth:+.1f}%) "
        f"from t={pick['t']:.0f} s to t={last['t']:.0f} s"
    )
    return {"ok": growth < 10, "summary": summary, "lines": lines, "growth_pct": growth}


ACCESS = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),(\d{3}) .* app\.access: \S+ \S+ \d{3} ([\d.]+)ms")


def served(path: Path, offset: int) -> list[tuple[float, float]]:
    """(arrival time in s, duration in ms) of each request the server logged (middleware), from `offset` on.

    The durations exclude client and socket queueing; the arrival is the log time less the duration.
    """
    out = []
    with open(path, "rb") as f:
        f.seek(offset)
        for line in f.read().decode(errors="replace").splitlines():
            if m := ACCESS.search(line):
                ended = time.mktime(time.strptime(m.group(1), "%Y-%m-%d %H:%M:%S")) + int(m.group(2)) / 1000
                out.append((ended - float(m.group(3)) / 1000, float(m.group(3))))
    return out


def arrival_bursts(arrivals: list[float], window: float = 0.1) -> tuple[float, int]:
    """(mean, most) requests arriving in one `window` of the run: how evenly the load came."""
    if len(arrivals) < 2:
        return 0.0, len(arrivals)
    first = min(arrivals)
    counts: dict[int, int] = {}
    for t in arrivals:
        counts[int((t - first) / window)] = counts.get(int((t - first) / window), 0) + 1
    windows = int((max(arrivals) - first) / window) + 1
    return len(arrivals) / windows, max(counts.values())


def pct(values: list[float], q: float) -> float:
    v = sorted(values)
    return v[max(0, min(len(v) - 1, round(q / 100 * len(v) + 0.5) - 1))]


def count_locked(path: Path) -> int:
    try:
        return sum(1 for line in open(path, errors="replace") if "database is locked" in line.lower())
    except FileNotFoundError:
        return 0


def capacity(
    args: argparse.Namespace, base: str, out: Path, env: dict[str, str], root_pid: int | None, server_log: Path | None
) -> tuple[bool, dict[str, Any]]:
    """The read mix at 50, 100, 150... req/s until p99 reaches 500 ms or a request fails."""
    steps: list[dict[str, Any]] = []
    rate, best = args.start_rate, 0
    while rate <= args.max_rate:
        step = Scenario(f"capacity-{rate}", "ReadUser", rate, args.step_duration, p99_ms=500)
        ok, summary = run_scenario(step, args, base, out, env, root_pid, server_log, users=rate)
        steps.append(
            {"rate": rate, "ok": ok, "rps": summary["rps"], "load": summary["load_mean"], "checks": summary["checks"]}
        )
        if not ok:
            break
        best = rate
        rate += CAPACITY_STEP
    print("\n=== capacity (read mix, locust on the same machine)")
    for found in steps:
        detail = "; ".join(f"{c['name']}: {c['value']}" for c in found["checks"])
        print(f"  {found['rate']:>4} req/s offered: {found['rps']:.1f} achieved, {detail}, load {found['load']:.1f}")
    print(f"capacity: {best} req/s (highest step with p99 < 500 ms and no failure; goal >= 300)")
    summary = {
        "scenario": "capacity",
        "ok": best >= 300,
        "checks": [{"name": "capacity >= 300 req/s", "pass": best >= 300, "value": f"{best} req/s"}],
        "load_mean": sum(f["load"] for f in steps) / max(1, len(steps)),
        "steps": steps,
    }
    (out / "capacity_summary.json").write_text(json.dumps(summary, indent=1, default=str))
    return best >= 300, summary


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scenario", nargs="+", choices=list(SCENARIOS), default=["read", "match"])
    ap.add_argument("--db-url", help="DATABASE_URL of a demo database (default: a copy of the cached demo SQLite)")
    ap.add_argument("--model-dir", type=Path, help="the trained tagger (default: trained once, cached)")
    ap.add_argument("--url", help="use this running server instead of starting one")
    ap.add_argument("--server-pid", type=int, help="with --url: the server's supervisor pid (CPU and RSS)")
    ap.add_argument("--server-log", type=Path, help="with --url: its log, for the lock grep")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--duration", help="override every scenario's duration (e.g. 10m)")
    ap.add_argument("--users", type=int, help="override every scenario's user count")
    ap.add_argument("--spawn-rate", type=float, default=20)
    ap.add_argument(
        "--arrivals",
        choices=("poisson", "lockstep"),
        default="poisson",
        help="poisson: independent users (default); lockstep: locust's constant_throughput, bursts (locustfile.py)",
    )
    ap.add_argument("--step-duration", default="60s", help="capacity: how long each rate is held")
    ap.add_argument("--max-rate", type=int, default=600, help="capacity: the highest rate tried (req/s)")
    ap.add_argument(
        "--start-rate", type=int, default=CAPACITY_STEP, help="capacity: the first rate tried (req/s, a multiple of 50)"
    )
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out")
    args = ap.parse_args()

    out = args.out / time.strftime("%Y%m%d-%H%M%S")
    out.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="upr-load-"))
    model_dir = service_setup.trained_tagger(args.model_dir) if not args.url else Path(".")
    if not args.url and not args.db_url:
        args.db_url = service_setup.demo_database(workdir / "upr.db", model_dir)
    env = service_setup.server_env(args.db_url or "", model_dir, LOG_LEVEL="INFO")
    proc = None
    server_log = args.server_log
    root_pid = args.server_pid
    try:
        if any(SCENARIOS[s].user_class == "MixedUser" for s in args.scenario):
            if not args.db_url:
                raise SystemExit("the writes scenario needs --db-url to create keys")
            env["BENCH_ADMIN_KEY"] = cli_key(env, workdir, "--role", "admin", "--name", "bench-admin")
            env["BENCH_STATE_KEYS"] = ",".join(
                f"{st}:{cli_key(env, workdir, '--role', 'state', '--state', st, '--name', f'bench-{st}')}"
                for st in ("MEX", "LSO", "KHM", "GEO", "SVN")
            )
        if args.url:
            base = args.url.rstrip("/")
        else:
            server_log = out / "server.log"
            proc, base = service_setup.start_server(env, workdir, args.workers, server_log)
            time.sleep(1)  # both workers up and their indexes built
            root_pid = proc.pid
        print(f"server {base} ({args.workers} workers, {args.db_url or 'running'}), output in {out}")
        print(f"nproc {os.cpu_count()}, load average at start {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        results = []
        for name in args.scenario:
            if name == "capacity":
                ok, summary = capacity(args, base, out, env, root_pid, server_log)
            else:
                ok, summary = run_scenario(SCENARIOS[name], args, base, out, env, root_pid, server_log)
            results.append((name, ok, summary))
        print("\n=== gates")
        for name, ok, summary in results:
            detail = "; ".join(
                f"{c['name']}: {c['value']} {'PASS' if c['pass'] else 'FAIL'}" for c in summary["checks"]
            )
            print(f"{name:<8} {'PASS' if ok else 'FAIL'}  ({detail}; load avg {summary['load_mean']:.1f})")
        return 0 if all(ok for _, ok, _ in results) else 1
    finally:
        if proc is not None:
            service_setup.stop_server(proc)
        shutil.rmtree(workdir, ignore_errors=True)  # the copy of the database; the results are in `out`


if __name__ == "__main__":
    sys.exit(main())
