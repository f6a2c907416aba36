"""CPU per request of `POST /v1/recommendations/related`: a paragraph against one State's recommendations
(target: at most 10 ms) and against all of them (target: at most 50 ms).

In process, as a worker answers: the demo database (every shared recommendation, ``benchmarks/service_setup.py``'s
cached copy), the trained tagger and the cross-language lexicon loaded as the service loads them
(``MODEL_DIR``, default ``benchmarks/out/models``: ``upr-match train`` writes both there), the
recommendations indexed once by ``MatchIndex.with_recommendations`` (its time is printed apart; their theme
vectors are kept in ``benchmarks/out/related-demo.db`` for the next run), then each
paragraph of ``benchmarks/data/related_texts.json`` (English, French and Spanish) asked through the
service (``app.services.related.rank_related``: the index's freshness check, the tagger's reading of the
text, the ranking and the reasons), first filtered to the State it was written for, then unfiltered. The
tagger's memory of texts is emptied before every request, so each one is read as new. CPU is
``time.process_time`` around one request::

    PYTHONPATH=. .venv/bin/python benchmarks/related_cpu.py --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.service_setup import OUT, cli, demo_database, load_average, server_env, trained_tagger  # noqa: E402

TEXTS = ROOT / "benchmarks" / "data" / "related_texts.json"
TARGETS = {"one State": 10.0, "all": 50.0}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--model-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    models = trained_tagger(args.model_dir)
    return _run(models, args.rounds)


def _run(models: Path, rounds: int) -> int:
    # The recommendations' theme vectors are computed once (minutes at 30,000) and kept in this copy.
    kept = OUT / "related-demo.db"
    if kept.is_file():
        url = f"sqlite:///{kept}"
        cli(["migrate"], server_env(url, models), OUT)
    else:
        url = demo_database(kept, models, OUT / "demo.db" if (OUT / "demo.db").is_file() else None)
    os.environ.update(DATABASE_URL=url, MODEL_DIR=str(models), LOG_LEVEL="WARNING")
    from sqlmodel import Session

    from app.core.config import Settings
    from app.core.db import create_db_engine
    from app.match_index.index import MatchIndex
    from app.models.related import RelatedQuery
    from app.services import related as related_service
    from app.services import themes as theme_service

    settings = Settings()
    tagger = theme_service.load(settings)
    if tagger is None:
        raise SystemExit(f"no trained tagger in {models}")
    index = MatchIndex(settings, tagger)
    engine = create_db_engine(settings)
    texts = json.loads(TEXTS.read_text(encoding="utf-8"))["texts"]
    with Session(engine) as session:
        started = time.perf_counter()
        index.with_recommendations(session)
        built = time.perf_counter() - started
        n = len(index.snapshot.recommendations)
        print(f"recommendations indexed: {n:,} in {built:.1f} s (theme vectors stored on first load, reused after)")
        index.with_recommendations(session)  # vectors are read back from now on
        cpu: dict[tuple[str, str], list[float]] = {}
        for _ in range(rounds):
            for item in texts:
                for language in ("en", "fr", "es"):
                    for scope in TARGETS:
                        query = RelatedQuery(
                            text=item[language], state=item["state"] if scope == "one State" else None, limit=10
                        )
                        index._theme_cache.clear()  # each text read as new
                        if index.ranker.themes.reader is not None:
                            index.ranker.themes.reader._cache.clear()
                        t0 = time.process_time()
                        ranked, _, _, _ = related_service.rank_related(session, index, query)
                        for r in ranked:
                            related_service.reasons_of(index, query.text, r)
                        cpu.setdefault((scope, language), []).append((time.process_time() - t0) * 1000)
    print(f"load average: {load_average()}; {rounds} round(s) of {len(texts)} paragraphs per language")
    print(f"{'against':<10} {'language':<8} {'median ms':>9} {'p95 ms':>7} {'target':>7}  met")
    worst = True
    for (scope, language), values in sorted(cpu.items()):
        values.sort()
        median = statistics.median(values)
        p95 = values[min(len(values) - 1, int(0.95 * len(values)))]
        met = median <= TARGETS[scope]
        worst &= met
        print(f"{scope:<10} {language:<8} {median:9.2f} {p95:7.2f} {TARGETS[scope]:7.0f}  {'yes' if met else 'NO'}")
    return 0 if worst else 1


if __name__ == "__main__":
    raise SystemExit(main())
