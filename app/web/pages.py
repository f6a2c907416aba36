"""The repository's pages: recommendations, States, needs, providers and activities.

Each handler calls the service functions the API uses (with the visitor's
principal, so the same visibility and authorization rules apply) and renders a
template. Query parameters come from HTML forms, where an empty field means "no
filter", so they are read as optional strings and blanks dropped.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError
from starlette.datastructures import FormData

from app.auth import Principal
from app.countries import REGIONAL_GROUPS
from app.deps import PageParamsDep, SessionDep
from app.errors import Conflict, Forbidden, PreconditionFailed, UnprocessableEntity
from app.models.need import NeedCreate
from app.models.provider import ProviderUpdate
from app.pagination import PageParams
from app.services import access
from app.services import activities as activity_service
from app.services import coverage as coverage_service
from app.services import needs as need_service
from app.services import overview as overview_service
from app.services import providers as provider_service
from app.services import recommendations as recommendation_service
from app.services.recommendations import RecommendationFilters
from app.vocab import ACTIVITY_STATUSES, MODALITIES, PRIORITIES, PROVIDER_KINDS, REGIONS, VISIBILITIES
from app.web import explain, search
from app.web.charts import BarRow, coverage_bars
from app.web.session import FormDep, SignedInDep, WebDep
from app.web.templating import Pager, redirect, render

router = APIRouter(include_in_schema=False)

Text = Annotated[str | None, Query(max_length=200)]
RELATED_LIMIT = 50  # needs/activities shown on a detail page before "see all"
FORM_PAGE = 50  # recommendations offered per page of the need form
CHART_THEMES = 15


def _blank(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def _int(value: str | None) -> int | None:
    value = _blank(value)
    return int(value) if value is not None and value.isdigit() and len(value) < 6 else None


def _errors_of(exc: ValidationError) -> list[dict[str, str]]:
    return [
        {"field": ".".join(str(p) for p in err["loc"] if not isinstance(p, int)) or "form", "detail": err["msg"]}
        for err in exc.errors()
    ]


def _problem_errors(exc: UnprocessableEntity | Conflict | PreconditionFailed) -> list[dict[str, str]]:
    listed = exc.extensions.get("errors") or []
    if listed:
        return [{"field": str(e.get("field", "form")), "detail": str(e.get("detail", ""))} for e in listed]
    return [{"field": "form", "detail": exc.detail}]


# --- recommendations -------------------------------------------------------------------


@router.get("/recommendations", response_class=HTMLResponse)
def list_recommendations(request: Request, session: SessionDep, page: PageParamsDep) -> HTMLResponse:
    """Search and filter recommendations (several values per filter), with facet counts, coverage and export."""
    filters = search.read_filters(request)
    error = None
    try:
        rows, total = recommendation_service.list_recommendations(session, filters=filters, page=page)
        facets = recommendation_service.get_facets(session, filters=filters)
    except UnprocessableEntity as exc:
        error, rows, total, facets = exc.detail, [], 0, None
    names = coverage_service.state_names(session)
    return render(
        request,
        "recommendations/list.html",
        {
            "filters": filters,
            "rows": recommendation_service.present(session, rows),
            "facets": facets,
            "facet_links": search.facet_links(filters, facets, names),
            "active": search.active(filters, names),
            "state_names": names,
            "regions": REGIONAL_GROUPS,
            "coverage": coverage_service.get_coverage(session),
            "export_csv": search.export_url(filters, "csv"),
            "export_xlsx": search.export_url(filters, "xlsx"),
            "source_labels": {s.source: s.label for s in coverage_service.get_coverage(session).sources},
            "pager": Pager(total=total, limit=page.limit, offset=page.offset),
            "error": error,
        },
        status_code=200 if error is None else 422,
    )


@router.get("/recommendations/{recommendation_id}", response_class=HTMLResponse)
def read_recommendation(request: Request, recommendation_id: str, session: SessionDep, web: WebDep) -> HTMLResponse:
    """One recommendation with the needs that cite it and the activities working on it."""
    rec = recommendation_service.get_recommendation(session, recommendation_id=recommendation_id)
    related = PageParams(limit=RELATED_LIMIT, offset=0)
    needs, needs_total = need_service.list_needs(
        session, principal=web.principal, page=related, recommendation_id=rec.id
    )
    activities, activities_total = activity_service.list_activities(
        session, principal=web.principal, page=related, recommendation_id=rec.id
    )
    providers = overview_service.get_providers_by_ids(session, ids=[a.provider_id for a in activities])
    return render(
        request,
        "recommendations/detail.html",
        {
            "rec": rec,
            "needs": needs,
            "needs_total": needs_total,
            "activities": activities,
            "activities_total": activities_total,
            "providers": providers,
        },
    )


# --- States ----------------------------------------------------------------------------


@router.get("/states/{iso3}", response_class=HTMLResponse)
def read_state(request: Request, iso3: str, session: SessionDep, web: WebDep, page: PageParamsDep) -> HTMLResponse:
    """A State's supported recommendations by theme, how many are covered, its open needs and a chart."""
    coverage = overview_service.get_state_coverage(session, principal=web.principal, state=iso3)
    if iso3 != coverage.state:
        return RedirectResponse(f"/states/{coverage.state}", status_code=301)  # type: ignore[return-value]
    facets = recommendation_service.get_facets(session, filters=RecommendationFilters(state=coverage.state))
    data = coverage_service.get_coverage(session, state=coverage.state)
    needs, needs_total = need_service.list_needs(
        session, principal=web.principal, page=page, state=coverage.state, status="open"
    )
    top = coverage.themes[:CHART_THEMES]
    chart = coverage_bars(
        [BarRow(t.theme, t.supported, t.covered) for t in top],
        title=f"Supported recommendations of {coverage.name} covered by a need or an activity, by theme",
        chart_id="coverage",
        unit="supported recommendations",
    )
    return render(
        request,
        "states/detail.html",
        {
            "coverage": coverage,
            "data": data,
            "facets": facets,
            "needs": needs,
            "pager": Pager(total=needs_total, limit=page.limit, offset=page.offset),
            "chart": chart,
            "chart_themes": len(top),
            "can_file": access.can_create_need(web.principal, coverage.state) and not web.principal.is_anonymous,
        },
    )


# --- needs -----------------------------------------------------------------------------


def _need_form(
    request: Request,
    session: SessionDep,
    principal: Principal,
    *,
    state: str | None,
    theme: str | None,
    offset: int,
    values: dict[str, Any],
    chosen: set[str],
    errors: list[dict[str, str]],
    status_code: int = 200,
) -> HTMLResponse:
    """The need form for `state`: the supported recommendations of one theme as checkboxes."""
    if principal.role not in {"state", "admin"}:
        raise Forbidden("Only State keys (for their own State) and administrators file needs.")
    state = (state or principal.state or "").strip().upper() or None
    if state is not None and not access.can_create_need(principal, state):
        raise Forbidden(f"You are signed in for {principal.state}; you may not file needs for {state}.")
    context: dict[str, Any] = {
        "state": state,
        "theme": theme,
        "values": values,
        "chosen": chosen,
        "errors": errors,
        "themes": [],
        "rows": [],
        "pager": Pager(total=0, limit=FORM_PAGE, offset=0),
        "draft": None,
        "drafts": [],
        "priorities": PRIORITIES,
        "visibilities": VISIBILITIES,
    }
    if state is not None:
        base = RecommendationFilters(state=state, response="supported")
        facets = recommendation_service.get_facets(session, filters=base)
        themes = [f.value for f in facets.themes]
        drafts = explain.drafts_for(session, request.app.state, principal=principal, state=state)
        if theme is None and drafts:
            theme = drafts[0].theme
        draft = next((d for d in drafts if d.theme == theme), None)
        if theme is None and themes:
            theme = str(themes[0])
        page = PageParams(limit=FORM_PAGE, offset=offset)
        rows, total = recommendation_service.list_recommendations(
            session, filters=RecommendationFilters(state=state, response="supported", theme=theme), page=page
        )
        if draft is not None and draft.theme == theme and not chosen and not errors:
            chosen = set(draft.recommendation_ids)
            values.setdefault("title", draft.title)
        values.setdefault("title", f"{theme}: support to implement supported recommendations" if theme else "")
        context.update(
            theme=theme,
            themes=facets.themes,
            rows=rows,
            chosen=chosen,
            draft=draft,
            drafts=drafts,
            pager=Pager(total=total, limit=FORM_PAGE, offset=offset),
        )
    return render(request, "needs/new.html", context, status_code=status_code)


@router.get("/needs/new", response_class=HTMLResponse)
def new_need(
    request: Request,
    session: SessionDep,
    principal: SignedInDep,
    state: Text = None,
    theme: Annotated[str | None, Query(max_length=255)] = None,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> HTMLResponse:
    """The form a State uses to file a need, starting from its supported recommendations of one theme."""
    return _need_form(
        request,
        session,
        principal,
        state=_blank(state),
        theme=_blank(theme),
        offset=offset,
        values={},
        chosen=set(),
        errors=[],
    )


@router.post("/needs/new", response_model=None)
def create_need(
    request: Request, session: SessionDep, principal: SignedInDep, form: FormDep
) -> HTMLResponse | RedirectResponse:
    """File the need through the same service as `POST /v1/needs`; show the form again on a mistake."""
    values = {k: str(form.get(k) or "") for k in ("title", "description", "priority", "visibility")}
    chosen = [str(v) for v in form.getlist("recommendation_ids")]
    state = _blank(str(form.get("state") or "")) or principal.state
    theme = _blank(str(form.get("theme") or ""))
    errors: list[dict[str, str]] = []
    try:
        data = NeedCreate.model_validate(
            {
                "state": state,
                "title": values["title"],
                "description": values["description"],
                "recommendation_ids": chosen,
                "priority": values["priority"] or "medium",
                "visibility": values["visibility"] or "public",
            }
        )
        need = need_service.create_need(session, principal=principal, data=data)
    except ValidationError as exc:
        errors = _errors_of(exc)
    except (UnprocessableEntity, Conflict) as exc:
        errors = _problem_errors(exc)
    else:
        return redirect(request, f"/needs/{need.id}")
    return _need_form(
        request,
        session,
        principal,
        state=state,
        theme=theme,
        offset=_int(str(form.get("offset") or "")) or 0,
        values=values,
        chosen=set(chosen),
        errors=errors,
        status_code=422,
    )


@router.get("/needs/{need_id}", response_class=HTMLResponse)
def read_need(request: Request, need_id: str, session: SessionDep, web: WebDep) -> HTMLResponse:
    """A need, the recommendations it cites, its activities and the ranked partners with reasons in words."""
    need = need_service.get_need(session, principal=web.principal, need_id=need_id)
    ids = need_service.recommendation_ids_of(session, [need.id])[need.id]
    recommendations = overview_service.get_recommendations_by_ids(session, ids=ids)
    activities, activities_total = activity_service.list_activities(
        session, principal=web.principal, page=PageParams(limit=RELATED_LIMIT, offset=0), need_id=need.id
    )
    partners = explain.partners_for(session, request.app.state, principal=web.principal, need_id=need.id)
    providers = overview_service.get_providers_by_ids(session, ids=[a.provider_id for a in activities])
    return render(
        request,
        "needs/detail.html",
        {
            "need": need,
            "recommendations": recommendations,
            "activities": activities,
            "activities_total": activities_total,
            "providers": providers,
            "partners": partners,
        },
    )


# --- providers -------------------------------------------------------------------------


@router.get("/providers", response_class=HTMLResponse)
def list_providers(
    request: Request,
    session: SessionDep,
    web: WebDep,
    page: PageParamsDep,
    kind: Text = None,
    theme: Text = None,
    region: Text = None,
    language: Text = None,
    q: Text = None,
) -> HTMLResponse:
    """The provider directory, filtered by kind, theme, region and language."""
    filters = {
        "kind": _blank(kind),
        "theme": _blank(theme),
        "region": _blank(region),
        "language": (_blank(language) or "").lower()[:2] or None,
        "q": _blank(q),
    }
    rows, total = provider_service.list_providers(session, page=page, **filters)
    return render(
        request,
        "providers/list.html",
        {
            "providers": [provider_service.present_provider(r, web.principal) for r in rows],
            "filters": filters,
            "kinds": PROVIDER_KINDS,
            "regions": REGIONS,
            "pager": Pager(total=total, limit=page.limit, offset=page.offset),
        },
    )


@router.get("/providers/{provider_id}", response_class=HTMLResponse)
def read_provider(request: Request, provider_id: str, session: SessionDep, web: WebDep) -> HTMLResponse:
    """A provider's profile and the open needs it could serve, ranked by the match service."""
    row = provider_service.get_provider(session, provider_id=provider_id)
    needs = explain.needs_for(session, request.app.state, principal=web.principal, provider_id=row.id)
    activities, activities_total = activity_service.list_activities(
        session, principal=web.principal, page=PageParams(limit=10, offset=0), provider_id=row.id
    )
    return render(
        request,
        "providers/detail.html",
        {
            "provider": provider_service.present_provider(row, web.principal),
            "needs": needs,
            "activities": activities,
            "activities_total": activities_total,
            "can_edit": access.can_write_provider(web.principal, row),
        },
    )


def _provider_form(
    request: Request, provider: Any, values: dict[str, Any], errors: list[dict[str, str]], status_code: int = 200
) -> HTMLResponse:
    return render(
        request,
        "providers/edit.html",
        {
            "provider": provider,
            "values": values,
            "errors": errors,
            "kinds": PROVIDER_KINDS,
            "regions": REGIONS,
            "modalities": MODALITIES,
        },
        status_code=status_code,
    )


def _provider_values(provider: Any) -> dict[str, Any]:
    return {
        "name": provider.name,
        "acronym": provider.acronym or "",
        "kind": provider.kind,
        "description": provider.description,
        "themes": "\n".join(provider.themes),
        "regions": list(provider.regions),
        "languages": ", ".join(provider.languages),
        "modalities": list(provider.modalities),
        "website": provider.website or "",
        "contact_email": provider.contact_email or "",
        "version": provider.version,
    }


@router.get("/providers/{provider_id}/edit", response_class=HTMLResponse)
def edit_provider(request: Request, provider_id: str, session: SessionDep, principal: SignedInDep) -> HTMLResponse:
    """The profile form, for the provider's own key (and administrators)."""
    row = provider_service.get_provider(session, provider_id=provider_id)
    if not access.can_write_provider(principal, row):
        raise Forbidden(f"You are not signed in for {row.name}; only its own key may edit this profile.")
    return _provider_form(request, row, _provider_values(row), [])


def _split(text: str, *, lines: bool = False) -> list[str]:
    parts = text.splitlines() if lines else text.replace("\n", ",").split(",")
    return [p.strip() for p in parts if p.strip()]


@router.post("/providers/{provider_id}/edit", response_model=None)
def update_provider(
    request: Request, provider_id: str, session: SessionDep, principal: SignedInDep, form: FormDep
) -> HTMLResponse | RedirectResponse:
    """Save the profile through the same service as `PATCH /v1/providers/{id}` (same rules, same checks)."""
    row = provider_service.get_provider(session, provider_id=provider_id)
    if not access.can_write_provider(principal, row):
        raise Forbidden(f"You are not signed in for {row.name}; only its own key may edit this profile.")
    values = _provider_form_values(form)
    errors: list[dict[str, str]] = []
    try:
        data = ProviderUpdate.model_validate(
            {
                "name": values["name"],
                "acronym": values["acronym"] or None,
                "kind": values["kind"],
                "description": values["description"],
                "themes": _split(values["themes"], lines=True),
                "regions": values["regions"],
                "languages": _split(values["languages"]),
                "modalities": values["modalities"],
                "website": values["website"] or None,
                "contact_email": values["contact_email"] or None,
            }
        )
        version = _int(str(values["version"])) or 0
        provider_service.update_provider(
            session, principal=principal, provider_id=row.id, data=data, expected=frozenset({version})
        )
    except ValidationError as exc:
        errors = _errors_of(exc)
    except (UnprocessableEntity, Conflict) as exc:
        errors = _problem_errors(exc)
    except PreconditionFailed:
        session.rollback()
        errors = [
            {
                "field": "form",
                "detail": "Someone changed this profile while you were editing it. "
                "The form now shows the saved profile: make your changes again.",
            }
        ]
        fresh = provider_service.get_provider(session, provider_id=provider_id)
        return _provider_form(request, fresh, _provider_values(fresh), errors, status_code=409)
    else:
        return redirect(request, f"/providers/{row.id}")
    return _provider_form(request, row, values, errors, status_code=422)


def _provider_form_values(form: FormData) -> dict[str, Any]:
    return {
        "name": str(form.get("name") or "").strip(),
        "acronym": str(form.get("acronym") or "").strip(),
        "kind": str(form.get("kind") or ""),
        "description": str(form.get("description") or ""),
        "themes": str(form.get("themes") or ""),
        "regions": [str(v) for v in form.getlist("regions")],
        "languages": str(form.get("languages") or ""),
        "modalities": [str(v) for v in form.getlist("modalities")],
        "website": str(form.get("website") or "").strip(),
        "contact_email": str(form.get("contact_email") or "").strip(),
        "version": str(form.get("version") or ""),
    }


# --- activities ------------------------------------------------------------------------


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
    """The public record of cooperation activities, with their outcomes."""
    filters = {
        "state": (_blank(state) or "").upper() or None,
        "status": _blank(status),
        "provider_id": _blank(provider_id),
    }
    rows, total = activity_service.list_activities(session, principal=web.principal, page=page, **filters)
    providers = overview_service.get_providers_by_ids(session, ids=[a.provider_id for a in rows])
    return render(
        request,
        "activities/list.html",
        {
            "activities": rows,
            "providers": providers,
            "filters": filters,
            "statuses": ACTIVITY_STATUSES,
            "pager": Pager(total=total, limit=page.limit, offset=page.offset),
        },
    )
