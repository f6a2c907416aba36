"""Matching quality across languages: the held-out queries and needs of ``benchmarks/quality.py`` in French
and Spanish, ranked against the same English profiles, graded by the relevance of their English originals.

Run by ``benchmarks/quality.py --languages en,fr,es``. What is compared, each on both query sides
(``tune``: validation States, settings chosen there; ``report``: held-out States, reported):

* **as written**: the French or Spanish text ranked as it is (the service before cross-language reading);
* **lexicon** (the service): the text read through :class:`matching.crosslingual.CrossLingual`, with a
  lexicon Apertium built from the *training* States' recommendations only;
* **Apertium at request time**: the text machine-translated back into English whole, sentence by
  sentence, then ranked (what a translation engine per request would give; its cost is not the
  lexicon's look-up but a subprocess of ~0.2 s CPU).

The French and Spanish queries are Apertium's translations of the English ones (English to Spanish,
Spanish to French): the same engine that built the lexicon, so those rows flatter it. A small set written
by hand (``benchmarks/data/crosslingual_handwritten.json``: twelve held-out recommendations in each
language) is ranked too, against all 82 profiles, to show what a person's wording gives.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from evaluation.quality import ServiceRanking, evaluate_rankings, graded_relevance
from matching.crosslingual import CrossLingual, Lexicon, apertium_available, apertium_translate, build_lexicon

HANDWRITTEN = Path(__file__).resolve().parent / "data" / "crosslingual_handwritten.json"
LANGUAGES = ("fr", "es")
#: nDCG@5 at least this share of English's; P@1 (core) at least this share.
TARGET_NDCG, TARGET_P1 = 0.90, 0.85


def _cached_translations(texts: list[str], path: Path, progress: Callable[[str], None]) -> dict[str, dict[str, str]]:
    """Per English text: its Spanish and French (Apertium), and those back in English; cached in ``path``."""
    cache: dict[str, dict[str, str]] = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    missing = [t for t in dict.fromkeys(texts) if t not in cache]
    if missing:
        progress(f"translating {len(missing):,} query texts with Apertium")
        es = apertium_translate(missing, "en-es")
        fr = apertium_translate(es, "es-fr")
        es_back = apertium_translate(es, "es-en")
        fr_back = apertium_translate(fr, "fr-en")
        for t, a, b, c, d in zip(missing, es, fr, es_back, fr_back, strict=True):
            cache[t] = {"es": a, "fr": b, "es-en": c, "fr-en": d}
        path.write_text(json.dumps(cache, ensure_ascii=False), encoding="utf-8")
    return cache


def _lexicon(train_texts: list[str], path: Path, progress: Callable[[str], None]) -> Lexicon:
    digest = hashlib.sha256("\x1e".join(train_texts).encode("utf-8")).hexdigest()[:12]
    if path.exists():
        lexicon = Lexicon.load(path)
        if lexicon.source.get("train_digest") == digest:
            return lexicon
    progress(f"building the lexicon from {len(train_texts):,} training recommendations (Apertium)")
    lexicon = build_lexicon(train_texts, progress=progress)
    lexicon = Lexicon(lexicon.words, {**lexicon.source, "train_digest": digest})
    lexicon.save(path)
    return lexicon


def _translated_side(side: Any, key: str, table: dict[str, dict[str, str]]) -> Any:
    """A copy of ``side`` whose queries' texts are their ``key`` version ("es", "fr", "es-en"...)."""
    from benchmarks.quality import Side

    queries = {
        kind: [replace(q, texts=[table[t][key] for t in q.texts]) for q in qs] for kind, qs in side.queries.items()
    }
    return Side(side.name, queries, side.tagger)


def run(
    args: Any,
    sides: dict[str, Any],
    folds: list[Any],
    providers: list[dict[str, Any]],
    relevance: dict[str, Any],
    train_texts: list[str],
    progress: Callable[[str], None],
) -> dict[str, Any]:
    """The table of nDCG@5 and P@1 (core) per language and reading, and the hand-written set."""
    from benchmarks.quality import SERVICE, VARIANTS, run_folds, summarise

    missing = apertium_available()
    if missing:
        raise SystemExit(f"--languages needs Apertium to translate the queries: {missing}")
    out_dir: Path = args.out_dir
    split_tag = f"f{args.test_fraction}-s{args.seed}"
    lexicon = _lexicon(train_texts, out_dir / f"quality-lexicon-{split_tag}.json.gz", progress)
    reader = CrossLingual(lexicon)
    texts = [t for side in sides.values() for qs in side.queries.values() for q in qs for t in q.texts]
    table = _cached_translations(texts, out_dir / f"quality-translations-{split_tag}.json", progress)
    service = next(v for v in VARIANTS if v.name == SERVICE)
    with_lexicon = replace(service, name="lexicon", space={"reader": reader})
    runs: dict[tuple[str, str], Any] = {}

    def one(language: str, reading: str, variant: Any, key: str | None) -> None:
        these = {h: s if key is None else _translated_side(s, key, table) for h, s in sides.items()}
        found = run_folds(folds, [variant], these, providers, relevance, lambda m: None)
        runs[(language, reading)] = {h: summarise(found["variants"][variant.name][h]) for h in ("tune", "report")}
        progress(f"  {language}, {reading}: done")

    one("en", "as written", service, None)
    one("en", "lexicon", with_lexicon, None)
    for language in (lang for lang in args.languages if lang != "en"):
        one(language, "as written", service, language)
        one(language, "lexicon", with_lexicon, language)
        one(language, "Apertium at request time", service, f"{language}-en")
    hand = handwritten(providers, relevance, sides["report"].model, reader)
    print_table(runs, hand, args.languages)
    return {"runs": {f"{lang}/{reading}": v for (lang, reading), v in runs.items()}, "handwritten": hand}


def handwritten(providers: list[dict[str, Any]], relevance: dict[str, Any], model: Any, reader: CrossLingual) -> Any:
    """The hand-written set against all the profiles: English originals, then each language as written and read."""
    from benchmarks.quality import provider_text
    from benchmarks.quality_tagging import DEFAULT_DATA, load_rows
    from evaluation.lab import lab_space

    items = json.loads(HANDWRITTEN.read_text(encoding="utf-8"))["items"]
    themes_of = {r["text"]: r["themes"] for r in load_rows(DEFAULT_DATA)}
    ids = [p["slug"] for p in providers]
    texts = [provider_text(p) for p in providers]
    plain = ServiceRanking(ids, texts, model, space=lab_space(model))
    read = ServiceRanking(ids, texts, model, space=lab_space(model, reader=reader))
    grades = [graded_relevance(themes_of[item["en"]], relevance) for item in items]
    out: dict[str, Any] = {}
    for language in ("en", *LANGUAGES):
        for name, ranking in (("as written", plain), ("lexicon", read)):
            rankings = [[r.id for r in ranking.rank(item[language])] for item in items]
            out[f"{language}/{name}"] = evaluate_rankings(rankings, grades, k=5)
    return out


def _verdict(value: float, english: float, share: float) -> str:
    ratio = value / english if english else 0.0
    return f"{value:.4f} ({ratio:.2f}x, {'met' if ratio >= share else 'NOT met'})"


def print_table(runs: dict[tuple[str, str], Any], hand: dict[str, Any], languages: list[str]) -> None:
    print("\n### Across languages (report half: held-out States and providers; tune half in brackets)\n")
    print("| language | reading | recs nDCG@5 | recs P@1 (core) | needs nDCG@5 | needs P@1 (core) |")
    print("|---|---|---|---|---|---|")
    english = runs[("en", "as written")]["report"]
    for (language, reading), result in runs.items():
        cells = []
        for kind in ("recommendation", "need"):
            r, t = result["report"][kind], result["tune"][kind]
            if language == "en":
                cells += [f"{r['ndcg'][0]:.4f} [{t['ndcg'][0]:.4f}]", f"{r['p1_core'][0]:.4f} [{t['p1_core'][0]:.4f}]"]
                continue
            cells += [
                _verdict(r["ndcg"][0], english[kind]["ndcg"][0], TARGET_NDCG) + f" [{t['ndcg'][0]:.4f}]",
                _verdict(r["p1_core"][0], english[kind]["p1_core"][0], TARGET_P1) + f" [{t['p1_core'][0]:.4f}]",
            ]
        print(f"| {language} | {reading} | " + " | ".join(cells) + " |")
    print(f"\ntargets: nDCG@5 >= {TARGET_NDCG} x English, P@1 (core) >= {TARGET_P1} x English, same items")
    print("\n### Written by hand (12 held-out recommendations, all 82 profiles)\n")
    print("| language | reading | nDCG@5 | P@1 (core) |")
    print("|---|---|---|---|")
    base = hand["en/as written"]
    for name, m in hand.items():
        language, reading = name.split("/")
        if language == "en" and reading != "as written":
            continue
        ndcg = f"{m['ndcg']:.4f}" if language == "en" else _verdict(m["ndcg"], base["ndcg"], TARGET_NDCG)
        p1 = f"{m['p1_core']:.4f}" if language == "en" else _verdict(m["p1_core"], base["p1_core"], TARGET_P1)
        print(f"| {language} | {reading} | {ndcg} | {p1} |")
