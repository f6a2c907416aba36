"""The need pages: the list, a need with its ranked partners, and the forms to file, edit and close one.

Filing and editing go through the same services as `POST /v1/needs` and
`PATCH /v1/needs/{id}` (same rules, same checks, `If-Match` as the hidden
`version`), and every mistake comes back as a sentence beside its field.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Annotated, TypedDict

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from app.core.errors import Conflict, Forbidden, PreconditionFailed, UnprocessableEntity
from app.core.jsontypes import JsonObject
from app.core.pagination import PageParams
from app.http.auth import Principal
from app.http.deps import PageParamsDep, SessionDep
from app.models.engagement import OPEN_STATUSES, EngagementPublic
from app.models.need import Need, NeedCreate, NeedUpdate
from app.models.recommendation import Recommendation
from app.models.related import MAX_RELATED_TEXT, DraftFromText
from app.reference.vocab import MAX_RECOMMENDATIONS, MODALITIES, NEED_STATUSES, PRIORITIES, VISIBILITIES
from app.services import access, directory, selections
from app.services import activities as activity_service
from app.services import engagements as engagement_service
from app.services import needs as need_service
from app.services import overview as overview_service
from app.services import recommendations as recommendation_service
from app.services import related as related_service
from app.web import activity_pages, explain, picker
from app.web.forms import FORM, FieldError, blank, confirm_themes, from_problem, problem_errors, validate_all
from app.web.i18n import N_, gettext
from app.web.labels import label, local_state_name, state_name
from app.web.need_form import LABELS, MESSAGES, NeedFormState, merge_drafts, need_title
from app.web.session import FormDep, SignedInDep, WebContext, WebDep
from app.web.templating import Pager, language_choices, redirect, render

router = APIRouter(include_in_schema=False)

Text = Annotated[str | None, Query(max_length=200)]
RELATED_LIMIT = 50
#: How many of the State's supported recommendations the description's button lists.
SUGGESTIONS = 10
STALE = N_(
    "Someone changed this need while you were editing it. The form now shows the saved need: make your changes again."
)


# --- the list --------------------------------------------------------------------------


@router.get("/needs", response_class=HTMLResponse)
def list_needs(
    request: Request,
    session: SessionDep,
    web: WebDep,
    page: PageParamsDep,
    state: Text = None,
    theme: Text = None,
    status: Text = None,
) -> HTMLResponse:
    """The needs the visitor may see, filtered by State, theme and status, with counts per status."""
    filters = {
        "state": (blank(state) or "").upper() or None,
        "theme": blank(theme),
        "status": blank(status) if blank(status) in NEED_STATUSES else None,
    }
    rows, total = need_service.list_needs(session, principal=web.principal, page=page, **filters)
    states = directory.list_state_counts(session, principal=web.principal)
    counts = directory.need_status_counts(session, principal=web.principal, state=filters["state"])
    return render(
        request,
        "needs/list.html",
        {
            "needs": rows,
            "filters": filters,
            "status_options": [(s, f"{label(s)} ({counts.get(s, 0)})") for s in NEED_STATUSES],
            "themes": directory.need_themes(session, principal=web.principal),
            "states": sorted((s.state for s in states if s.needs), key=state_name),
            "pager": Pager(total=total, limit=page.limit, offset=page.offset),
        },
    )


# --- the form --------------------------------------------------------------------------


def _check_may_file(principal: Principal, state: str | None) -> None:
    """Refuse as `POST /v1/needs` would (the service's rule), saying the States by name."""
    try:
        need_service.filing_state(principal, state)
    except Forbidden:
        if state is None or principal.role not in {"state", "admin"}:
            raise
        raise Forbidden(
            gettext("You are signed in for %(mine)s; you may not file needs for %(other)s.")
            % {"mine": local_state_name(principal.state), "other": local_state_name(state)}
        ) from None


def _render_form(
    request: Request,
    session: SessionDep,
    principal: Principal,
    form: NeedFormState,
    *,
    need: Need | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """The need form: chosen recommendations, a browsable list of the State's supported ones, the details."""
    context: dict[str, object] = {
        "form": form,
        "need": need,
        "suggestions": None,
        "pick": picker.nothing_to_browse(),
        "drafts": [],
        "priorities": PRIORITIES,
        "visibilities": VISIBILITIES,
        "statuses": NEED_STATUSES,
        "modalities": MODALITIES,
        "languages": language_choices(form.languages),
        "state_options": [],
    }
    if form.state is None:
        states = directory.list_state_counts(session, principal=principal)
        context["state_options"] = sorted((s.state for s in states if s.supported), key=state_name)
        return render(request, "needs/form.html", context, status_code=status_code)
    drafts = (
        []
        if need is not None
        else merge_drafts(explain.drafts_for(session, request.app.state, principal=principal, state=form.state))
    )
    if form.action == "clear":
        form.chosen = []
    elif form.action == "select_all":
        # A drafted need's theme: its recommendations (those no need covers yet); else every one listed.
        draft = next((ids for t, ids in drafts if t == form.draft), None)
        listed = draft or picker.listed_ids(session, form, responses=("supported",))
        form.chosen = list(dict.fromkeys([*form.chosen, *listed]))[:MAX_RECOMMENDATIONS]
    if form.description and (form.action == "suggest" or form.suggested):
        form.suggested = True
        context["suggestions"] = related_service.draft_from_text(
            session,
            request.app.state.match_index,
            draft=DraftFromText(state=form.state, text=form.description[:MAX_RELATED_TEXT], limit=SUGGESTIONS),
        ).recommendations
    pick = picker.browse(session, form, responses=("supported",))
    form.retitle(pick.chosen)
    context.update(pick=pick, drafts=drafts)
    return render(request, "needs/form.html", context, status_code=status_code)


def _start(
    session: SessionDep,
    request: Request,
    principal: Principal,
    *,
    state: str | None,
    theme: str | None,
    cite: str | None,
    chosen: selections.Selection | None = None,
) -> NeedFormState:
    """A fresh form: citing what was chosen on the search page, one recommendation, or a theme's drafted need."""
    form = NeedFormState(state=state or principal.state, theme=theme)
    if chosen is not None and chosen.ids:
        form.state, form.chosen = chosen.state, list(chosen.ids)
        _check_may_file(principal, form.state)
        return form
    if cite:
        rec: Recommendation = recommendation_service.get_recommendation(session, recommendation_id=cite)
        form.state = rec.state_under_review
        form.chosen = [rec.id]
        form.theme = theme or (rec.themes[0] if rec.themes else None)
    _check_may_file(principal, form.state)
    if cite or form.state is None:
        return form
    drafts = merge_drafts(explain.drafts_for(session, request.app.state, principal=principal, state=form.state))
    if form.theme is None and drafts:
        form.theme = drafts[0][0]
    # A drafted need lists its theme's recommendations, none ticked: the State ticks those it means
    # ("Select all" ticks the draft's).
    if any(t == form.theme for t, _ in drafts):
        form.draft = form.theme or ""
    return form


@router.get("/needs/new", response_class=HTMLResponse)
def new_need(
    request: Request,
    session: SessionDep,
    principal: SignedInDep,
    state: Text = None,
    theme: Annotated[str | None, Query(max_length=255)] = None,
    cite: Annotated[str | None, Query(max_length=128)] = None,
    selection: Annotated[str | None, Query(max_length=1)] = None,
) -> HTMLResponse:
    """The form a State uses to file a need: from the recommendations chosen on the search page
    (`selection=1`), from one it cites, or from a drafted need of a theme."""
    code = (blank(state) or "").upper() or None
    _check_may_file(principal, code)
    web: WebContext = request.state.web
    chosen = selections.get_selection(session, sid=web.token.sid) if selection and web.token else None
    form = _start(session, request, principal, state=code, theme=blank(theme), cite=blank(cite), chosen=chosen)
    return _render_form(request, session, principal, form)


@router.post("/needs/new", response_model=None)
def create_need(
    request: Request, session: SessionDep, principal: SignedInDep, form: FormDep
) -> HTMLResponse | RedirectResponse:
    """Browse (another theme, words or page) keeping every tick, or file the need through the API's service."""
    values = NeedFormState.from_form(form)
    _check_may_file(principal, values.state)
    if values.browsing(form):
        return _render_form(request, session, principal, values)
    chosen = overview_service.get_recommendations_by_ids(session, ids=values.chosen)
    values.retitle(chosen)
    data, values.errors = _need_errors(session, values, NeedCreate, {"state": values.state, **values.payload()})
    if not isinstance(data, NeedCreate):
        return _render_form(request, session, principal, values, status_code=422)
    try:
        need = need_service.create_need(
            session, principal=principal, data=data, theme_space=request.app.state.match_index.themes
        )
    except (UnprocessableEntity, Conflict) as exc:
        values.errors = from_problem(exc)
    else:
        web: WebContext = request.state.web
        if web.token is not None:  # what the need cites is no longer waiting on the search page
            selections.clear_selection(session, sid=web.token.sid, ids=values.chosen)
        return redirect(request, f"/needs/{need.id}", flash="need_filed")
    return _render_form(request, session, principal, values, status_code=422)


def _need_errors(
    session: SessionDep,
    values: NeedFormState,
    model: type[NeedCreate] | type[NeedUpdate],
    payload: JsonObject,
    *,
    cited: Collection[str] = (),
) -> tuple[NeedCreate | NeedUpdate | None, list[FieldError]]:
    """Every mistake of the form at once: reading it, the model's rules, and the cited recommendations.

    An empty title that only follows an empty selection is not one more mistake. `cited`: what the
    need cites already (a recommendation withdrawn since may stay).
    """
    data, errors = validate_all(model, payload, values.errors, labels=LABELS, messages=MESSAGES)
    if not values.chosen and not values.title:
        errors = [e for e in errors if e.field != "title"]
    if values.chosen and values.state:
        state = values.state
        errors += problem_errors(lambda: need_service.check_cited(session, values.chosen, state=state, already=cited))
    return (None if errors else data), errors


# --- one need --------------------------------------------------------------------------


@router.get("/needs/{need_id}", response_class=HTMLResponse)
def read_need(request: Request, need_id: str, session: SessionDep, web: WebDep) -> HTMLResponse:
    """A need, the recommendations it cites, its activities and the ranked partners with reasons in words."""
    need = need_service.get_need(session, principal=web.principal, need_id=need_id)
    ids = need_service.recommendation_ids_of(session, [need.id])[need.id]
    recommendations = overview_service.get_recommendations_by_ids(session, ids=ids)
    activities, activities_total = activity_service.list_activities(
        session, principal=web.principal, page=PageParams(limit=RELATED_LIMIT, offset=0), need_id=need.id
    )
    partners = explain.partners_for(
        session, request.app.state, principal=web.principal, need=need, recommendations=recommendations
    )
    loop = _engagements_on(session, web.principal, need)
    providers = overview_service.get_providers_by_ids(
        session, ids=[a.provider_id for a in activities] + [e.provider_id for e in loop["engagements"]]
    )
    return render(
        request,
        "needs/detail.html",
        {
            **loop,
            "need": need,
            "recommendations": recommendations,
            "activities": activities,
            "activities_total": activities_total,
            "providers": providers,
            "partners": partners,
            "can_edit": access.can_write_need(web.principal, need),
            "can_record": activity_pages.may_record(web.principal)
            and (web.principal.role != "state" or web.principal.state == need.state),
        },
    )


class EngagementsOn(TypedDict):
    """The need's engagements the visitor is a party to, and what it may start."""

    engagements: list[EngagementPublic]
    open_with: Mapping[str, str]
    can_ask: bool
    can_offer: bool


def _engagements_on(session: SessionDep, principal: Principal, need: Need) -> EngagementsOn:
    """The need's engagements the visitor is a party to, and whether it may ask partners or offer help."""
    if principal.is_anonymous:
        return {"engagements": [], "open_with": {}, "can_ask": False, "can_offer": False}
    rows, _ = engagement_service.list_engagements(
        session, principal=principal, page=PageParams(limit=RELATED_LIMIT, offset=0), need_id=need.id
    )
    shown = engagement_service.present_engagements(rows)
    open_with = {e.provider_id: e.status for e in shown if e.status in OPEN_STATUSES}
    active = need.status != "closed"
    can_ask = active and need.visibility != "state_only" and access.can_write_need(principal, need)
    mine = principal.provider_id
    can_offer = active and principal.role == "provider" and mine is not None and mine not in open_with
    return {"engagements": shown, "open_with": open_with, "can_ask": can_ask, "can_offer": can_offer}


def _editable(session: SessionDep, principal: Principal, need_id: str) -> Need:
    need = need_service.get_need(session, principal=principal, need_id=need_id)
    if not access.can_write_need(principal, need):
        raise Forbidden(
            gettext("This need belongs to %(state)s; only its own State may change it.")
            % {"state": local_state_name(need.state)}
        )
    return need


def _form_of(session: SessionDep, need: Need) -> NeedFormState:
    ids = need_service.recommendation_ids_of(session, [need.id])[need.id]
    form = NeedFormState(
        state=need.state,
        chosen=list(ids),
        title=need.title,
        description=need.description,
        priority=need.priority,
        visibility=need.visibility,
        status=need.status,
        languages=list(need.languages),
        modalities=list(need.modalities),
        version=need.version,
    )
    form.theme = None
    return form


@router.get("/needs/{need_id}/edit", response_class=HTMLResponse)
def edit_need(request: Request, need_id: str, session: SessionDep, principal: SignedInDep) -> HTMLResponse:
    """The need's form, for its own State (and administrators)."""
    need = _editable(session, principal, need_id)
    form = _form_of(session, need)
    chosen = overview_service.get_recommendations_by_ids(session, ids=form.chosen)
    form.auto_title = need_title(chosen) if need.title == need_title(chosen) else ""
    return _render_form(request, session, principal, form, need=need)


@router.post("/needs/{need_id}/edit", response_model=None)
def update_need(
    request: Request, need_id: str, session: SessionDep, principal: SignedInDep, form: FormDep
) -> HTMLResponse | RedirectResponse:
    """Save the need through the same service as `PATCH /v1/needs/{id}`; a stale form is refused (409)."""
    need = _editable(session, principal, need_id)
    values = NeedFormState.from_form(form)
    values.state = need.state
    if values.browsing(form):
        return _render_form(request, session, principal, values, need=need)
    chosen = overview_service.get_recommendations_by_ids(session, ids=values.chosen)
    values.retitle(chosen)
    cited = need_service.recommendation_ids_of(session, [need.id])[need.id]
    payload = {**values.payload(), "status": values.status}
    data, values.errors = _need_errors(session, values, NeedUpdate, payload, cited=cited)
    if not isinstance(data, NeedUpdate):
        return _render_form(request, session, principal, values, need=need, status_code=422)
    try:
        need_service.update_need(
            session,
            principal=principal,
            need_id=need.id,
            data=data,
            expected=frozenset({values.version}),
            theme_space=request.app.state.match_index.themes,
        )
    except (UnprocessableEntity, Conflict) as exc:
        values.errors = from_problem(exc)
    except PreconditionFailed:
        session.rollback()
        fresh = _form_of(session, need_service.get_need(session, principal=principal, need_id=need_id))
        fresh.errors = [FieldError(FORM, gettext(STALE))]
        return _render_form(request, session, principal, fresh, need=need, status_code=409)
    else:
        return redirect(request, f"/needs/{need.id}", flash="need_saved")
    return _render_form(request, session, principal, values, need=need, status_code=422)


@router.post("/needs/{need_id}/status", response_model=None)
def change_need_status(
    request: Request, need_id: str, session: SessionDep, principal: SignedInDep, form: FormDep
) -> HTMLResponse | RedirectResponse:
    """Close (or reopen) a need in one click, under the same rules as `PATCH /v1/needs/{id}`."""
    need = _editable(session, principal, need_id)
    status = str(form.get("status") or "")
    version = str(form.get("version") or "")
    if status not in NEED_STATUSES:
        raise UnprocessableEntity(gettext("%(status)s is not a status of a need.") % {"status": repr(status)})
    try:
        need_service.update_need(
            session,
            principal=principal,
            need_id=need.id,
            data=NeedUpdate.model_validate({"status": status}),
            expected=frozenset({int(version) if version.isdigit() else 0}),
        )
    except PreconditionFailed as exc:
        raise Conflict(gettext("Someone changed this need meanwhile. Reload the need's page and try again.")) from exc
    return redirect(request, f"/needs/{need.id}", flash="need_closed" if status == "closed" else "need_reopened")


@router.post("/needs/{need_id}/themes", response_model=None)
def confirm_need_themes(
    request: Request, need_id: str, session: SessionDep, principal: SignedInDep, form: FormDep
) -> RedirectResponse:
    """Declare the ticked themes (those read in the recommendations, confirmed or corrected), as `PATCH themes`."""
    need = _editable(session, principal, need_id)
    confirm_themes(
        form,
        NeedUpdate,
        lambda update, expected: need_service.update_need(
            session, principal=principal, need_id=need.id, data=update, expected=expected
        ),
        gettext("Reload the need's page and confirm its themes again."),
    )
    return redirect(request, f"/needs/{need.id}", flash="themes_saved")
