"""The three match operations at deployment size: 10,000 providers and 50,000 needs, trained tagger loaded.

1. Imports the shared recommendations into a fresh SQLite database, then registers providers and
   needs through the service layer (`create_provider` / `create_need`, as the API does, one commit
   each; no HTTP): providers are the demo profiles varied (name, a sentence of another profile,
   countries), needs cite 1-4 supported recommendations of one State sharing a theme, with
   languages, modalities and visibilities mixed in.
2. At each size of `--steps` (providers; needs are 5 per provider), a child process (a worker's
   life: its RSS is its own) builds the matching index with the tagger and times, in-process,
   `GET /v1/needs/{id}/matches`, `GET /v1/providers/{id}/matches` and `POST /v1/match` (their
   service functions plus the JSON answer: the server time without the HTTP framework, which adds
   ~1 ms), `--queries` calls each on random needs, providers and distinct texts.
3. Prints per size: index start-up, worker RSS, p50/p99 wall and CPU per operation, the load
   average, and the targets at the largest size (p50 <= 15 ms, p99 <= 50 ms, start-up <= 30 s,
   RSS <= 1.5 GB).

    python benchmarks/match_scale.py                          # 100, 1,000, 10,000 providers (~8 min)
    python benchmarks/match_scale.py --steps 100 1000 --queries 50   # a quick check

Exits 1 when a target is missed at the largest size.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, Final

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.service_setup import load_average, trained_tagger  # noqa: E402

NEEDS_PER_PROVIDER = 5
TARGETS = {"p50_ms": 15.0, "p99_ms": 50.0, "startup_s": 30.0, "rss_mb": 1536.0}
LANGUAGES = ("en", "fr", "es", "ar", "ru", "pt")
MODALITIES: Final = ("training", "legal_review", "expert_deployment", "funding", "data_systems", "peer_exchange")


def pct(values: list[float], q: float) -> float:
    v = sorted(values)
    return v[max(0, min(len(v) - 1, round(q / 100 * len(v) + 0.5) - 1))]


# --- generating the data, through the services ------------------------------------------------


def generate(db_url: str, providers: int, needs: int, seed: int) -> None:
    """Register providers and needs up to these counts (those already there count)."""
    from sqlmodel import Session, col, func, select

    from app.core.config import get_settings
    from app.core.db import create_db_engine, intending_to_write
    from app.demo.loader import ADMIN, PROFILE_FIELDS, PROVIDERS_FILE
    from app.models.need import Need, NeedCreate
    from app.models.provider import Provider, ProviderCreate
    from app.models.recommendation import Recommendation
    from app.services import needs as need_service
    from app.services import providers as provider_service

    rng = random.Random(seed)
    engine = create_db_engine(get_settings())
    profiles = json.loads(PROVIDERS_FILE.read_text(encoding="utf-8"))
    with intending_to_write(), Session(engine) as session:
        rows = session.exec(
            select(Recommendation.id, Recommendation.state_under_review, Recommendation.themes, Recommendation.text)
            .where(col(Recommendation.response) == "supported", col(Recommendation.canonical_id).is_(None))
            .order_by(col(Recommendation.id))
        ).all()
        by_state_theme: dict[tuple[str, str], list[str]] = defaultdict(list)
        for rid, state, themes, _ in rows:
            for theme in themes or ["Other"]:
                by_state_theme[(state, theme)].append(rid)
        groups = sorted(by_state_theme)
        states = sorted({state for state, _ in groups})
        sentences = [text for *_, text in rows if 60 < len(text) < 300]
        have = session.exec(select(func.count()).select_from(Provider)).one()
        started, made = time.perf_counter(), 0
        for i in range(have, providers):
            profile = profiles[i % len(profiles)]
            values = {name: profile[name] for name in PROFILE_FIELDS}
            values["name"] = f"{profile['name']} (office {i})"[:200]
            values["acronym"] = None
            values["description"] = f"{profile['description']} {rng.choice(sentences)}"[:5000]
            values["countries"] = rng.sample(states, rng.choice((0, 0, 1, 2, 3)))
            values["website"] = values["contact_email"] = None
            provider_service.create_provider(session, principal=ADMIN, data=ProviderCreate(**values))
            made += 1
        have_needs = session.exec(select(func.count()).select_from(Need)).one()
        for i in range(have_needs, needs):
            state, theme = rng.choice(groups)
            pool = by_state_theme[(state, theme)]
            cited = rng.sample(pool, min(len(pool), rng.randint(1, 4)))
            roll = rng.random()
            need_service.create_need(
                session,
                principal=ADMIN,
                data=NeedCreate(
                    state=state,
                    title=f"{theme}: technical cooperation request {i}"[:200],
                    description="Support wanted to implement these supported recommendations.",
                    recommendation_ids=cited,
                    languages=rng.sample(LANGUAGES, 1) if roll < 0.3 else [],
                    modalities=rng.sample(MODALITIES, 2) if roll < 0.4 else [],
                    visibility="providers" if roll > 0.9 else "state_only" if roll > 0.85 else "public",
                ),
            )
            made += 1
        print(
            f"  registered {made} providers and needs in {time.perf_counter() - started:.0f} s "
            f"(now {providers} providers, {needs} needs)",
            flush=True,
        )
    engine.dispose()


# --- measuring, in a child process (a worker's life) -------------------------------------------


def measure(queries: int, seed: int) -> dict[str, Any]:
    """Build the index with the tagger, then time the three match operations (none with queries=0)."""
    from sqlmodel import Session, select
    from threadpoolctl import threadpool_limits

    from app.core.config import get_settings
    from app.core.db import create_db_engine
    from app.core.identity import ANONYMOUS, Principal
    from app.match_index.index import MatchIndex
    from app.models.match import MatchQuery
    from app.models.need import Need
    from app.models.provider import Provider
    from app.models.recommendation import Recommendation
    from app.services import matching
    from app.services import themes as theme_service
    from matching.ranking import NO_FILTERS

    threadpool_limits(limits=1, user_api="blas")  # as a worker's start-up does (app/main.py)
    settings = get_settings()
    engine = create_db_engine(settings)
    rng = random.Random(seed)
    t0, c0 = time.perf_counter(), time.process_time()
    tagger = theme_service.load(settings)
    index = MatchIndex(settings, tagger)
    with Session(engine) as session:
        index.load(session)
        need_ids = list(session.exec(select(Need.id).where(Need.visibility == "public")).all())
        provider_ids = list(session.exec(select(Provider.id)).all())
        texts = [t for t in session.exec(select(Recommendation.text).limit(5000)).all() if len(t) > 80]
    startup = {"wall_s": time.perf_counter() - t0, "cpu_s": time.process_time() - c0}
    admin = Principal(role="admin", name="bench")
    if not queries:
        return {"startup": startup, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}

    def run(call: Any) -> dict[str, float]:
        wall, cpu = [], []
        for i in range(queries + 10):
            w, c = time.perf_counter(), time.process_time()
            with Session(engine) as session:
                call(session, i).model_dump_json()
            if i >= 10:  # the first ten warm the caches
                wall.append((time.perf_counter() - w) * 1000)
                cpu.append((time.process_time() - c) * 1000)
        return {"p50": pct(wall, 50), "p99": pct(wall, 99), "cpu_p50": pct(cpu, 50), "cpu_p99": pct(cpu, 99)}

    needs, providers, free = (
        rng.sample(need_ids, queries + 10),
        rng.choices(provider_ids, k=queries + 10),
        rng.sample(texts, queries + 10),
    )
    ops = {
        "GET /v1/needs/{id}/matches": run(
            lambda s, i: matching.match_providers_for_need(
                s, index, principal=ANONYMOUS, need_id=needs[i], filters=NO_FILTERS, limit=10, min_score=0.0
            )
        ),
        "GET /v1/providers/{id}/matches": run(
            lambda s, i: matching.match_needs_for_provider(
                s, index, principal=admin, provider_id=providers[i], limit=10, min_score=0.0
            )
        ),
        "POST /v1/match (a new text each time)": run(
            lambda s, i: matching.match_providers_for_text(
                s, index, principal=ANONYMOUS, query=MatchQuery(text=free[i])
            )
        ),
    }
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    engine.dispose()
    return {"startup": startup, "rss_mb": rss_mb, "ops": ops, "load": os.getloadavg()[0]}


def child(env: dict[str, str], queries: int, seed: int) -> dict[str, Any]:
    """`measure` in a fresh process."""
    done = subprocess.run(
        [sys.executable, __file__, "--measure", "--queries", str(queries), "--seed", str(seed)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    found: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, nargs="+", default=[100, 1000, 10_000], help="provider counts")
    ap.add_argument("--queries", type=int, default=200, help="calls per operation and size")
    ap.add_argument("--model-dir", type=Path, help="the trained tagger (default: trained once, cached)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--keep", type=Path, help="build the database in this folder and keep it (reused when there)")
    ap.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)  # the child's part
    args = ap.parse_args()
    if args.measure:
        print(json.dumps(measure(args.queries, args.seed)))
        return 0

    model_dir = trained_tagger(args.model_dir)
    data = Path(os.environ.get("UPR_DATA_DIR", ROOT.parent / "shared" / "data" / "upr"))
    total = time.perf_counter()
    print(f"nproc {os.cpu_count()}, load average at start {load_average()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="upr-match-scale-") as scratch:
        tmp = str(args.keep or scratch)
        Path(tmp).mkdir(parents=True, exist_ok=True)
        reused = (Path(tmp) / "scale.db").is_file()
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{tmp}/scale.db",
            "MODEL_DIR": str(model_dir),
            "UPR_DATA_DIR": str(data),
            "SQLITE_SYNCHRONOUS": "NORMAL",  # generation speed only; nothing is timed while writing
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
        }
        os.environ.update(env)
        subprocess.run([sys.executable, "-m", "app.cli", "migrate"], env=env, check=True, capture_output=True)
        if not reused:
            started = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "app.cli", "import-recommendations", str(data / "recommendations.jsonl")],
                env=env,
                check=True,
                capture_output=True,
            )
            print(f"shared recommendations imported in {time.perf_counter() - started:.0f} s", flush=True)
        results = []
        for providers in sorted(args.steps):
            generate(env["DATABASE_URL"], providers, providers * NEEDS_PER_PROVIDER, args.seed)
            # The first worker to see the new objects tags them and stores their vectors; the next ones read them.
            first = child(env, 0, args.seed)
            found = child(env, args.queries, args.seed)
            found["first_startup"] = first["startup"]
            found["first_rss_mb"] = first["rss_mb"]
            results.append((providers, found))
            print(
                f"  {providers} providers: index built in {found['startup']['wall_s']:.1f} s "
                f"({first['startup']['wall_s']:.1f} s by the first worker, which tagged the new objects), "
                f"worker RSS {found['rss_mb']:.0f} MB ({found['first_rss_mb']:.0f} MB for the first)",
                flush=True,
            )
    print(f"\ntotal {time.perf_counter() - total:.0f} s; load average at the end {load_average()}")
    head = f"{'providers':>9} {'needs':>7} {'operation':<38} {'p50 ms':>7} {'p99 ms':>7} {'CPU p50':>7} {'CPU p99':>7}"
    print(head)
    print("-" * len(head))
    for providers, found in results:
        for name, op in found["ops"].items():
            print(
                f"{providers:>9} {providers * NEEDS_PER_PROVIDER:>7} {name:<38} {op['p50']:>7.2f} {op['p99']:>7.2f} "
                f"{op['cpu_p50']:>7.2f} {op['cpu_p99']:>7.2f}"
            )
    print(
        "(times in ms, the service call and its JSON answer, in-process; load average per size:",
        ", ".join(f"{p}: {f['load']:.1f}" for p, f in results) + ")",
    )
    providers, found = results[-1]
    checks = [
        (f"index start-up <= {TARGETS['startup_s']:.0f} s", found["startup"]["wall_s"], TARGETS["startup_s"], "s"),
        (f"worker RSS <= {TARGETS['rss_mb']:.0f} MB", found["rss_mb"], TARGETS["rss_mb"], "MB"),
    ]
    for name, op in found["ops"].items():
        checks.append((f"{name} p50 <= {TARGETS['p50_ms']:.0f} ms", op["p50"], TARGETS["p50_ms"], "ms"))
        checks.append((f"{name} p99 <= {TARGETS['p99_ms']:.0f} ms", op["p99"], TARGETS["p99_ms"], "ms"))
    print(f"\ntargets at {providers} providers, {providers * NEEDS_PER_PROVIDER} needs:")
    ok = True
    for name, got, limit, unit in checks:
        ok &= got <= limit
        print(f"  [{'MET' if got <= limit else 'NOT MET'}] {name}: {got:.1f} {unit}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
