"""Copies of one recommendation from several sources: link them so each counts once.

The decision is `matching.linking.link_group`'s, per State under review and
session; this module reads the groups from the database and stores each record's
`canonical_id` (null for the copy that counts) and `link_method`. Imports relink
the groups they wrote (in their own transaction); `upr-match link-recommendations`
relinks every group, e.g. after upgrading a database imported before linking existed.

Which copy counts: OHCHR's Universal Human Rights Index first (official and
current), then an OHCHR thematic list, then a Working Group report extract, then
the UPR Info database, then anything else.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import Row, Select, bindparam, func, select, update
from sqlmodel import Session

from app.models.common import table_of
from app.models.recommendation import Recommendation
from matching.linking import LinkInput, link_group

logger = logging.getLogger("app.linking")

R = table_of(Recommendation)
SOURCE_PREFERENCE = ("ohchr_uhri", "ohchr_thematic_list", "cehdi", "upr_info")
Progress = Callable[[str, int, "int | None"], None]


def source_rank(source: str) -> int:
    """Lower is preferred: the position of the first SOURCE_PREFERENCE prefix the source starts with."""
    for rank, prefix in enumerate(SOURCE_PREFERENCE):
        if source.startswith(prefix):
            return rank
    return len(SOURCE_PREFERENCE)


def link_groups(session: Session, groups: Iterable[tuple[str, int]], progress: Progress | None = None) -> int:
    """Relink the records of these (State, session) groups; the number of copies among them afterwards."""
    sessions_of: dict[str, set[int]] = defaultdict(set)
    for state, number in groups:
        sessions_of[state].add(number)
    total = sum(len(v) for v in sessions_of.values())
    done = copies = changed = 0
    stmt = (
        update(R)
        .where(R.c.id == bindparam("rid"))
        .values(canonical_id=bindparam("canonical"), link_method=bindparam("method"))
    )
    for state in sorted(sessions_of):
        rows = session.execute(
            select(
                R.c.id, R.c.source, R.c.session, R.c.text, R.c.recommending_states, R.c.canonical_id, R.c.link_method
            )
            .where(R.c.state_under_review == state, R.c.session.in_(sorted(sessions_of[state])))
            .order_by(R.c.session, R.c.id)
        ).all()
        by_session: dict[int, list[Row[Any]]] = defaultdict(list)
        for row in rows:
            by_session[row.session].append(row)
        updates = []
        for members in by_session.values():
            inputs = [LinkInput(m.id, m.source, m.text, tuple(m.recommending_states or ())) for m in members]
            stored = {m.id: (m.canonical_id, m.link_method) for m in members}
            for decision in link_group(inputs, source_rank):
                if decision.canonical_id is not None:
                    copies += 1
                if stored[decision.id] != (decision.canonical_id, decision.method):
                    updates.append({"rid": decision.id, "canonical": decision.canonical_id, "method": decision.method})
        if updates:
            session.execute(stmt, updates)
            changed += len(updates)
        done += len(sessions_of[state])
        if progress is not None:
            progress("link", done, total)
    if changed:
        logger.info("linking: %d record(s) changed, %d copies in %d group(s)", changed, copies, total)
    return copies


def relink_all(session: Session, progress: Progress | None = None) -> int:
    """Relink every group and commit; the number of records that are copies."""
    groups = session.execute(select(R.c.state_under_review, R.c.session).group_by(R.c.state_under_review, R.c.session))
    copies = link_groups(session, [(g[0], g[1]) for g in groups], progress)
    session.commit()
    return copies


def counted_ids(ids: Any) -> Select[Any]:
    """The ids that count for a selection of recommendation ids: a copy counts as its canonical record.

    For "is this recommendation covered": a need citing the UPR Info copy covers the
    UHRI record that counts, and the other way round.
    """
    copy = R.alias("linked_copy")
    return select(func.coalesce(copy.c.canonical_id, copy.c.id)).where(copy.c.id.in_(ids))


def linked_count(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(R).where(R.c.canonical_id.is_not(None))).scalar_one())
