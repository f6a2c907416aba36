"""The search page: recommendations with filters, facets, export, an order, and ticks for a need.

A State signed in (or an administrator) ticks results, on several pages and in
several searches, then files one need citing exactly those: the ticks are kept on
the server per page session (`app.services.selections`). Every button of the
results (keep the ticks, previous, next, file the need) sends the ticks of the page
shown first, so a tick is not lost by moving on; the need form then opens with them
(`/needs/new?selection=1`).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from app.core.errors import UnprocessableEntity
from app.http.deps import PageParamsDep, SessionDep
from app.models.recommendation import FacetCount, Recommendation
from app.reference.regions import REGIONAL_GROUPS
from app.reference.themes import affected_group_labels, resolve_theme
from app.reference.vocab import sdg_names
from app.services import coverage as coverage_service
from app.services import recommendations as recommendation_service
from app.services import selections
from app.services.translations import LANGUAGE_NAMES
from app.web import search
from app.web.errors import unknown_countries
from app.web.forms import first
from app.web.i18n import current_language
from app.web.labels import theme_options
from app.web.session import FormDep, SignedInDep, WebContext, WebDep
from app.web.templating import Pager, query_url, redirect, render

router = APIRouter(include_in_schema=False)


def _pickable(web: WebContext, rows: list[Recommendation], chosen: selections.Selection) -> list[str]:
    """The ids of the results this visitor may tick: supported, of a State it files for, of the chosen State."""
    if not selections.may_select(web.principal):
        return []
    return [
        r.id
        for r in rows
        if r.response == "supported"
        and selections.may_select_for(web.principal, r.state_under_review)
        and chosen.state in (None, r.state_under_review)
    ]


@router.get("/recommendations", response_class=HTMLResponse)
def list_recommendations(request: Request, session: SessionDep, web: WebDep, page: PageParamsDep) -> HTMLResponse:
    """Search and filter recommendations (several values per filter), with facet counts, coverage and export."""
    filters = search.read_filters(request)
    sort = search.read_sort(request)
    lang = search.read_lang(request)
    error = None
    unknown: list[str] = []
    choices: dict[str, list[FacetCount]] = {"theme": [], "affected_group": []}
    try:
        rows, total = recommendation_service.list_recommendations(session, filters=filters, page=page, sort=sort)
        facets = recommendation_service.get_facets(session, filters=filters)
        for name, attribute in (("theme", "themes"), ("affected_group", "affected_groups")):
            # A filter in force offers the values of the search without it, so another can be added to it.
            if getattr(filters, name):
                source = recommendation_service.get_facets(session, filters=search.without(filters, name))
            else:
                source = facets
            choices[name] = getattr(source, attribute)
    except UnprocessableEntity as exc:
        error, rows, total, facets = exc.detail, [], 0, None
        unknown = unknown_countries(exc.detail, exc.extensions.get("errors"))
    names = coverage_service.state_names(session)
    coverage = coverage_service.get_coverage(session)
    # The filters' values as the controlled entries they find (a source's label ticks its controlled theme(s)).
    chosen_themes = [v for t in filters.theme for v in resolve_theme(str(t))]
    chosen_groups = [g for a in filters.affected_group for g in affected_group_labels(str(a))]
    theme_counts = {str(f.value): f.count for f in choices["theme"]} | {t: 0 for t in chosen_themes}
    group_counts = {str(f.value): f.count for f in choices["affected_group"]}
    group_counts |= {g: group_counts.get(g, 0) for g in chosen_groups}
    picking = selections.may_select(web.principal) and web.token is not None
    chosen = selections.get_selection(session, sid=web.token.sid) if picking and web.token else None
    pager = Pager(total=total, limit=page.limit, offset=page.offset)
    context: dict[str, object] = {
        "filters": filters,
        "sort": sort,
        "sorts": search.SORT_LABELS,
        # Every form of the page keeps the language the texts are shown in.
        "hidden": search.query_pairs(filters, sort)
        + ([("lang", lang)] if lang else [])
        + ([("text", "original")] if request.query_params.get("text") == "original" else []),
        "rows": recommendation_service.present(session, rows, lang=lang),
        "lang": lang,
        "language_names": LANGUAGE_NAMES,
        "facets": facets,
        "choices": choices,
        "theme_choices": theme_options(theme_counts),
        "theme_labels": [label for _, label, _ in theme_options()],
        "chosen_themes": chosen_themes,
        "group_choices": [(g, f"{g} ({n:,})", None) for g, n in sorted(group_counts.items(), key=lambda gn: gn[0])],
        "chosen_groups": chosen_groups,
        "facet_links": search.facet_links(filters, facets, names, sort),
        "active": search.active(filters, names, sort),
        "state_names": names,
        "regions": REGIONAL_GROUPS,
        "cycles": coverage.cycles,
        "sessions": coverage.sessions,
        "sdg_names": sdg_names(current_language()),
        "action_categories": search.ACTION_CATEGORIES,
        "coverage": coverage,
        "export_csv": search.export_url(filters, "csv"),
        "export_xlsx": search.export_url(filters, "xlsx"),
        "source_labels": {s.source: s.label for s in coverage.sources},
        "pager": pager,
        "error": error,
        "unknown_countries": unknown,
        "chosen": chosen,
        "pickable": _pickable(web, rows, chosen) if chosen is not None else [],
        "here": query_url(request),
        "previous_url": _page(request, pager.previous_offset),
        "next_url": _page(request, pager.next_offset),
    }
    return render(request, "recommendations/list.html", context, status_code=200 if error is None else 422)


def _page(request: Request, offset: int | None) -> str | None:
    """This search at another offset (as the page links are), or None when there is no such page."""
    return None if offset is None else query_url(request, offset=offset or None)


@router.post("/recommendations/selection", response_model=None)
def change_selection(
    request: Request, session: SessionDep, web: WebDep, principal: SignedInDep, form: FormDep
) -> HTMLResponse | RedirectResponse:
    """Keep the ticks of the page shown (ticked ones added, unticked ones removed), then go where the button says."""
    assert web.token is not None  # a signed-in visitor has a session
    shown = {str(v) for v in form.getlist("shown")}
    ticked = [str(v) for v in form.getlist("recommendation_ids") if str(v) in shown]
    back = _search_url(first(form, "back"))
    action = first(form, "action")
    if action == "clear":
        selections.clear_selection(session, sid=web.token.sid)
        return redirect(request, back)
    change = selections.change_selection(
        session, principal=principal, sid=web.token.sid, add=ticked, remove=sorted(shown - set(ticked))
    )
    target = "/needs/new?selection=1" if action == "file" else _search_url(first(form, "goto") or back)
    if change.refused:
        context = {"change": change, "back": back, "target": target}
        return render(request, "recommendations/selection.html", context, status_code=422)
    return redirect(request, target)


def _search_url(url: str) -> str:
    """A search page address to return to; anything else is the search page itself."""
    if url == "/recommendations" or (url.startswith("/recommendations?") and "\n" not in url and "\\" not in url):
        return url
    return "/recommendations"
