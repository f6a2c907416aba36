"""Precision and recall of cross-source linking on the known pairs of the shared data.

Known pairs (the truth):

1. Slovenia, session 20: the 168 UPR Info records flagged `overlaps_other_source` and
   the OHCHR thematic-list record each one is (`tests/data/svn_s20_pairs.csv`: 155 with
   the same text, 13 read by hand, 3 thematic entries merging 2-4 States' texts);
2. the UHRI sample: each of its 2,289 UPR records was built from one shared record
   (thematic list or Working Group report extract) and carries the same published
   text: the shared record whose `text_raw` equals the UHRI `Text` without its HTML,
   for the same State and session.

Every other record of the same groups is its own recommendation. A record is
correctly linked when its canonical record is in its true group; precision is the
share of linked records linked correctly, recall the share of records that should
be linked (all but one per true group) that are.

The similarity threshold is chosen on half of set 1 (pairs whose thematic paragraph
number ends in an odd digit) and reported on the other half and on set 2.

    python benchmarks/linking_quality.py                 # the table, with the shipped threshold
    python benchmarks/linking_quality.py --sweep         # also precision/recall per threshold on the tuning half
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.core.jsontypes import JsonObject  # noqa: E402
from app.importing.text_split import strip_html  # noqa: E402
from app.importing.uhri import convert  # noqa: E402
from app.services.linking import source_rank  # noqa: E402
from matching.linking import SIMILAR_THRESHOLD, LinkInput, link_group  # noqa: E402

PAIRS = ROOT / "tests" / "data" / "svn_s20_pairs.csv"


def load(data_dir: Path) -> tuple[list[JsonObject], list[JsonObject]]:
    shared = [json.loads(line) for line in (data_dir / "recommendations.jsonl").open(encoding="utf-8")]
    uhri = []
    for obj in json.loads((data_dir / "samples" / "uhri-export-sample.json").read_text(encoding="utf-8")):
        if obj.get("Body") != "- UPR":
            continue
        record, problems = convert(obj)
        assert not problems and record is not None, problems
        record["_raw"] = strip_html(obj["Text"])
        uhri.append(record)
    return shared, uhri


def truth(shared: list[JsonObject], uhri: list[JsonObject]) -> dict[str, str]:
    """Record id -> id of its true group (the shared record it is a copy of, or itself)."""
    group = {r["id"]: r["id"] for r in shared}
    for row in csv.DictReader(PAIRS.open(encoding="utf-8")):
        group[row["upr_info_id"]] = row["thematic_list_id"]
    by_raw = {
        (r["state_under_review_iso3"], r["session"], r["text_raw"]): r["id"]
        for r in shared
        if r["source"] != "upr_info_via_terman"
    }
    for r in uhri:
        group[r["id"]] = by_raw[(r["state_under_review"], r["session"], r["_raw"])]
    return group


def decide(records: Iterable[JsonObject], threshold: float, check_states: bool = True) -> dict[str, str]:
    """Record id -> the id of the record it counts as (its canonical record, or itself)."""
    groups: dict[tuple[str, int], list[LinkInput]] = defaultdict(list)
    for r in records:
        state = r.get("state_under_review_iso3") or r["state_under_review"]
        states = r.get("recommending_states_iso3") if "recommending_states_iso3" in r else r["recommending_states"]
        groups[(state, r["session"])].append(
            LinkInput(r["id"], r["source"], r["text"], tuple(s for s in states or () if s))
        )
    canonical: dict[str, str] = {}
    for members in groups.values():
        for d in link_group(members, source_rank, threshold=threshold, check_states=check_states):
            canonical[d.id] = d.canonical_id or d.id
    return canonical


def score(canonical: dict[str, str], group: dict[str, str], ids: Iterable[str]) -> tuple[int, int, int]:
    """(linked, linked correctly, should be linked) among these ids."""
    ids = list(ids)
    roots: dict[str, list[str]] = defaultdict(list)
    for rid in canonical:
        roots[group[rid]].append(rid)
    linked = correct = expected = 0
    for rid in ids:
        true_members = roots[group[rid]]
        if canonical[rid] != rid:
            linked += 1
            correct += group[canonical[rid]] == group[rid]
        # Of a true group of n records, n-1 must be linked; count each member but one.
        if len(true_members) > 1 and rid != min(true_members, key=lambda m: (canonical[m] != m, m)):
            expected += 1
    return linked, correct, expected


def line(name: str, counts: tuple[int, int, int]) -> str:
    linked, correct, expected = counts
    precision = correct / linked if linked else 1.0
    recall = min(correct, expected) / expected if expected else 1.0
    return f"| {name} | {linked} | {correct} | {expected} | {precision:.3f} | {recall:.3f} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "upr")
    parser.add_argument("--sweep", action="store_true", help="precision/recall per threshold on the tuning half")
    args = parser.parse_args()
    shared, uhri = load(args.data)
    group = truth(shared, uhri)
    pairs = list(csv.DictReader(PAIRS.open(encoding="utf-8")))
    tune = {p["upr_info_id"] for p in pairs if int(p["thematic_list_id"][-1]) % 2 == 1}
    report = {p["upr_info_id"] for p in pairs} - tune
    svn20 = [r for r in shared if r["state_under_review_iso3"] == "SVN" and r["session"] == 20]
    if args.sweep:
        # With its partner, each record of the tuning half must link to it; with its partner
        # removed (orphans), any link it gets is wrong: the threshold must keep those at 0.
        partners = {group[rid] for rid in tune}
        orphans = [r for r in svn20 if r["id"] not in partners]
        print("Tuning half of set 1 (82 records): recall with their partners; wrong links without them (orphans).")
        print("| threshold | precision | recall | orphans linked | recall, no State check | orphans, no State check |")
        print("|---|---|---|---|---|---|")
        for threshold in (0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.01):
            cells = []
            for check in (True, False):
                linked, correct, expected = score(decide(svn20, threshold, check), group, tune)
                wrong = sum(1 for rid, c in decide(orphans, threshold, check).items() if rid in tune and c != rid)
                cells.append((correct / linked if linked else 1.0, correct / expected, wrong))
            (p1, r1, w1), (_, r2, w2) = cells
            print(f"| {threshold:.2f} | {p1:.3f} | {r1:.3f} | {w1} | {r2:.3f} | {w2} |")
        print()
    threshold = SIMILAR_THRESHOLD
    print(f"threshold {threshold} (matching.linking.SIMILAR_THRESHOLD)")
    print("| known pairs | linked | correct | should be linked | precision | recall |")
    print("|---|---|---|---|---|---|")
    alone = decide(shared, threshold)
    print(line("set 1, tuning half (UPR Info -> thematic list)", score(alone, group, tune)))
    print(line("set 1, report half (UPR Info -> thematic list)", score(alone, group, report)))
    others = [r["id"] for r in shared if r["id"] not in tune | report]
    print(line("shared file, every other record (no true pair)", score(alone, group, others)))
    both = decide(shared + uhri, threshold)
    print(line("set 2, UHRI sample on top of the shared file", score(both, group, [r["id"] for r in shared + uhri])))


if __name__ == "__main__":
    main()
