"""Learning from use: how the current ranking would have ordered the providers that accepted or declined a need.

The judgements come as `(need, provider, outcome)` triples (`matching.feedback.Judgement`): from the
engagements people answered (`engagement_judgements`: accepted = relevant, declined as out of scope =
not relevant, other declines ignored) or from a CSV file of the same triples (`read_judgements`).
Each judged need is ranked as `GET /v1/needs/{id}/matches` ranks it, over every provider, keeping
those that declined it (the service leaves them out of its answers, but the question is where the
ranking put them), and `matching.feedback` scores the order. Nothing changes the ranking from here:
a new weighting must first win on held-out providers.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from pathlib import Path

from sqlmodel import Session, col, select

from app.core.errors import UnprocessableEntity, field_error
from app.match_index.index import MatchIndex
from app.match_index.rows import need_facts
from app.models.engagement import Engagement
from app.models.need import Need
from app.services.matching import rank_for_need
from matching.feedback import ACCEPTED, FeedbackReport, Judgement, evaluate_judgements

__all__ = ["FIELDS", "engagement_judgements", "evaluate", "read_judgements"]

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


def engagement_judgements(session: Session) -> Iterator[Judgement]:
    """Every answered engagement as a judgement, oldest answer first (a later answer on a pair replaces it).

    The outcome is `accepted`, or `declined_<reason>` (`declined_out_of_scope`, `declined_no_capacity`...);
    proposed and withdrawn engagements say nothing yet and are not read.
    """
    rows = session.exec(
        select(Engagement.need_id, Engagement.provider_id, Engagement.status, Engagement.decline_reason)
        .where(col(Engagement.status).in_(["accepted", "declined"]))
        .order_by(col(Engagement.answered_at), col(Engagement.created_at), col(Engagement.id))
    )
    for need_id, provider_id, status, reason in rows:
        outcome = ACCEPTED if status == "accepted" else f"declined_{reason or 'other'}"
        yield Judgement(need_id, provider_id, outcome)


def evaluate(session: Session, index: MatchIndex, judgements: Iterable[Judgement]) -> FeedbackReport:
    """Rank every judged need over all providers, as its matches are ranked, and score the judged order.

    The providers that declined a need stay in its ranking here (the service leaves out those that
    declined as out of scope): the question is where the ranking would have put them.
    """
    judged = list(judgements)
    snapshot = index.current(session)
    need_ids = sorted({j.need_id for j in judged})
    needs = {n.id: n for n in session.exec(select(Need).where(col(Need.id).in_(need_ids)))} if need_ids else {}
    everyone = max(1, len(snapshot.providers))
    rankings = {
        need_id: [
            r.id
            for r in rank_for_need(
                session,
                snapshot,
                snapshot.needs.facts.get(need_id) or need_facts(need),
                limit=everyone,
                exclude_declined=False,
            )
        ]
        for need_id, need in needs.items()
    }
    return evaluate_judgements(judged, rankings)
