"""The repository's pages: one recommendation and the States (the search, needs, providers, activities: own modules).

Each handler calls the service functions the API uses (with the visitor's
principal, so the same visibility and authorization rules apply) and renders a
template. Query parameters come from HTML forms, where an empty field means "no
filter", so they are read as optional strings and blanks dropped.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.core.pagination import PageParams
from app.http.deps import PageParamsDep, SessionDep
from app.reference.vocab import sdg_names
from app.services import access, directory
from app.services import activities as activity_service
from app.services import coverage as coverage_service
from app.services import needs as need_service
from app.services import overview as overview_service
from app.services import recommendations as recommendation_service
from app.services import translations as translation_service
from app.services.analytics import pipeline as pipeline_service
from app.services.analytics.reference import theme_sdg_source
from app.services.analytics.slices import Slice
from app.services.recommendations import RecommendationFilters
from app.web.gaps import funding_chart, pipeline_chart
from app.web.i18n import country_name, current_language, gettext
from app.web.labels import state_name
from app.web.search import read_lang
from app.web.session import WebDep
from app.web.templating import Pager, render

router = APIRouter(include_in_schema=False)

Text = Annotated[str | None, Query(max_length=200)]
RELATED_LIMIT = 50  # needs/activities shown on a detail page before "see all"


# --- recommendations -------------------------------------------------------------------


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
    texts = translation_service.translations_for(session, [rec.id]).get(rec.id, {})
    return render(
        request,
        "recommendations/detail.html",
        {
            "rec": rec,
            "lang": read_lang(request),
            "texts": texts,
            "language_names": translation_service.LANGUAGE_NAMES,
            "needs": needs,
            "needs_total": needs_total,
            "activities": activities,
            "activities_total": activities_total,
            "providers": providers,
            "can_cite": rec.response == "supported"
            and web.principal.role in {"state", "admin"}
            and access.can_create_need(web.principal, rec.state_under_review),
        },
    )


# --- States ----------------------------------------------------------------------------


@router.get("/states", response_class=HTMLResponse)
def list_states(
    request: Request, session: SessionDep, web: WebDep, page: PageParamsDep, q: Text = None
) -> HTMLResponse:
    """Every State by name, with its recommendations, supported ones, and the needs and activities visible."""
    words = (q or "").strip()
    rows = sorted(directory.list_state_counts(session, principal=web.principal), key=lambda r: state_name(r.state))
    if words:
        needle = words.casefold()
        rows = [r for r in rows if needle in state_name(r.state).casefold() or needle == r.state.casefold()]
    return render(
        request,
        "states/list.html",
        {
            "rows": rows[page.offset : page.offset + page.limit],
            "with_recommendations": sum(1 for r in rows if r.recommendations),
            "q": words,
            "pager": Pager(total=len(rows), limit=page.limit, offset=page.offset),
        },
    )


@router.get("/states/{iso3}", response_class=HTMLResponse)
def read_state(request: Request, iso3: str, session: SessionDep, web: WebDep, page: PageParamsDep) -> Response:
    """A State's supported recommendations by theme, how many are covered, its open needs and a chart."""
    coverage = overview_service.get_state_coverage(session, principal=web.principal, state=iso3)
    if iso3 != coverage.state:
        return RedirectResponse(f"/states/{coverage.state}", status_code=301)
    facets = recommendation_service.get_facets(session, filters=RecommendationFilters(state=(coverage.state,)))
    data = coverage_service.get_coverage(session, state=coverage.state)
    needs, needs_total = need_service.list_needs(
        session, principal=web.principal, page=page, state=coverage.state, status="open"
    )
    piece = Slice.of(states=[coverage.state])
    flow = pipeline_service.get_pipeline(session, principal=web.principal, piece=piece, by="theme")
    funding = pipeline_service.get_funding(session, principal=web.principal, piece=piece)
    name = {"name": country_name(coverage.state, coverage.name)}
    title = gettext("Implementation pipeline of the supported recommendations of %(name)s, by theme") % name
    return render(
        request,
        "states/detail.html",
        {
            "coverage": coverage,
            "data": data,
            "facets": facets,
            "needs": needs,
            "pager": Pager(total=needs_total, limit=page.limit, offset=page.offset),
            "pipeline": flow,
            "pipeline_chart": pipeline_chart(flow, title=title, chart_id="pipeline"),
            "funding": funding,
            "funding_chart": funding_chart(
                funding, title=gettext("Funding available and gap per SDG in %(name)s, USD") % name, chart_id="funding"
            ),
            "sdg_source": theme_sdg_source(),
            "sdg_names": sdg_names(current_language()),
            "can_file": access.can_create_need(web.principal, coverage.state) and not web.principal.is_anonymous,
        },
    )
