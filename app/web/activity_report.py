"""An activity's life on the pages: mark it started, report it completed, correct it.

A party changes a confirmed activity by proposing (the shared-record rules of
`app.services.activity_proposals`, the service of `PATCH /v1/activities/{id}`): "Mark as
started" proposes the status `ongoing`; the report form proposes what changed (status, what was
done, what was achieved, what was hard, the lessons, the document links); the other party
accepts it on the activity's page. An unconfirmed claim is changed directly and waits for the
other party's confirmation again. Every step comes back to the activity's page with a sentence
saying what happened (`?done=`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from app.core.errors import Conflict, Forbidden, PreconditionFailed, UnprocessableEntity
from app.core.identity import Principal
from app.http.deps import SessionDep
from app.models.activity import Activity, ActivityUpdate
from app.models.activity_history import ActivityProposal
from app.reference.vocab import ACTIVITY_STATUSES
from app.services import access
from app.services import activities as activity_service
from app.services import activity_proposals as proposal_service
from app.web.forms import FieldError, first, from_problem, from_validation, int_or, split_lines
from app.web.i18n import N_
from app.web.session import FormDep, SignedInDep
from app.web.templating import redirect, render

router = APIRouter(include_in_schema=False)

# What the activity's page says after each step (`?done=<key>`); anything else says nothing.
DONE: dict[str, str] = {
    "recorded": N_("The activity is recorded. The other party is told and confirms it."),
    "confirmed": N_("Thank you: the activity is confirmed."),
    "declined": N_("The activity is declined; the other party sees your reason."),
    "started": N_("The activity is marked as started."),
    "start-proposed": N_("You proposed to mark the activity as started. The other party is told and accepts it."),
    "reported": N_("Your report is saved. The other party is told and confirms the activity."),
    "report-proposed": N_(
        "Your report is proposed. The activity stays as it was until the other party accepts it; they are told."
    ),
    "accepted": N_("You accepted the proposal: the activity now reads as proposed."),
    "rejected": N_("You rejected the proposal; the party that made it is told."),
    "withdrawn": N_("You withdrew your proposal."),
    "stale": N_(
        "Nothing was sent: the activity was changed, or a change proposed, after you opened the page. Check it below."
    ),
}
REPORT_FIELDS = ("status", "description", "outcomes", "challenges", "lessons", "start_date", "end_date")
LABELS: dict[str, str] = {
    "status": N_("Status"),
    "description": N_("What was done"),
    "outcomes": N_("What was achieved"),
    "challenges": N_("What was hard"),
    "lessons": N_("Lessons learned"),
    "documents": N_("Documents"),
    "start_date": N_("The start date"),
    "end_date": N_("The end date"),
}
MESSAGES: dict[tuple[str, str], str] = {
    ("status", "literal_error"): N_("Choose the status from the list."),
    ("documents", "value_error"): N_("Give each document as an https:// link, one per line."),
    ("documents", "too_long"): N_("Give at most 20 document links."),
}
NO_CHANGE = N_("Nothing changed: change at least one field before sending.")
OUTCOMES_FIRST = N_("Say what was achieved before marking the activity completed.")


@dataclass
class ReportForm:
    """The report form as typed (dates and links as typed, so a mistake is shown as typed)."""

    status: str = ""
    description: str = ""
    outcomes: str = ""
    challenges: str = ""
    lessons: str = ""
    documents: str = ""
    start_date: str = ""
    end_date: str = ""
    errors: list[FieldError] = field(default_factory=list)

    @classmethod
    def of(cls, row: Activity) -> ReportForm:
        """The form filled with the activity as it reads now."""
        form = cls(documents="\n".join(row.documents))
        for name in REPORT_FIELDS:
            value = getattr(row, name)
            setattr(form, name, value.isoformat() if isinstance(value, date) else str(value or ""))
        return form

    @classmethod
    def read(cls, form: Any) -> ReportForm:
        typed = cls()
        for name in (*REPORT_FIELDS, "documents"):
            setattr(typed, name, str(form.get(name) or "").strip())
        return typed

    def changes(self, row: Activity) -> dict[str, Any]:
        """The fields that differ from the activity, as `PATCH` takes them (a date that is not one: an error)."""
        sent: dict[str, Any] = {
            "status": self.status or None,
            "description": self.description,
            "outcomes": self.outcomes or None,
            "challenges": self.challenges or None,
            "lessons": self.lessons or None,
            "documents": split_lines(self.documents),
        }
        for name in ("start_date", "end_date"):
            raw = getattr(self, name)
            try:
                sent[name] = date.fromisoformat(raw) if raw else None
            except ValueError:
                self.errors.append(FieldError(name, N_("Write the date as year-month-day, for example 2025-03-31.")))
        if sent["status"] == "completed" and not sent["outcomes"]:
            self.errors.append(FieldError("outcomes", OUTCOMES_FIRST))
        return {name: value for name, value in sent.items() if value != getattr(row, name)}


def done_notice(done: str | None) -> str | None:
    """The sentence for `?done=`, if it is one of the steps."""
    return DONE.get(done or "")


def may_report(principal: Principal, row: Activity) -> bool:
    """The parties (and admins) change an activity that is not declined."""
    return access.can_write_activity(principal, row) and row.confirmation != "declined"


def _editable(session: SessionDep, principal: Principal, activity_id: str) -> Activity:
    row = activity_service.get_activity(session, principal=principal, activity_id=activity_id)
    if not may_report(principal, row):
        raise Forbidden(f"Only the parties to activity {activity_id} may report on it or correct it.")
    return row


def _send(
    session: SessionDep, principal: Principal, row: Activity, changes: dict[str, Any], version: int
) -> Activity | ActivityProposal:
    data = ActivityUpdate.model_validate(changes)
    return proposal_service.edit_activity(
        session, principal=principal, activity_id=row.id, data=data, expected=frozenset({version})
    )


def _done(
    request: Request, activity_id: str, result: Activity | ActivityProposal, *, started: bool
) -> RedirectResponse:
    proposed = isinstance(result, ActivityProposal)
    key = ("start-proposed" if proposed else "started") if started else ("report-proposed" if proposed else "reported")
    return redirect(request, f"/activities/{activity_id}?done={key}")


def _render(request: Request, row: Activity, form: ReportForm, *, status_code: int = 200) -> HTMLResponse:
    return render(
        request,
        "activities/report.html",
        {"a": row, "form": form, "statuses": ACTIVITY_STATUSES, "errors": form.errors},
        status_code=status_code,
    )


@router.post("/activities/{activity_id}/start", response_model=None)
def start_activity(
    request: Request, activity_id: str, session: SessionDep, principal: SignedInDep, form: FormDep
) -> RedirectResponse | HTMLResponse:
    """Mark a planned activity started (today, unless it has a start date): proposed, once confirmed."""
    row = _editable(session, principal, activity_id)
    changes: dict[str, Any] = {"status": "ongoing"}
    if row.start_date is None:
        changes["start_date"] = date.today()
    try:
        result = _send(session, principal, row, changes, int_or(first(form, "version"), 0))
    except (PreconditionFailed, Conflict):
        return _stale(request, session, principal, activity_id)
    return _done(request, activity_id, result, started=True)


@router.get("/activities/{activity_id}/report", response_class=HTMLResponse)
def report_form(request: Request, activity_id: str, session: SessionDep, principal: SignedInDep) -> HTMLResponse:
    """The form a party reports progress or completion with, or corrects the activity."""
    row = _editable(session, principal, activity_id)
    return _render(request, row, ReportForm.of(row))


@router.post("/activities/{activity_id}/report", response_model=None)
def send_report(
    request: Request, activity_id: str, session: SessionDep, principal: SignedInDep, form: FormDep
) -> RedirectResponse | HTMLResponse:
    """Send what changed, every mistake shown at once; a confirmed activity's change is a proposal."""
    row = _editable(session, principal, activity_id)
    values = ReportForm.read(form)
    changes = values.changes(row)
    if not changes and not values.errors:
        values.errors.append(FieldError("status", NO_CHANGE))
    try:
        ActivityUpdate.model_validate(changes)
    except ValidationError as exc:
        values.errors += [e for e in from_validation(exc, labels=LABELS, messages=MESSAGES) if e not in values.errors]
    if values.errors:
        return _render(request, row, values, status_code=422)
    try:
        result = _send(session, principal, row, changes, int_or(first(form, "version"), 0))
    except UnprocessableEntity as exc:
        values.errors = from_problem(exc)
        return _render(request, row, values, status_code=422)
    except (PreconditionFailed, Conflict):
        return _stale(request, session, principal, activity_id)
    return _done(request, activity_id, result, started=False)


def _stale(request: Request, session: SessionDep, principal: Principal, activity_id: str) -> RedirectResponse:
    """Back to the activity's page, saying why nothing was sent (someone wrote first, or a proposal waits)."""
    session.rollback()
    return redirect(request, f"/activities/{activity_id}?done=stale")
