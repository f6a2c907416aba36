"""The four analytics measures at deployment size: 300,000 recommendations, 50,000 needs, 20,000 activities,
10,000 providers.

1. Migrates a fresh SQLite database (or the empty PostgreSQL database of `--database-url`) and fills
   it with bulk inserts (no HTTP, no per-row service calls): recommendations of the 193 States with
   1-3 UPR Info themes (70 % supported, 2 % other sources' copies), their theme index rows; providers
   with themes, regions and languages; open/in-progress/closed needs citing 1-4 of their State's
   supported recommendations, with themes, languages, a stored best score (some below the strong
   band for 30 days) and engagements (some all declined); confirmed activities (planned, ongoing,
   completed) citing recommendations; the UN INFO funding figures (`UPR_DATA_DIR`) when present.
2. Times each measure's service call plus its JSON answer (what `GET /v1/analytics/...` does,
   without the HTTP framework), `--queries` times each, for the whole world and for one State
   (a different State each call), as an anonymous caller:
   - **warm**: the answer kept per process (`services/analytics/cache.py`) is valid: the cost is
     the data stamp (one statement) plus the page;
   - **cold**: the answers are dropped before each call, as after any write: the full computation.
3. Prints p50 / p99 per measure and slice, the load average, and the targets (p50 <= 300 ms for
   the world, <= 50 ms for one State) checked on the warm numbers; exits 1 when one is missed.

    python benchmarks/analytics.py                       # full size (~5 min to fill on SQLite)
    python benchmarks/analytics.py --scale 0.01 --queries 5   # a quick check
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402
from sqlmodel import Session  # noqa: E402

THEMES = [
    "Women's rights", "Justice", "Torture and other CID treatment", "Rights of the Child", "International instruments",
    "Right to education", "Right to health", "Detention", "Human rights defenders", "Indigenous peoples", "Migrants",
    "Trafficking", "Poverty", "Freedom of the press", "Impunity", "Labour", "Right to food", "Disabilities",
    "Minorities", "Death penalty", "Racial discrimination", "Environment", "Right to water", "Corruption",
]  # fmt: skip
LANGUAGES = ["en", "fr", "es", "ar", "ru", "zh", "pt"]
BATCH = 5_000


def _chunks(rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    return [rows[k : k + BATCH] for k in range(0, len(rows), BATCH)]


def fill(session: Session, *, scale: float, seed: int, data_dir: Path) -> dict[str, int]:
    """Bulk-insert the synthetic data set; returns the counts."""
    from app.models import (
        Activity,
        ActivityRecommendation,
        Engagement,
        Need,
        NeedBestScore,
        NeedRecommendation,
        NeedTheme,
        Provider,
        ProviderFacet,
        Recommendation,
    )
    from app.models.common import utcnow
    from app.models.recommendation import RecommendationTheme
    from app.reference.regions import regional_groups, un_states
    from app.services.analytics.funding import FUNDING_FILE, read_rows

    rng = random.Random(seed)
    now = utcnow()
    states = sorted(un_states() & set(regional_groups()))
    n_recs, n_needs = int(300_000 * scale), int(50_000 * scale)
    n_acts, n_providers = int(20_000 * scale), int(10_000 * scale)

    def write(model: Any, rows: list[dict[str, Any]]) -> None:
        for chunk in _chunks(rows):
            session.execute(insert(model), chunk)
        session.commit()

    recs, rec_themes, supported_of = [], [], {s: [] for s in states}
    for k in range(n_recs):
        state, rid = states[k % len(states)], f"bench-{k}"
        themes = rng.sample(THEMES, rng.randint(1, 3))
        response = "supported" if rng.random() < 0.7 else "noted"
        copy = k > 0 and rng.random() < 0.02
        recs.append(
            {
                "id": rid, "seq": k + 1, "source": "bench", "cycle": rng.randint(1, 4),
                "session": rng.randint(1, 50), "state_under_review": state, "state_under_review_name": state,
                "text": f"Recommendation {k} {themes[0]}",
                "response": response, "themes": themes, "theme_scheme": "upr_info_issues",
                "recommending_states": [], "recommending_state_names": [], "sdgs": [], "sdg_targets": [],
                "affected_groups": [], "canonical_id": f"bench-{k - 1}" if copy else None,
                "content_hash": hashlib.sha256(rid.encode()).hexdigest(), "created_at": now, "updated_at": now,
            }
        )  # fmt: skip
        rec_themes += [{"recommendation_id": rid, "theme": t} for t in themes]
        if response == "supported" and not copy:
            supported_of[state].append(rid)
    write(Recommendation, recs)
    write(RecommendationTheme, rec_themes)
    del recs, rec_themes

    providers, facets = [], []
    regions = sorted(set(regional_groups().values()))
    for k in range(n_providers):
        pid = str(uuid.UUID(int=rng.getrandbits(128)))
        themes = rng.sample(THEMES, rng.randint(1, 4))
        where = rng.sample(regions, rng.randint(1, 2)) if rng.random() < 0.8 else ["global"]
        langs = rng.sample(LANGUAGES, rng.randint(1, 3))
        providers.append(
            {
                "id": pid, "name": f"Provider {k}", "kind": "ngo", "description": "Bench provider " + themes[0],
                "themes": themes, "sdgs": [], "countries": [], "regions": where, "languages": langs,
                "modalities": ["training"], "is_demo": False, "version": 1, "created_at": now, "updated_at": now,
            }
        )  # fmt: skip
        facets += [{"provider_id": pid, "facet": "theme", "value": t.casefold()} for t in themes]
    write(Provider, providers)
    write(ProviderFacet, facets)
    provider_ids = [p["id"] for p in providers]
    del providers, facets

    needs, cites, need_themes, scores, engagements = [], [], [], [], []
    for k in range(n_needs):
        state = rng.choice(states)
        pool = supported_of[state] or supported_of[states[0]]
        cited = rng.sample(pool, min(len(pool), rng.randint(1, 4)))
        themes = rng.sample(THEMES, rng.randint(1, 3))
        nid = str(uuid.UUID(int=rng.getrandbits(128)))
        status = rng.choices(["open", "in_progress", "closed"], weights=[70, 15, 15])[0]
        created = now - timedelta(days=rng.randint(0, 120))
        needs.append(
            {
                "id": nid, "state": state, "title": f"Need {k}", "description": "", "themes": themes,
                "languages": rng.sample(LANGUAGES, rng.randint(0, 2)), "modalities": [], "priority": "medium",
                "status": status, "visibility": rng.choice(["public", "public", "providers", "state_only"]),
                "is_demo": False, "version": 1, "created_at": created, "updated_at": created,
            }
        )  # fmt: skip
        cites += [{"need_id": nid, "recommendation_id": r, "position": i} for i, r in enumerate(cited)]
        need_themes += [{"need_id": nid, "theme": t.casefold()} for t in themes]
        score = rng.random() * 0.6
        below = None if score >= 0.35 else created
        scores.append({"need_id": nid, "score": score, "computed_at": now, "below_strong_since": below})
        for _ in range(rng.choice([0, 0, 1, 2])):
            engagements.append(
                {
                    "id": str(uuid.UUID(int=rng.getrandbits(128))), "need_id": nid,
                    "provider_id": rng.choice(provider_ids), "state": state, "direction": "invitation",
                    "status": rng.choice(["declined", "proposed", "declined"]),
                    "message": "", "initiated_by_role": "state", "version": 1, "created_at": now, "updated_at": now,
                }
            )  # fmt: skip
    write(Need, needs)
    write(NeedRecommendation, cites)
    write(NeedTheme, need_themes)
    write(NeedBestScore, scores)
    write(Engagement, engagements)
    del needs, cites, need_themes, scores

    acts, act_recs = [], []
    for k in range(n_acts):
        state = rng.choice(states)
        pool = supported_of[state] or supported_of[states[0]]
        aid = str(uuid.UUID(int=rng.getrandbits(128)))
        acts.append(
            {
                "id": aid, "provider_id": rng.choice(provider_ids), "state": state, "title": f"Activity {k}",
                "description": "", "modality": "training", "status": rng.choice(["planned", "ongoing", "completed"]),
                "confirmation": rng.choices(["confirmed", "unconfirmed"], weights=[85, 15])[0], "is_demo": False,
                "version": 1, "created_at": now, "updated_at": now,
            }
        )  # fmt: skip
        act_recs += [
            {"activity_id": aid, "recommendation_id": r, "position": i}
            for i, r in enumerate(rng.sample(pool, min(len(pool), rng.randint(1, 3))))
        ]
    write(Activity, acts)
    write(ActivityRecommendation, act_recs)

    funding = 0
    if (data_dir / FUNDING_FILE).is_file():
        rows, _ = read_rows(data_dir / FUNDING_FILE)
        session.add_all(rows)
        session.commit()
        funding = len(rows)
    return {
        "recommendations": n_recs,
        "needs": n_needs,
        "activities": n_acts,
        "providers": n_providers,
        "funding rows": funding,
    }


def timed(call: Callable[[], Any], n: int, *, cold: bool) -> tuple[float, float]:
    from app.services.analytics import cache

    samples = []
    for _ in range(n):
        if cold:
            cache.clear()
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.99))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 300,000 recommendations (default)")
    parser.add_argument("--queries", type=int, default=30, help="calls per measure, slice and mode")
    parser.add_argument("--database-url", help="an empty database (default: a fresh SQLite file)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-analytics-"))
    url = args.database_url or f"sqlite:///{workdir / 'bench.db'}"
    os.environ["DATABASE_URL"] = url
    from alembic import command

    from app.commands.server import alembic_config
    from app.core.config import get_settings
    from app.core.db import create_db_engine
    from app.core.identity import Principal
    from app.core.pagination import PageParams
    from app.services.analytics import needs, pipeline
    from app.services.analytics.slices import Slice

    get_settings.cache_clear()
    command.upgrade(alembic_config(), "head")
    settings = get_settings()
    engine = create_db_engine(settings)
    started = time.perf_counter()
    with Session(engine) as session:
        counts = fill(session, scale=args.scale, seed=args.seed, data_dir=settings.UPR_DATA_DIR)
    print(f"data ({time.perf_counter() - started:.0f} s to fill, {engine.dialect.name}): " + json.dumps(counts))

    anonymous, page = Principal(role="anonymous"), PageParams(limit=20, offset=0)
    rng = random.Random(args.seed)
    states = ["MEX", "FRA", "KEN", "IND", "BRA", "NPL", "HTI", "DEU", "NGA", "IDN"]
    measures: dict[str, Callable[[Session, Slice], Any]] = {
        "pipeline": lambda s, p: pipeline.get_pipeline(s, principal=anonymous, piece=p, by="theme", page=page),
        "unserved-needs": lambda s, p: needs.get_unserved(s, principal=anonymous, piece=p, page=page),
        "supply-demand": lambda s, p: needs.get_supply_demand(s, principal=anonymous, piece=p, page=page),
        "funding": lambda s, p: pipeline.get_funding(s, principal=anonymous, piece=p, page=page),
    }
    failed = []
    print(f"{'measure':16} {'slice':6} {'mode':5} {'p50 ms':>9} {'p99 ms':>9}  target (warm p50)")
    for name, measure in measures.items():
        for where in ("world", "State"):
            target = 300.0 if where == "world" else 50.0
            for mode in ("cold", "warm"):
                with Session(engine) as session:

                    def call(measure: Callable[[Session, Slice], Any] = measure, where: str = where) -> None:
                        piece = Slice() if where == "world" else Slice.of(states=[rng.choice(states)])
                        measure(session, piece).model_dump_json()

                    if mode == "warm":  # every State's answer computed once before timing
                        for state in states:
                            measure(session, Slice.of(states=[state]))
                        measure(session, Slice())
                    p50, p99 = timed(call, args.queries, cold=mode == "cold")
                mark = ""
                if mode == "warm":
                    ok = p50 <= target
                    mark = f"<= {target:.0f} {'ok' if ok else 'MISSED'}"
                    if not ok:
                        failed.append(f"{name} {where}")
                print(f"{name:16} {where:6} {mode:5} {p50:9.1f} {p99:9.1f}  {mark}")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} CPUs)")
    engine.dispose()
    if failed:
        print("targets missed: " + ", ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
