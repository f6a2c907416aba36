"""Where a request's time goes between the bare framework and our answer, layer by layer, in-process.

Builds the app (`create_app`, the trained tagger loaded) on a copy of the demo database and calls
it as an ASGI application directly (no socket, no uvicorn: both are the same for the bare endpoint
and ours), N times per endpoint under cProfile, and prints for each endpoint the time per request
spent inside each middleware (inclusive, so each layer's own cost is the difference to the next),
in the routing and dependencies, in the database, in serialisation, and in ranking. The bare
FastAPI endpoint of `benchmarks/bare_app.py` is measured the same way first.

    python benchmarks/stack_profile.py --n 300
    python benchmarks/stack_profile.py --anonymous-cache off   # PUBLIC_KEPT_ANSWERS=0: every route runs
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.service_setup import demo_database, load_average, run_report, server_env, trained_tagger  # noqa: E402

# (label, function name as cProfile sees it: file suffix, function) whose inclusive time is reported.
LAYERS = (
    ("RequestContext (outermost)", "app/http/middleware.py", "__call__", "RequestContextMiddleware"),
    ("RateLimit", "app/http/ratelimit.py", "__call__", None),
    ("PublicCache", "app/http/public_cache.py", "__call__", None),
    ("  data version read", "app/http/public_cache.py", "read_data_version", None),
    ("routing + dependencies + endpoint", "fastapi/routing.py", "app", None),
    ("  database (cursor execute)", "sqlalchemy/engine/default.py", "do_execute", None),
    ("  JSON serialisation", "fastapi/routing.py", "serialize_response", None),
    ("  ranking (matching/)", "matching/ranking.py", "rank", None),
)


def call(app: Any, path: str, headers: list[tuple[bytes, bytes]]) -> int:
    route, _, query = path.partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": route,
        "raw_path": route.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"bench"), *headers],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    status = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    asyncio.get_event_loop().run_until_complete(app(scope, receive, send))
    return status


def layer_times(stats: pstats.Stats, n: int) -> list[tuple[str, float]]:
    found = []
    entries: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    for label, suffix, name, _ in LAYERS:
        total = sum(v[3] for (file, _, func), v in entries.items() if file.endswith(suffix) and func == name)
        found.append((label, total / n * 1000))
    return found


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--model-dir", type=Path)
    ap.add_argument("--anonymous-cache", choices=("on", "off"), default="off")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="upr-stack-"))
    try:
        model_dir = trained_tagger(args.model_dir)
        db_url = demo_database(tmp / "upr.db", model_dir)
        os.environ.update(server_env(db_url, model_dir))
        if args.anonymous_cache == "off":
            os.environ["PUBLIC_KEPT_ANSWERS"] = "0"
        from fastapi.testclient import TestClient

        from app.core.config import get_settings
        from app.main import create_app
        from benchmarks.bare_app import app as bare

        get_settings.cache_clear()
        app = create_app()
        asyncio.set_event_loop(asyncio.new_event_loop())
        with TestClient(app) as client:  # runs the lifespan: engine, tagger, index
            needs = [x["id"] for x in client.get("/v1/needs?limit=20").json()["items"]]
            app.router.lifespan_context = None  # type: ignore[assignment]
            paths = {
                "bare FastAPI /bare": (bare, "/bare"),
                "list ?state=MEX&limit=20": (app, "/v1/recommendations?state=MEX&limit=20"),
                "search ?q=torture": (app, "/v1/recommendations?q=torture%20optional%20protocol"),
                "need's matches": (app, f"/v1/needs/{needs[0]}/matches"),
                "facets ?state=MEX": (app, "/v1/recommendations/facets?state=MEX"),
                "search page + theme": (app, "/recommendations?state=MEX&theme=Women%27s%20rights"),
            }
            print(
                f"in-process ASGI calls, N={args.n}, anonymous answers kept: {args.anonymous_cache}; "
                f"load {load_average()}"
            )
            for name, (target, path) in paths.items():
                for _ in range(20):
                    call(target, path, [])
                started, cpu = time.perf_counter(), time.process_time()
                for _ in range(args.n):
                    call(target, path, [])
                wall = (time.perf_counter() - started) / args.n * 1000
                cpu_ms = (time.process_time() - cpu) / args.n * 1000
                profile = cProfile.Profile()
                profile.enable()
                for _ in range(args.n):
                    call(target, path, [])
                profile.disable()
                stats = pstats.Stats(profile)
                print(f"\n{name}: {wall:.2f} ms wall, {cpu_ms:.2f} ms CPU per request (without the profiler)")
                for label, ms in layer_times(stats, args.n):
                    if ms > 0:
                        print(f"  {label:<40} {ms:7.3f} ms (inclusive, under the profiler)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    run_report(main)
