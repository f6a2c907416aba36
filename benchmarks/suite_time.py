"""How long the test suite takes in a fresh clone: `make test` (and `make test-fast` with --fast).

Clones this checkout (its committed HEAD) into a temporary folder, links the shared data
beside the clone as `../shared` (where the project looks for it), then runs each target there
and prints its elapsed time with the load average before and after (the machine may be shared:
a time means little without it). The first target pays for the venv and the install (pip's
cache makes it quick); the times of both are printed as they are.

    python benchmarks/suite_time.py                  # make test
    python benchmarks/suite_time.py --fast           # make test-fast, then make test
    python benchmarks/suite_time.py --fast-only      # make test-fast
    python benchmarks/suite_time.py --keep           # leave the clone (its path is printed)

Prints the last lines of each run (pytest's summary; with --keep the whole log, the 50 slowest
tests included, stays beside the clone). Exits non-zero if a run failed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def run_target(clone: Path, target: str, log: Path, pytest_args: str) -> int:
    print(f"== make {target} in {clone} (load average before: {load_average()})", flush=True)
    started = time.perf_counter()
    with open(log, "wb") as out:
        command = ["make", target, f"PYTEST_ARGS={pytest_args}"]
        rc = subprocess.run(command, cwd=clone, stdout=out, stderr=subprocess.STDOUT).returncode
    elapsed = time.perf_counter() - started
    tail = log.read_text(encoding="utf-8", errors="replace").rstrip().splitlines()[-3:]
    print("\n".join(f"   {line}" for line in tail))
    print(
        f"== make {target}: exit {rc}, {elapsed:.0f} s ({elapsed / 60:.1f} min); "
        f"load average after: {load_average()}; log {log}",
        flush=True,
    )
    return rc


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fast", action="store_true", help="run make test-fast first, then make test")
    parser.add_argument("--fast-only", action="store_true", help="run make test-fast only")
    parser.add_argument("--keep", action="store_true", help="keep the clone and the logs")
    parser.add_argument(
        "--pytest-args", default="--durations=50", help="passed as PYTEST_ARGS (default: the 50 slowest tests)"
    )
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared", help="the shared data folder")
    args = parser.parse_args()

    if not args.shared.is_dir():
        print(f"no shared data at {args.shared}: the suite would skip the tests that read it", file=sys.stderr)
    home = Path(tempfile.mkdtemp(prefix="upr-suite-time-"))
    clone = home / "upr-match"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    if args.shared.is_dir():
        (home / "shared").symlink_to(args.shared.resolve())
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=clone, capture_output=True, text=True)
    print(f"clone of {ROOT} at {head.stdout.strip()} in {clone} ({os.cpu_count()} cores)", flush=True)

    targets = ["test-fast"] if args.fast_only else (["test-fast", "test"] if args.fast else ["test"])
    failed = 0
    try:
        for target in targets:
            failed |= run_target(clone, target, home / f"{target}.log", args.pytest_args) != 0
    finally:
        if args.keep:
            print(f"kept {home}")
        else:
            shutil.rmtree(home, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
