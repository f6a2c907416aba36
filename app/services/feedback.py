"""Learning from use: how the current ranking would have ordered the providers that accepted or declined a need.

The judgements come as `(need, provider, outcome)` triples (`matching.feedback.Judgement`): today
from a file (`upr-match evaluate --from-engagements FILE`), later from the engagements people record
on needs (accepted = relevant, declined as out of scope = not relevant). Each judged need is ranked
as `GET /v1/needs/{id}/matches` ranks it, over every provider, and `matching.feedback` scores the
order. Nothing changes the ranking from here: a new weighting must first win on held-out providers.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from pathlib import Path

from sqlmodel import Session, col, select

from app.errors import UnprocessableEntity, field_error
from app.models.need import Need
from app.services.match_index import MatchIndex
from app.services.matching import rank_for_need
from matching.feedback import FeedbackReport, Judgement, evaluate_judgements

__all__ = ["FIELDS", "evaluate", "read_judgements"]

#: The columns of a judgements file (CSV with a header row).
FIELDS = ("need_id", "provider_id", "outcome")


def read_judgements(path: Path) -> Iterator[Judgement]:
    """The `(need_id, provider_id, outcome)` rows of a CSV file; a 422 naming the line when one is incomplete."""
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [f for f in FIELDS if f not in (reader.fieldnames or [])]
        if missing:
            raise UnprocessableEntity(
                f"{path.name} lacks the column(s) {', '.join(missing)}.",
                errors=[field_error(["file", "header"], f"columns {', '.join(FIELDS)} are required")],
            )
        for line, row in enumerate(reader, start=2):
            values = {f: (row.get(f) or "").strip() for f in FIELDS}
            empty = [f for f, v in values.items() if not v]
            if empty:
                raise UnprocessableEntity(
                    f"{path.name}, line {line}: {', '.join(empty)} empty.",
                    errors=[field_error(["file", line, f], "empty") for f in empty],
                )
            yield Judgement(values["need_id"], values["provider_id"], values["outcome"])


def evaluate(session: Session, index: MatchIndex, judgements: Iterable[Judgement]) -> FeedbackReport:
    """Rank every judged need over all providers, as its matches are ranked, and score the judged order."""
    judged = list(judgements)
    snapshot = index.current(session)
    need_ids = sorted({j.need_id for j in judged})
    needs = {n.id: n for n in session.exec(select(Need).where(col(Need.id).in_(need_ids)))} if need_ids else {}
    everyone = max(1, len(snapshot.providers))
    rankings = {
        need_id: [r.id for r in rank_for_need(session, snapshot, need, limit=everyone)]
        for need_id, need in needs.items()
    }
    return evaluate_judgements(judged, rankings)
