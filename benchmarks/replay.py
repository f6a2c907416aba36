"""Record what the API answers on the demo data, to show that a change leaves every answer as it was.

Starts the server of a checkout (`--code`, default this one) on a copy of the demo database with the
trained tagger, sends a fixed set of requests (every need's and provider's matches with several
options, free-text matches, drafts, lists, search, facets, single items; anonymous and as admin)
and writes every status and JSON body to `--out`. `--compare A B` lists the answers that differ.

    python benchmarks/replay.py --code /path/to/old/checkout --out before.json
    python benchmarks/replay.py --out after.json
    python benchmarks/replay.py --compare before.json after.json
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.http_latency import Client  # noqa: E402
from benchmarks.service_setup import demo_database, server_env, start_server, stop_server, trained_tagger  # noqa: E402

TEXTS = (
    "Ratify the Optional Protocol to the Convention against Torture and set up a national preventive mechanism",
    "Training for judges and prosecutors on gender-based violence and access to justice for women",
    "Strengthen birth registration in rural areas and for indigenous children",
    "Support to draft a law protecting journalists and human rights defenders",
    "Technical assistance for the national human rights institution to comply with the Paris Principles",
    "Improve prison conditions and reduce pre-trial detention",
)


def requests(client: Client) -> list[tuple[str, str, Any]]:
    """(method, path, body) of every request replayed."""
    admin_needs = [n["id"] for n in client.json("/v1/needs?limit=100")["items"]]
    providers = [p["id"] for p in client.json("/v1/providers?limit=100")["items"]]
    out: list[tuple[str, str, Any]] = []
    for nid in admin_needs:
        out += [
            ("GET", f"/v1/needs/{nid}/matches", None),
            ("GET", f"/v1/needs/{nid}/matches?limit=50&min_score=0.1", None),
            ("GET", f"/v1/needs/{nid}/matches?language=en&region=africa&limit=20", None),
            ("GET", f"/v1/needs/{nid}/matches?kind=ngo&country=MEX", None),
            ("GET", f"/v1/needs/{nid}", None),
        ]
    for pid in providers:
        out += [("GET", f"/v1/providers/{pid}/matches?limit=20", None), ("GET", f"/v1/providers/{pid}", None)]
    for i, text in enumerate(TEXTS):
        out += [
            ("POST", "/v1/match", {"text": text}),
            ("POST", "/v1/match", {"text": text, "state": "MEX", "limit": 30}),
            ("POST", "/v1/match", {"text": text, "state": "LSO", "themes": ["Torture and other CID treatment"]}),
            ("POST", "/v1/match", {"text": text, "languages": ["fr"], "regions": ["africa"], "min_score": 0.15}),
            ("POST", "/v1/match", {"text": text, "kinds": ["un_entity"], "modalities": ["training"], "limit": i + 1}),
        ]
    for state in ("MEX", "LSO", "KHM", "GEO", "SVN"):
        out.append(("POST", f"/v1/states/{state}/needs/draft", {"suggestions": 3}))
    for query in ("state=MEX&limit=20", "q=torture%20optional%20protocol", "theme=Women%27s%20rights&limit=50"):
        out += [("GET", f"/v1/recommendations?{query}", None), ("GET", f"/v1/recommendations/facets?{query}", None)]
    out += [("GET", "/v1/providers?limit=100", None), ("GET", "/v1/needs?limit=100", None)]
    return out


def record(code: Path, out: Path, model_dir: Path | None) -> None:
    models = trained_tagger(model_dir)
    tmp = Path(tempfile.mkdtemp(prefix="upr-replay-"))
    try:
        url = demo_database(tmp / "upr.db", models)
        env = server_env(url, models, PYTHONPATH=str(code))
        key = (
            subprocess.run(
                [sys.executable, "-m", "app.cli", "keys", "create", "--role", "admin", "--name", "replay"],
                env=env,
                cwd=code,
                check=True,
                capture_output=True,
                text=True,
            )
            .stdout.strip()
            .splitlines()[-1]
            .strip()
        )
        proc, base = start_server(env, code, 2, tmp / "server.log")
        try:
            answers: dict[str, Any] = {}
            for who, client in (("anonymous", Client(base, None)), ("admin", Client(base, key))):
                for method, path, body in requests(Client(base, key)):
                    status, payload, _ = client.call(method, path, body)
                    name = f"{who} {method} {urllib.parse.unquote(path)} {json.dumps(body, sort_keys=True)}"
                    answers[name] = {"status": status, "body": json.loads(payload) if payload else None}
        finally:
            stop_server(proc)
        out.write_text(json.dumps(answers, indent=1, sort_keys=True))
        print(f"{len(answers)} answers written to {out}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def compare(a: Path, b: Path) -> int:
    left, right = json.loads(a.read_text()), json.loads(b.read_text())
    differ = [name for name in sorted(set(left) | set(right)) if left.get(name) != right.get(name)]
    for name in differ[:20]:
        print(f"differs: {name}")
    print(f"{len(left)} vs {len(right)} answers; {len(differ)} differ")
    return 1 if differ else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--code", type=Path, default=Path(__file__).resolve().parent.parent)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--model-dir", type=Path)
    ap.add_argument("--compare", type=Path, nargs=2)
    args = ap.parse_args()
    if args.compare:
        return compare(*args.compare)
    if not args.out:
        ap.error("give --out (record) or --compare A B")
    os.environ.setdefault("UPR_DATA_DIR", str(Path(__file__).resolve().parent.parent.parent / "shared/data/upr"))
    record(args.code.resolve(), args.out.resolve(), args.model_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
