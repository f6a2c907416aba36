"""The gaps dashboard page, `/gaps`: where help is missing, for the slice chosen in its form.

The form's fields are the API's slice parameters (`/v1/analytics/...`), so a link to the page
and to the data carry the same query. Blank fields mean "every".
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from app.core.errors import UnprocessableEntity, field_error
from app.http.deps import MatchIndexDep, SessionDep
from app.reference.regions import REGIONAL_GROUPS
from app.reference.validation import is_iso3, unknown_country
from app.reference.vocab import sdg_names
from app.services.analytics.pipeline import PipelineBy
from app.services.analytics.reference import GROUP_LABELS
from app.services.analytics.slices import Slice
from app.services.coverage import state_names
from app.web.gaps import dashboard
from app.web.i18n import N_, current_language, gettext
from app.web.labels import theme_options
from app.web.session import WebDep
from app.web.templating import render

router = APIRouter(include_in_schema=False)
Field = Annotated[list[str] | None, Query(max_length=20)]
BY: dict[PipelineBy, str] = {
    "theme": N_("Theme"),
    "state": N_("State"),
    "region": N_("UN regional group"),
    "sdg": N_("SDG"),
}


def _slice(state: list[str], region: list[str], group: list[str], theme: list[str], sdg: list[str]) -> Slice:
    errors = []
    states = [s.strip().upper() for s in state if s.strip()]
    errors += [field_error(["query", "state"], unknown_country(s)) for s in states if not is_iso3(s)]
    errors += [
        field_error(["query", "region"], f"{r!r} is not a UN regional group")
        for r in region
        if r and r not in REGIONAL_GROUPS
    ]
    errors += [
        field_error(["query", "group"], f"{g!r} is not ldc or sids") for g in group if g and g not in GROUP_LABELS
    ]
    sdgs = []
    for value in sdg:
        if value.strip():
            if not value.strip().isdigit() or not 1 <= int(value) <= 17:
                errors.append(field_error(["query", "sdg"], f"{value!r} is not an SDG number from 1 to 17"))
            else:
                sdgs.append(int(value))
    if errors:
        raise UnprocessableEntity(gettext("Some filters are not valid."), errors=errors)
    return Slice.of(
        states=states,
        regions=[r for r in region if r],
        groups=[g for g in group if g],
        themes=[t for t in theme if t.strip()],
        sdgs=sdgs,
    )


@router.get("/gaps", response_class=HTMLResponse)
def gaps_page(
    request: Request,
    session: SessionDep,
    web: WebDep,
    index: MatchIndexDep,
    state: Field = None,
    region: Field = None,
    group: Field = None,
    theme: Field = None,
    sdg: Field = None,
    by: Annotated[str | None, Query(max_length=10)] = None,
) -> HTMLResponse:
    """Where help is missing: pipeline, regions, unserved needs, supply vs demand, funding gap."""
    piece = _slice(state or [], region or [], group or [], theme or [], sdg or [])
    default: PipelineBy = "theme" if len(piece.states) == 1 else "state"
    grouping = next((key for key in BY if key == by), default)
    board = dashboard(session, principal=web.principal, piece=piece, by=grouping, index=index)
    query = urlencode(
        [("state", s) for s in piece.states]
        + [("region", r) for r in piece.regions]
        + [("group", g) for g in piece.groups]
        + [("theme", t) for t in piece.themes]
        + [("sdg", s) for s in piece.sdgs]
    )
    return render(
        request,
        "gaps.html",
        {
            "board": board,
            "summary": {
                "themes_without_provider": sum(1 for r in board.supply.items if not r.providers),
                "largest_gap": next((r for r in board.funding.items if r.gap is not None and r.gap > 0), None),
            },
            "query": query,
            "states": state_names(session),
            "regions": {code: gettext(name) for code, name in REGIONAL_GROUPS.items()},
            "groups": {code: gettext(name) for code, name in GROUP_LABELS.items()},
            "sdg_names": sdg_names(current_language()),
            "by_options": [(code, gettext(words)) for code, words in BY.items()],
            # The controlled themes (UHRI codes), in the order of the list.
            "theme_choices": [(code, label) for code, label, _ in theme_options()],
        },
    )
