"""Benchmark the UHRI import at the size of the real export: time and peak memory, import and re-import.

Run:  python benchmarks/uhri_import.py [--records 270000] [--upr 130000] [--database-url URL] [--keep]

1. writes a synthetic `export-full-en.json` in a temporary folder: the 2,292-record sample
   (UPR_DATA_DIR/samples/uhri-export-sample.json) replicated with fresh AnnotationIds to
   --records records, --upr of them UPR recommendations (the others are its treaty-body and
   special-procedure records, which the importer skips), written record by record;
2. imports it into a fresh database (SQLite in the temporary folder unless --database-url)
   with `upr-match import-recommendations` in a child process, then imports it again (nothing
   changed), reporting each run's wall time, CPU time and the child's peak RSS (wait4's
   ru_maxrss: the whole process, Python, the parser, the database driver).

Targets (the issue's): import <= 150 s and peak RSS <= 500 MB on 2 cores; re-import <= 60 s.
Exits 1 when one is missed. A small run checks the script: --records 20000.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"import_s": 150.0, "import_rss_mb": 500.0, "reimport_s": 60.0}
NAMESPACE = uuid.UUID("6f1d3c1e-5b7a-4a53-9a3e-2f1f8e8d0c11")


def write_export(sample: Path, target: Path, records: int, upr: int) -> int:
    """Write the synthetic export; the file's size in bytes."""
    rows: list[dict[str, Any]] = json.loads(sample.read_text(encoding="utf-8"))
    upr_rows = [r for r in rows if r.get("Body") == "- UPR"]
    other_rows = [r for r in rows if r.get("Body") != "- UPR"]
    with target.open("w", encoding="utf-8") as out:
        out.write("[\n")
        for n in range(records):
            base = upr_rows[n % len(upr_rows)] if n < upr else other_rows[n % len(other_rows)]
            record = dict(base, AnnotationId=str(uuid.uuid5(NAMESPACE, str(n))))
            if n:
                out.write(",\n")
            out.write(json.dumps(record, ensure_ascii=False))
        out.write("\n]\n")
    return target.stat().st_size


def run_child(url: str, path: Path) -> tuple[float, float, float, str]:
    """Wall s, CPU s and peak RSS MB of one `upr-match import-recommendations` child."""
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT), "MODEL_DIR": str(path.parent / "models")}
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "import-recommendations", str(path)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert child.stdout is not None
    output = child.stdout.read().decode()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    if child.returncode != 0:
        raise SystemExit(f"import failed ({child.returncode}):\n{output}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, output.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=270_000)
    parser.add_argument("--upr", type=int, default=None, help="UPR records among them (default 130/270 of --records)")
    parser.add_argument(
        "--data", type=Path, default=Path(os.environ.get("UPR_DATA_DIR", ROOT.parent / "shared/data/upr"))
    )
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file in the temporary folder")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (its path is printed)")
    args = parser.parse_args()
    upr = args.upr if args.upr is not None else round(args.records * 130 / 270)
    sample = args.data / "samples" / "uhri-export-sample.json"
    if not sample.is_file():
        raise SystemExit(f"no sample at {sample}; set UPR_DATA_DIR or --data")
    folder = Path(tempfile.mkdtemp(prefix="uhri-bench-"))
    export = folder / "export-full-en.json"
    started = time.perf_counter()
    size = write_export(sample, export, args.records, upr)
    print(
        f"synthetic export: {args.records} records ({upr} UPR), {size / 1e6:.0f} MB, "
        f"written in {time.perf_counter() - started:.1f} s -> {export}"
    )
    url = args.database_url or f"sqlite:///{folder / 'bench.db'}"
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-m", "app.cli", "migrate"], cwd=ROOT, env=env, check=True, capture_output=True)
    machine = f"{platform.platform()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}"
    print(f"machine: {machine}; database {url.split(':')[0]}")
    results = {}
    for name in ("import", "reimport"):
        wall, cpu, rss, output = run_child(url, export)
        results[name] = (wall, cpu, rss)
        summary = next((line for line in output.splitlines() if line.startswith("rows read")), output)
        print(f"{name}: {wall:.1f} s wall, {cpu:.1f} s CPU, peak RSS {rss:.0f} MB | {summary}")
    checks = {
        "import_s": results["import"][0],
        "import_rss_mb": results["import"][2],
        "reimport_s": results["reimport"][0],
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
