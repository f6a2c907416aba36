"""The activity pages: the public record, one activity, the form to record one, confirm and decline.

What one party records is a claim about the other too, so it waits for the other
party's confirmation (`app.services.activities`): the public list shows confirmed
activities only; a party sees, above it, those waiting for its own answer and those
waiting for the other party's. Recording, confirming and declining call the
services of `POST /v1/activities`, `/confirm` and `/decline` (same rules, the
version read travels as a hidden field like `If-Match`).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from app.core.errors import Conflict, Forbidden, NotFound, PreconditionFailed, UnprocessableEntity
from app.core.identity import Principal
from app.core.jsontypes import JsonObject
from app.core.pagination import PageParams
from app.http.deps import PageParamsDep, SessionDep
from app.models.activity import Activity, ActivityCreate, ActivityDecline, ActivityPublic
from app.models.activity_history import ProposalAnswer
from app.reference.regions import un_states
from app.reference.vocab import ACTIVITY_STATUSES, MODALITIES
from app.services import access, directory
from app.services import activities as activity_service
from app.services import activity_proposals as proposal_service
from app.services import coverage as coverage_service
from app.services import needs as need_service
from app.services import overview as overview_service
from app.web import picker
from app.web.activity_form import LABELS, MESSAGES, PROBLEM_MESSAGES, ActivityFormState
from app.web.forms import FieldError, blank, first, from_problem, from_validation, int_or
from app.web.i18n import N_, gettext
from app.web.labels import local_state_name, state_name
from app.web.session import FormDep, SignedInDep, WebDep
from app.web.templating import Pager, redirect, render, safe_next

router = APIRouter(include_in_schema=False)

Text = Annotated[str | None, Query(max_length=200)]
WAITING_LIMIT = 50  # activities listed in each "waiting" section
NEED_CHOICES = 100  # needs offered in the form's list
STALE = N_("Someone changed this activity after you opened the page. Check it again below, then answer.")


# --- the list --------------------------------------------------------------------------


def waiting(
    session: SessionDep, principal: Principal, *, awaiting: Literal["caller", "other_party"], limit: int = WAITING_LIMIT
) -> tuple[list[ActivityPublic], int]:
    """(activities, total) that wait for the caller's answer (`caller`) or the other party's (`other_party`)."""
    if principal.is_anonymous:
        return [], 0
    return activity_service.list_activities(
        session, principal=principal, page=PageParams(limit=limit, offset=0), awaiting=awaiting
    )


@router.get("/activities", response_class=HTMLResponse)
def list_activities(
    request: Request,
    session: SessionDep,
    web: WebDep,
    page: PageParamsDep,
    state: Text = None,
    status: Text = None,
    provider_id: Text = None,
) -> HTMLResponse:
    """The public record of confirmed activities; above it, a party's activities waiting for an answer."""
    filters = {
        "state": (blank(state) or "").upper() or None,
        "status": blank(status) if blank(status) in ACTIVITY_STATUSES else None,
        "provider_id": blank(provider_id),
    }
    principal = web.principal
    rows, total = activity_service.list_activities(
        session,
        principal=principal,
        page=page,
        confirmation="confirmed",
        state=filters["state"],
        status=filters["status"],
        provider_id=filters["provider_id"],
    )
    for_me, for_me_total = waiting(session, principal, awaiting="caller")
    for_them, for_them_total = waiting(session, principal, awaiting="other_party")
    declined: list[ActivityPublic] = []
    declined_total = 0
    if not principal.is_anonymous:
        declined, declined_total = activity_service.list_activities(
            session, principal=principal, page=PageParams(limit=WAITING_LIMIT, offset=0), confirmation="declined"
        )
    everything = [*rows, *for_me, *for_them, *declined]
    counts = directory.list_state_counts(session, principal=principal)
    return render(
        request,
        "activities/list.html",
        {
            "activities": rows,
            "for_me": for_me,
            "for_me_total": for_me_total,
            "for_them": for_them,
            "for_them_total": for_them_total,
            "declined": declined,
            "declined_total": declined_total,
            "providers": overview_service.get_providers_by_ids(session, ids=[a.provider_id for a in everything]),
            "filters": filters,
            "statuses": ACTIVITY_STATUSES,
            "states": sorted((c.state for c in counts if c.activities), key=state_name),
            "can_record": may_record(principal),
            "pager": Pager(total=total, limit=page.limit, offset=page.offset),
        },
    )


# --- one activity ----------------------------------------------------------------------


def _detail(
    request: Request,
    session: SessionDep,
    principal: Principal,
    row: Activity,
    *,
    reason: str = "",
    errors: list[FieldError] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    activity = activity_service.present_activities(session, [row], principal)[0]
    need = need_service.get_need(session, principal=principal, need_id=activity.need_id) if activity.need_id else None
    may_answer = access.can_answer_activity(principal, row)
    history: JsonObject = {"proposal": None, "versions": []}
    if access.can_read_activity_history(principal, row):
        first_page = PageParams(limit=WAITING_LIMIT, offset=0)
        pending, _ = proposal_service.list_proposals(
            session, principal=principal, activity_id=row.id, page=PageParams(limit=1, offset=0), status="pending"
        )
        proposal = pending[0] if pending else None
        history = {
            "proposal": proposal,
            "versions": proposal_service.list_versions(
                session, principal=principal, activity_id=row.id, page=first_page
            )[0],
            "can_answer_proposal": proposal is not None
            and access.can_answer_proposal(principal, row, proposal.proposed_by),
            "can_withdraw_proposal": proposal is not None
            and access.can_withdraw_proposal(principal, row, proposal.proposed_by),
        }
    return render(
        request,
        "activities/detail.html",
        {
            "a": activity,
            "need": need,
            "provider": overview_service.get_providers_by_ids(session, ids=[row.provider_id]).get(row.provider_id),
            "recommendations": overview_service.get_recommendations_by_ids(session, ids=activity.recommendation_ids),
            "can_confirm": may_answer and row.confirmation in ("unconfirmed", "declined"),
            "can_decline": may_answer and row.confirmation == "unconfirmed",
            "is_party": access.is_activity_party(principal, row) or principal.is_admin,
            **history,
            "reason": reason,
            "errors": errors or [],
        },
        status_code=status_code,
    )


@router.get("/activities/new", response_class=HTMLResponse)
def new_activity(
    request: Request,
    session: SessionDep,
    principal: SignedInDep,
    state: Text = None,
    provider: Annotated[str | None, Query(max_length=36)] = None,
    need: Annotated[str | None, Query(max_length=36)] = None,
) -> HTMLResponse:
    """The form either party uses to record an activity: for a need (its recommendations ticked), or from scratch."""
    check_may_record(principal)
    form = ActivityFormState(state=(blank(state) or "").upper() or None, provider_id=blank(provider) or "")
    if need:
        row = need_service.get_need(session, principal=principal, need_id=need)
        form.state, form.need_id = row.state, row.id
        form.chosen = need_service.recommendation_ids_of(session, [row.id])[row.id]
    _fix_parties(principal, form)
    return _render_form(request, session, principal, form)


@router.post("/activities/new", response_model=None)
def create_activity(
    request: Request, session: SessionDep, principal: SignedInDep, form: FormDep
) -> HTMLResponse | RedirectResponse:
    """Browse (another theme, words or page) keeping every tick, or record the activity through the API's service."""
    check_may_record(principal)
    values = ActivityFormState.from_form(form)
    _fix_parties(principal, values)
    if values.browsing(form) or values.state is None:
        return _render_form(request, session, principal, values)
    payload = values.payload()
    try:
        data = ActivityCreate.model_validate(payload)
    except ValidationError as exc:  # every mistake at once, with those found while reading the form
        data = None
        values.errors += [e for e in from_validation(exc, labels=LABELS, messages=MESSAGES) if e not in values.errors]
    if data is not None and not values.errors:
        try:
            row = activity_service.create_activity(session, principal=principal, data=data)
        except UnprocessableEntity as exc:
            values.errors = [
                FieldError(e.field, gettext(PROBLEM_MESSAGES[e.field]) if e.field in PROBLEM_MESSAGES else e.message)
                for e in from_problem(exc)
            ]
        else:
            return redirect(request, f"/activities/{row.id}", flash="activity_recorded")
    return _render_form(request, session, principal, values, status_code=422)


def may_record(principal: Principal) -> bool:
    """States, providers with a profile, and administrators record activities."""
    return principal.role in {"state", "admin"} or (principal.role == "provider" and principal.provider_id is not None)


def check_may_record(principal: Principal) -> None:
    if may_record(principal):
        return
    if principal.role == "provider":
        raise Forbidden(
            gettext("Create your organisation’s profile first: providers record activities once they have one.")
        )
    raise Forbidden(gettext("Activities are recorded by the State or the provider involved, or by an administrator."))


def _fix_parties(principal: Principal, form: ActivityFormState) -> None:
    """A State records for itself and a provider for itself, whatever the form says."""
    if principal.role == "state":
        if form.state and form.state != principal.state:
            raise Forbidden(
                gettext("You are signed in for %(mine)s; you may not record activities of %(other)s.")
                % {"mine": local_state_name(principal.state), "other": local_state_name(form.state)}
            )
        form.state = principal.state
    elif principal.role == "provider":
        form.provider_id = principal.provider_id or ""


def _render_form(
    request: Request,
    session: SessionDep,
    principal: Principal,
    form: ActivityFormState,
    *,
    status_code: int = 200,
) -> HTMLResponse:
    """The activity form: its parties, the need, what was done and the recommendations it works on."""
    context: dict[str, object] = {
        "form": form,
        "pick": picker.nothing_to_browse(),
        "role": principal.role,
        "providers": directory.provider_names(session) if principal.role != "provider" else [],
        "own_provider": None,
        "needs": [],
        "modalities": MODALITIES,
        "statuses": ACTIVITY_STATUSES,
        "state_options": [],
    }
    if principal.role == "provider" and principal.provider_id:
        context["own_provider"] = overview_service.get_providers_by_ids(session, ids=[principal.provider_id]).get(
            principal.provider_id
        )
    if form.state is None:
        codes = un_states() | set(coverage_service.state_names(session))
        context["state_options"] = sorted(codes, key=state_name)
        return render(request, "activities/form.html", context, status_code=status_code)
    needs, _total = need_service.list_needs(
        session, principal=principal, page=PageParams(limit=NEED_CHOICES, offset=0), state=form.state
    )
    context.update(pick=picker.browse(session, form), needs=needs)
    return render(request, "activities/form.html", context, status_code=status_code)


@router.get("/activities/{activity_id}", response_class=HTMLResponse)
def read_activity(request: Request, activity_id: str, session: SessionDep, web: WebDep) -> HTMLResponse:
    """One activity: its parties, what was done, the recommendations, and whether the other party confirmed it."""
    row = activity_service.get_activity(session, principal=web.principal, activity_id=activity_id)
    return _detail(request, session, web.principal, row)


@router.post("/activities/{activity_id}/confirm", response_model=None)
def confirm_activity(
    request: Request, activity_id: str, session: SessionDep, principal: SignedInDep, form: FormDep
) -> HTMLResponse | RedirectResponse:
    """The other party confirms it took place as recorded (the service of `POST /v1/activities/{id}/confirm`)."""
    version = int_or(first(form, "version"), 0)
    try:
        activity_service.confirm_activity(
            session, principal=principal, activity_id=activity_id, expected=frozenset({version})
        )
    except (PreconditionFailed, Conflict):
        return _stale(request, session, principal, activity_id)
    return redirect(request, safe_next(first(form, "next"), f"/activities/{activity_id}"))


@router.post("/activities/{activity_id}/decline", response_model=None)
def decline_activity(
    request: Request, activity_id: str, session: SessionDep, principal: SignedInDep, form: FormDep
) -> HTMLResponse | RedirectResponse:
    """The other party says it did not take place as recorded, and why (`POST /v1/activities/{id}/decline`)."""
    version = int_or(first(form, "version"), 0)
    reason = str(form.get("reason") or "").strip()
    try:
        data = ActivityDecline.model_validate({"reason": reason})
        activity_service.decline_activity(
            session, principal=principal, activity_id=activity_id, data=data, expected=frozenset({version})
        )
    except ValidationError:
        row = activity_service.get_activity(session, principal=principal, activity_id=activity_id)
        message = "Say in a few words why it did not take place as recorded (at least 3 characters)."
        return _detail(
            request, session, principal, row, reason=reason, errors=[FieldError("reason", message)], status_code=422
        )
    except (PreconditionFailed, Conflict):
        return _stale(request, session, principal, activity_id)
    return redirect(request, f"/activities/{activity_id}")


ANSWERS: dict[str, Literal["accepted", "rejected", "withdrawn"]] = {
    "accept": "accepted",
    "reject": "rejected",
    "withdraw": "withdrawn",
}


@router.post("/activities/{activity_id}/proposals/{proposal_id}/{verb}", response_model=None)
def answer_proposal(
    request: Request,
    activity_id: str,
    proposal_id: str,
    verb: str,
    session: SessionDep,
    principal: SignedInDep,
    form: FormDep,
) -> HTMLResponse | RedirectResponse:
    """Accept, reject or withdraw a proposed change or deletion (`POST /v1/activities/{id}/proposals/{pid}/...`)."""
    outcome = ANSWERS.get(verb)
    if outcome is None:
        raise NotFound(f"No page /activities/{activity_id}/proposals/{proposal_id}/{verb}.")
    version = int_or(first(form, "version"), 0)
    message = str(form.get("message") or "").strip()[:1000] or None
    try:
        answer = proposal_service.answer_proposal(
            session,
            principal=principal,
            activity_id=activity_id,
            proposal_id=proposal_id,
            outcome=outcome,
            data=ProposalAnswer(message=message),
            expected=frozenset({version}),
        )
    except (PreconditionFailed, Conflict):
        return _stale(request, session, principal, activity_id)
    gone = answer.kind == "deletion" and answer.status == "accepted"
    return redirect(request, "/activities" if gone else f"/activities/{activity_id}")


def _stale(request: Request, session: SessionDep, principal: Principal, activity_id: str) -> HTMLResponse:
    """The page again, as saved now, saying why the answer was not recorded (409)."""
    session.rollback()
    row = activity_service.get_activity(session, principal=principal, activity_id=activity_id)
    already = {
        "confirmed": N_("This activity is already confirmed."),
        "declined": N_("This activity was already declined."),
    }
    request.state.web.notices.append(gettext(already.get(row.confirmation, STALE)))
    return _detail(request, session, principal, row, status_code=409)
