"""CPU per request of a French need's matches against an English one's (target: at most 1.5 times).

In process, as a worker ranks: the 82 demo profiles (English) indexed with the service's theme space
(`app.match_index.ranker.ranking_space`) and the cross-language lexicon, then the providers ranked for
held-out needs (3-5 recommendations of one State, as ``benchmarks/quality.py`` files them), each in
English and in French (Apertium's translation of the same recommendations), alternately, so load
hits both alike. Two ways:

* **as served** (`GET /v1/needs/{id}/matches`): the worker indexed the need once (its text read in
  English, its theme vector stored); a request ranks from those, reading the stored text again
  (the reader's memory is emptied before every request, so its language is detected each time);
* **cold** (`POST /v1/match`-like, nothing kept): the need's text and recommendations are read in
  English and tagged within the request.

CPU is ``time.process_time`` around the ranking. Needs ``benchmarks/quality.py --languages`` to have
run once (its cached tagger, lexicon and translations in ``benchmarks/out``)::

    PYTHONPATH=. .venv/bin/python benchmarks/crosslingual_cpu.py --needs 200 --rounds 3
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

from app.match_index.ranker import ranking_space  # noqa: E402
from benchmarks.quality import DEFAULT_PROVIDERS, load_providers, make_queries, provider_text, split_rows  # noqa: E402
from benchmarks.quality_tagging import DEFAULT_DATA, load_rows  # noqa: E402
from evaluation.heldout import need_as_filed  # noqa: E402
from evaluation.quality import ServiceRanking  # noqa: E402
from matching.crosslingual import CrossLingual, Lexicon  # noqa: E402
from matching.tagger import ThemeTagger  # noqa: E402

OUT = ROOT / "benchmarks" / "out"
TARGET = 1.5


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--needs", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--language", default="fr", choices=("fr", "es"))
    args = parser.parse_args(argv)
    split_tag = "f0.3-s0"
    tagger = ThemeTagger.load(OUT / f"quality-tagger-train-{split_tag}.joblib")
    lexicon = Lexicon.load(OUT / f"quality-lexicon-{split_tag}.json.gz")
    translations = json.loads((OUT / f"quality-translations-{split_tag}.json").read_text(encoding="utf-8"))
    providers = load_providers(DEFAULT_PROVIDERS)
    relevance = {p["slug"]: p["relevance"] for p in providers}
    _, test = split_rows(load_rows(DEFAULT_DATA), 0.3, 0)
    needs = [q for q in make_queries(test, relevance, args.needs, 0)["need"] if all(t in translations for t in q.texts)]
    reader = CrossLingual(lexicon)
    space = ranking_space(tagger, reader)
    ranking = ServiceRanking([p["slug"] for p in providers], [provider_text(p) for p in providers], tagger, space=space)
    filed = {
        "en": [need_as_filed(q.state, q.texts) for q in needs],
        args.language: [need_as_filed(q.state, [translations[t][args.language] for t in q.texts]) for q in needs],
    }
    # As indexed: the text read in English once, the theme vector stored.
    indexed = {
        lang: [(space.english(f.text), space.vector(f.text, (), parts=f.prefs.parts)) for f in fs]
        for lang, fs in filed.items()
    }
    cpu: dict[str, dict[str, list[float]]] = {"as served": {}, "cold": {}}
    for _ in range(args.rounds):
        for i in range(len(needs)):
            for lang in filed:
                need = filed[lang][i]
                text, vector = indexed[lang][i]
                reader._cache.clear()  # detect the language within the request
                started = time.process_time()
                ranking.ranker.rank_providers(ranking.corpus, text, need.prefs, limit=10, theme_vector=vector)
                cpu["as served"].setdefault(lang, []).append((time.process_time() - started) * 1000)
                reader._cache.clear()
                started = time.process_time()
                ranking.ranker.rank_providers(ranking.corpus, need.text, need.prefs, limit=10)
                cpu["cold"].setdefault(lang, []).append((time.process_time() - started) * 1000)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"{len(needs)} needs x {args.rounds} rounds, 82 providers; load average {load}")
    print("| way | English CPU ms (mean / p50) | French CPU ms (mean / p50) | ratio of means | target <= 1.5 |")
    print("|---|---|---|---|---|")
    for way, by_lang in cpu.items():
        en, other = by_lang["en"], by_lang[args.language]
        ratio = statistics.fmean(other) / statistics.fmean(en)
        print(
            f"| {way} | {statistics.fmean(en):.2f} / {statistics.median(en):.2f} | "
            f"{statistics.fmean(other):.2f} / {statistics.median(other):.2f} | {ratio:.2f} | "
            f"{'met' if ratio <= TARGET else 'NOT met'} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
