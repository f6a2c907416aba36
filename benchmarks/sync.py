"""Benchmark `upr-match sync` end to end at the size of OHCHR's export, served from a local server.

Run:  python benchmarks/sync.py [--size-mb 360] [--database-url URL] [--keep]

1. writes a synthetic `export-full-en.json` of about --size-mb MB in a temporary folder: the
   shared UHRI sample (UPR_DATA_DIR/samples/uhri-export-sample.json) replicated with fresh
   AnnotationIds, 130 of every 270 records UPR recommendations as in the real export (the
   others are treaty-body and special-procedure records, which the sync skips);
2. serves it with `benchmarks/export_server.py` (ETag, Last-Modified, ranges) in a process of
   its own, and migrates a fresh database (SQLite in the folder unless --database-url);
3. runs `upr-match sync --url ...` three times as a child process, each timed (wall, CPU) with the
   child's peak RSS (wait4's ru_maxrss: the whole sync process): the full sync; a second one
   (the server answers 304); then, after 1% of the UPR records' texts are edited (the file
   written again, so a new ETag), a sync of the changed file.

Targets (issue 26): full sync <= 240 s and <= 500 MB peak RSS on 2 cores; 304 <= 2 s; the 1%
changed file <= 90 s. Exits 1 when one is missed. A quick check of the script: --size-mb 20.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"full_s": 240.0, "full_rss_mb": 500.0, "not_modified_s": 2.0, "changed_s": 90.0}
NAMESPACE = uuid.UUID("0c7e1f52-8a40-4f0e-9d4b-3b1b6f2b9a77")


def write_export(sample: Path, target: Path, size_mb: float, *, edit_every: int = 0) -> tuple[int, int, int]:
    """Write the synthetic export; (records, UPR records, bytes). Every `edit_every`-th UPR text is edited."""
    rows: list[dict[str, Any]] = json.loads(sample.read_text(encoding="utf-8"))
    upr_rows = [r for r in rows if r.get("Body") == "- UPR"]
    other_rows = [r for r in rows if r.get("Body") != "- UPR"]
    per_record = sum(len(json.dumps(r, ensure_ascii=False).encode()) + 2 for r in rows) / len(rows)
    records = int(size_mb * 1e6 / per_record)
    with target.open("w", encoding="utf-8") as out:
        out.write("[\n")
        for n in range(records):
            is_upr = n % 270 < 130
            base = upr_rows[n % len(upr_rows)] if is_upr else other_rows[n % len(other_rows)]
            record = dict(base, AnnotationId=str(uuid.uuid5(NAMESPACE, str(n))))
            if is_upr and edit_every and n % edit_every == 0:
                record["Text"] = record["Text"].replace(" ", " revised ", 1)
            if n:
                out.write(",\n")
            out.write(json.dumps(record, ensure_ascii=False))
        out.write("\n]\n")
    upr = sum(1 for n in range(records) if n % 270 < 130)
    return records, upr, target.stat().st_size


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def run_sync(env: dict[str, str], url: str) -> tuple[float, float, float, str, int]:
    """Wall s, CPU s, peak RSS MB, output and exit code of one `upr-match sync` child."""
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "sync", "--url", url],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert child.stdout is not None
    output = child.stdout.read().decode()
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    return (
        wall,
        usage.ru_utime + usage.ru_stime,
        usage.ru_maxrss / 1024,
        output.strip(),
        os.waitstatus_to_exitcode(status),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mb", type=float, default=360.0)
    parser.add_argument(
        "--data", type=Path, default=Path(os.environ.get("UPR_DATA_DIR", ROOT.parent / "shared/data/upr"))
    )
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file in the temporary folder")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (its path is printed)")
    args = parser.parse_args()
    sample = args.data / "samples" / "uhri-export-sample.json"
    if not sample.is_file():
        raise SystemExit(f"no sample at {sample}; set UPR_DATA_DIR or --data")
    folder = Path(tempfile.mkdtemp(prefix="sync-bench-"))
    site = folder / "site"
    site.mkdir()
    export = site / "export-full-en.json"
    started = time.perf_counter()
    records, upr, size = write_export(sample, export, args.size_mb)
    print(
        f"synthetic export: {records} records ({upr} UPR), {size / 1e6:.0f} MB, "
        f"written in {time.perf_counter() - started:.1f} s -> {export}"
    )
    url = args.database_url or f"sqlite:///{folder / 'bench.db'}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "PYTHONPATH": str(ROOT),
        "MODEL_DIR": str(folder / "models"),
        "SYNC_DIR": str(folder / "sync"),
    }
    subprocess.run([sys.executable, "-m", "app.cli", "migrate"], cwd=ROOT, env=env, check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "benchmarks" / "export_server.py"), str(export), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    source = f"http://127.0.0.1:{port}/export-full-en.json"
    results: dict[str, tuple[float, float, float]] = {}
    try:
        assert server.stdout is not None
        server.stdout.readline()  # "serving ...": it listens
        print(
            f"machine: {platform.platform()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; {url.split(':')[0]}"
        )
        for name in ("full", "not_modified", "changed"):
            if name == "changed":
                began = time.perf_counter()
                _, _, size = write_export(sample, export, args.size_mb, edit_every=100)
                later = time.time() + 60
                os.utime(export, (later, later))
                print(f"1% of the UPR texts edited, file written again in {time.perf_counter() - began:.1f} s")
            load = os.getloadavg()[0]
            wall, cpu, rss, output, code = run_sync(env, source)
            if code != 0:
                raise SystemExit(f"sync failed ({code}):\n{output}")
            results[name] = (wall, cpu, rss)
            print(f"{name}: {wall:.1f} s wall, {cpu:.1f} s CPU, peak RSS {rss:.0f} MB, load {load:.1f} | {output}")
    finally:
        server.terminate()
        server.wait()
    checks = {
        "full_s": results["full"][0],
        "full_rss_mb": results["full"][2],
        "not_modified_s": results["not_modified"][0],
        "changed_s": results["changed"][0],
    }
    missed = [f"{k} {v:.1f} > {TARGETS[k]}" for k, v in checks.items() if v > TARGETS[k]]
    print("targets: " + ("all met" if not missed else "MISSED " + "; ".join(missed)))
    if args.keep:
        print(f"kept {folder}")
    else:
        for path in sorted(folder.rglob("*"), reverse=True):
            path.unlink() if path.is_file() else path.rmdir()
        folder.rmdir()
    sys.exit(1 if missed else 0)


if __name__ == "__main__":
    main()
