"""Check the controlled theme vocabulary on the data: distinct labels before and after, and the mapping's agreement.

    python benchmarks/theme_mapping.py [--file recommendations.jsonl] [--show 15]

Prints how many distinct theme and affected-persons labels the file has as the sources spell them,
and how many controlled entries they become (`app/reference/themes.json`). Then the check of the
mapping on the records that carry both schemes: UPR Info's copy of Slovenia's session 20
(`overlaps_other_source`) against its twin in OHCHR's thematic list (same State, session and
normalised text, or one of the recommendations a joint OHCHR entry merges). For each pair the
codes of the UPR Info issues are compared with the codes of the OHCHR themes: how many pairs share a
code, share a heading (the code's letter: A framework, D civil and political rights...), and the
mean Jaccard overlap of the two code sets; then the most frequent disagreements.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.reference.themes import affected_groups, theme_codes, theme_index_values
from matching.linking import normalise_text, text_parts

DEFAULT_FILE = Path(os.environ.get("UPR_DATA_DIR", Path(__file__).resolve().parents[2] / "shared/data/upr"))


@dataclass(frozen=True, slots=True)
class Agreement:
    pairs: int
    share_code: int
    share_heading: int
    mean_jaccard: float
    disagreements: list[tuple[tuple[str, str], int]]


def _records(path: Path) -> Iterator[dict[str, Any]]:
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def distinct_counts(records: Iterable[dict[str, Any]]) -> dict[str, int]:
    """Distinct theme and affected-persons labels as spelled by the sources, and controlled entries after."""
    themes: set[str] = set()
    groups: set[str] = set()
    for record in records:
        themes.update(record.get("themes") or ())
        groups.update(record.get("affected_groups") or ())
    return {
        "themes_before": len(themes),
        "themes_after": len({v for t in themes for v in theme_index_values([t])}),
        "affected_before": len(groups),
        "affected_after": len(set(affected_groups(groups))),
    }


def twins(records: list[dict[str, Any]]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(UPR Info record, its OHCHR thematic-list twin) for every overlapping record a twin is found for."""
    ohchr: dict[tuple[str, int], dict[str, dict[str, Any]]] = {}
    for r in records:
        if r.get("source") == "ohchr_thematic_list_slovenia" and r.get("themes"):
            group = ohchr.setdefault((r["state_under_review_iso3"], r["session"]), {})
            for key in (normalise_text(r["text"]), *text_parts(r["text"])):
                group.setdefault(key, r)
    found = []
    for r in records:
        if r.get("overlaps_other_source") and r.get("theme_scheme") == "upr_info_issues" and r.get("themes"):
            twin = ohchr.get((r["state_under_review_iso3"], r["session"]), {}).get(normalise_text(r["text"]))
            if twin is not None:
                found.append((r, twin))
    return found


def _codes(labels: Iterable[str]) -> set[str]:
    return {code for label in labels for code in theme_codes(label)}


def agreement(pairs: list[tuple[dict[str, Any], dict[str, Any]]]) -> Agreement:
    """How far the codes of each pair's UPR Info issues agree with the codes of its twin's OHCHR themes."""
    share_code = share_heading = 0
    jaccard = 0.0
    missed: Counter[tuple[str, str]] = Counter()
    for upr, twin in pairs:
        mine, theirs = _codes(upr["themes"]), _codes(twin["themes"])
        share_code += bool(mine & theirs)
        share_heading += bool({c[0] for c in mine} & {c[0] for c in theirs})
        jaccard += len(mine & theirs) / len(mine | theirs) if mine | theirs else 1.0
        if not mine & theirs:
            for issue in upr["themes"]:
                for theme in twin["themes"]:
                    missed[(issue, theme)] += 1
    n = len(pairs)
    return Agreement(n, share_code, share_heading, jaccard / n if n else 0.0, missed.most_common())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--file", type=Path, default=DEFAULT_FILE / "recommendations.jsonl")
    ap.add_argument("--show", type=int, default=15, help="how many disagreements to list")
    args = ap.parse_args()
    records = list(_records(args.file))
    counts = distinct_counts(records)
    before, after = counts["themes_before"], counts["themes_after"]
    print(f"theme labels: {before} distinct as the sources spell them -> {after} controlled")
    print(
        f"affected persons: {counts['affected_before']} distinct as the sources spell them -> "
        f"{counts['affected_after']} controlled"
    )
    pairs = twins(records)
    found = agreement(pairs)
    overlapping = sum(1 for r in records if r.get("overlaps_other_source"))
    print(
        f"records in both schemes: {overlapping} UPR Info records flagged, {found.pairs} paired with their OHCHR twin"
    )
    if found.pairs:
        print(f"  share a code:    {found.share_code} of {found.pairs} ({found.share_code / found.pairs:.0%})")
        print(f"  share a heading: {found.share_heading} of {found.pairs} ({found.share_heading / found.pairs:.0%})")
        print(f"  mean Jaccard of the code sets: {found.mean_jaccard:.2f}")
    for (issue, theme), n in found.disagreements[: args.show]:
        print(
            f"  no shared code {n:3d}x: UPR Info {issue!r} {sorted(theme_codes(issue))} vs OHCHR {theme!r} "
            f"{sorted(theme_codes(theme))}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
