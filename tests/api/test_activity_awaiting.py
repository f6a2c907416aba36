"""Which unconfirmed activities wait for whose answer: the list filter agrees with the rule, for every caller."""

from __future__ import annotations

from sqlmodel import Session

from app.core.identity import ANONYMOUS, Principal
from app.core.pagination import PageParams
from app.models.activity import Activity
from app.services import access
from app.services import activities as activity_service
from tests.factories import make_activity, make_provider


def test_awaiting_lists_exactly_what_each_caller_answers(session: Session) -> None:
    x = make_provider(session)
    y = make_provider(session)
    rows: list[Activity] = []
    for provider in (x, y):
        for state in ("FRA", "KEN"):
            for recorder, confirmation in (
                ("provider", "unconfirmed"),
                ("state", "unconfirmed"),
                ("state", "declined"),
                ("provider", "confirmed"),
                (None, "confirmed"),
            ):
                rows.append(
                    make_activity(
                        session,
                        provider,
                        state=state,
                        status="ongoing",
                        confirmation=confirmation,
                        recorded_by_role=recorder,
                    )
                )
    callers = [
        Principal(role="provider", key_id="k1", provider_id=x.id),
        Principal(role="state", key_id="k2", state="FRA"),
        Principal(role="state", key_id="k3", state="DEU"),
        Principal(role="admin", key_id="k4"),
        Principal(role="provider", key_id="k5"),  # not bound to a provider yet
        ANONYMOUS,
    ]
    page = PageParams(limit=100, offset=0)
    for caller in callers:
        mine, total = activity_service.list_activities(session, principal=caller, page=page, awaiting="caller")
        expected = {r.id for r in rows if r.confirmation == "unconfirmed" and access.can_answer_activity(caller, r)}
        assert {a.id for a in mine} == expected and total == len(expected), caller
        theirs, _ = activity_service.list_activities(session, principal=caller, page=page, awaiting="other_party")
        recorded = {
            r.id
            for r in rows
            if r.confirmation == "unconfirmed"
            and access.is_activity_party(caller, r)
            and r.recorded_by_role == caller.role
        }
        assert {a.id for a in theirs} == recorded, caller
        assert not expected & recorded
    fra = callers[1]
    assert len(activity_service.list_activities(session, principal=fra, page=page, awaiting="caller")[0]) == 2
    assert len(activity_service.list_activities(session, principal=callers[0], page=page, awaiting="caller")[0]) == 2
