"""The score distribution behind the pages' bands (strong, good, possible), on the loaded data.

The pages show a band instead of a bare match score. The thresholds
(`app.reference.vocab.SCORE_STRONG` and `SCORE_GOOD`) were chosen from the scores the pages show
on the demo data: the top 10 partners of every need (need page) and the top 10
needs of every provider (provider page). This prints those distributions and the
share of each band, so the choice can be checked again after the data or the
ranking changes.

Usage (after `make demo`, against the database in DATABASE_URL)::

    python benchmarks/score_bands.py
    python benchmarks/score_bands.py --key-file var/admin_key --top 10
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from fastapi.testclient import TestClient

from app.main import create_app
from app.reference.vocab import SCORE_GOOD as GOOD
from app.reference.vocab import SCORE_STRONG as STRONG


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation, as numpy's default."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def describe(name: str, scores: list[float]) -> None:
    if not scores:
        print(f"{name}: no scores")
        return
    points = ", ".join(f"p{q} {percentile(scores, q):.3f}" for q in (10, 25, 50, 75, 85, 90, 95))
    strong = sum(s >= STRONG for s in scores) / len(scores)
    good = sum(GOOD <= s < STRONG for s in scores) / len(scores)
    print(f"{name}: {len(scores)} scores, mean {statistics.fmean(scores):.3f}, {points}, max {max(scores):.3f}")
    print(f"  strong (>= {STRONG}) {strong:.0%}, good (>= {GOOD}) {good:.0%}, possible {1 - strong - good:.0%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--key-file", type=Path, default=Path("var/admin_key"), help="an admin key (sees all needs)")
    parser.add_argument("--top", type=int, default=10, help="matches per page, as the pages show (default 10)")
    args = parser.parse_args()
    headers = {"Authorization": f"Bearer {args.key_file.read_text(encoding='utf-8').strip()}"}
    with TestClient(create_app()) as client:
        needs = client.get("/v1/needs?limit=100&status=open", headers=headers).json()["items"]
        providers: list[dict[str, str]] = []
        while True:
            page = client.get(f"/v1/providers?limit=100&offset={len(providers)}").json()
            providers += page["items"]
            if len(providers) >= page["total"] or not page["items"]:
                break
        partners = [
            item["score"]
            for need in needs
            for item in client.get(f"/v1/needs/{need['id']}/matches?limit={args.top}", headers=headers).json()["items"]
        ]
        ranked_needs = [
            item["score"]
            for provider in providers
            for item in client.get(f"/v1/providers/{provider['id']}/matches?limit={args.top}", headers=headers).json()[
                "items"
            ]
        ]
    print(f"{len(needs)} open needs, {len(providers)} providers")
    describe("partners of a need (need page)", partners)
    describe("needs of a provider (provider page)", ranked_needs)
    describe("both pages", partners + ranked_needs)


if __name__ == "__main__":
    main()
