"""Where help is missing (public, counting what the caller may see): /v1/analytics/...

The slice is given as query parameters, several values each: `state`, `region`, `group` (ldc,
sids), `theme`, `sdg`, `cycle`. Each measure has an `/export` twin answering every row as CSV or
.xlsx. The numbers are those of the `/gaps` page and of `upr-match report`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response

from app.core.jsontypes import JsonObject
from app.http.auth import CurrentPrincipal
from app.http.deps import MatchIndexDep, PageParamsDep, SessionDep
from app.http.downloads import attachment, download_name, with_bom
from app.http.errors_doc import problems
from app.models.analytics import FundingPage, PipelinePage, SupplyDemandPage, UnservedPage
from app.routes.recommendations import XLSX_TYPE, Cycle, Iso3, Label, RegionFilter, Sdg, many_values
from app.services.analytics import export as export_service
from app.services.analytics import needs, pipeline
from app.services.analytics.slices import Slice

router = APIRouter(prefix="/analytics", tags=["analytics"])
Group = Literal["ldc", "sids"]


async def analytics_slice(
    state: Annotated[list[Iso3] | None, many_values("ISO3 of a State.", "state", "MEX")] = None,
    region: Annotated[list[RegionFilter] | None, many_values("UN regional group.", "region", "africa")] = None,
    group: Annotated[
        list[Group] | None,
        many_values("ldc (least developed countries) or sids (small island developing States).", "group", "ldc"),
    ] = None,
    theme: Annotated[
        list[Label] | None, many_values("Exact theme label, any scheme.", "theme", "Torture and other CID treatment")
    ] = None,
    sdg: Annotated[list[Sdg] | None, many_values("SDG (by label or through the themes).", "sdg", 16)] = None,
    cycle: Annotated[list[Cycle] | None, many_values("UPR cycle.", "cycle", 3)] = None,
) -> Slice:
    return Slice.of(states=state, regions=region, groups=group, themes=theme, sdgs=sdg, cycles=cycle)


SliceDep = Annotated[Slice, Depends(analytics_slice)]
PipelineByParam = Annotated[
    Literal["theme", "state", "region", "sdg"], Query(description="Group the rows by theme, State, region or SDG.")
]
UnservedByParam = Annotated[
    Literal["theme", "region", "language"], Query(description="Group the rows by theme, region or language.")
]
FormatParam = Annotated[Literal["csv", "xlsx"], Query(description="csv or xlsx (one sheet).")]
EXPORT_RESPONSES: dict[int | str, JsonObject] = {
    200: {
        "description": "Every row of the measure, then a line naming the slice, the date and the sources.",
        "content": {
            "text/csv": {"schema": {"type": "string"}, "example": "theme,label,supported\n"},
            XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}},
        },
    },
    **problems(422),
}


def _file(body: Iterable[bytes], fmt: str, name: str, piece: Slice, *named: str) -> Response:
    """The export as a file named after the measure, the slice and the day; a CSV starts with the UTF-8 mark."""
    data = b"".join(with_bom(body) if fmt == "csv" else body)
    media = "text/csv; charset=utf-8" if fmt == "csv" else XLSX_TYPE
    filters = [*named, *piece.states, *piece.regions, *piece.groups, *(f"cycle{c}" for c in piece.cycles)]
    filters += [*(f"sdg{n}" for n in piece.sdgs), *piece.themes]
    return Response(data, media_type=media, headers=attachment(download_name(name, filters, fmt)))


@router.get("/pipeline", response_model=PipelinePage, operation_id="get_pipeline", responses=problems(422))
def get_pipeline(
    session: SessionDep,
    principal: CurrentPrincipal,
    piece: SliceDep,
    page: PageParamsDep,
    by: PipelineByParam = "theme",
) -> PipelinePage:
    """Supported recommendations -> requested (an open need cites them) -> under way -> done, per group.

    Each recommendation counts once, at the furthest stage it reached, so the stages add up to
    the supported count; `totals` counts the whole slice (a recommendation with two themes is in
    two theme rows but once in the totals).
    """
    return pipeline.get_pipeline(session, principal=principal, piece=piece, by=by, page=page)


@router.get("/pipeline/export", operation_id="export_pipeline", response_class=Response, responses=EXPORT_RESPONSES)
def export_pipeline(
    session: SessionDep,
    principal: CurrentPrincipal,
    piece: SliceDep,
    format: FormatParam,
    by: PipelineByParam = "theme",
) -> Response:
    """The pipeline (every group, then the totals) as CSV or .xlsx."""
    body = export_service.export(session, principal=principal, measure="pipeline", piece=piece, fmt=format, by=by)
    return _file(body, format, "pipeline", piece, f"by-{by}")


@router.get("/unserved-needs", response_model=UnservedPage, operation_id="get_unserved_needs", responses=problems(422))
def get_unserved_needs(
    session: SessionDep,
    principal: CurrentPrincipal,
    piece: SliceDep,
    page: PageParamsDep,
    by: UnservedByParam = "theme",
) -> UnservedPage:
    """Open needs whose best match stayed below the strong band for 30 days, or whose engagements were all declined."""
    return needs.get_unserved(session, principal=principal, piece=piece, by=by, page=page)


@router.get(
    "/unserved-needs/export",
    operation_id="export_unserved_needs",
    response_class=Response,
    responses=EXPORT_RESPONSES,
)
def export_unserved_needs(
    session: SessionDep,
    principal: CurrentPrincipal,
    piece: SliceDep,
    format: FormatParam,
    by: UnservedByParam = "theme",
) -> Response:
    """Unserved needs per group as CSV or .xlsx."""
    body = export_service.export(session, principal=principal, measure="unserved-needs", piece=piece, fmt=format, by=by)
    return _file(body, format, "unserved-needs", piece, f"by-{by}")


@router.get(
    "/supply-demand", response_model=SupplyDemandPage, operation_id="get_supply_demand", responses=problems(422)
)
def get_supply_demand(
    session: SessionDep, principal: CurrentPrincipal, index: MatchIndexDep, piece: SliceDep, page: PageParamsDep
) -> SupplyDemandPage:
    """Per theme: open needs against the providers covering it, with the regions and languages missing."""
    return needs.get_supply_demand(session, principal=principal, piece=piece, index=index, page=page)


@router.get(
    "/supply-demand/export",
    operation_id="export_supply_demand",
    response_class=Response,
    responses=EXPORT_RESPONSES,
)
def export_supply_demand(
    session: SessionDep, principal: CurrentPrincipal, index: MatchIndexDep, piece: SliceDep, format: FormatParam
) -> Response:
    """Supply vs demand per theme as CSV or .xlsx."""
    body = export_service.export(
        session, principal=principal, measure="supply-demand", piece=piece, fmt=format, index=index
    )
    return _file(body, format, "supply-demand", piece)


@router.get("/funding", response_model=FundingPage, operation_id="get_funding", responses=problems(422))
def get_funding(session: SessionDep, principal: CurrentPrincipal, piece: SliceDep, page: PageParamsDep) -> FundingPage:
    """Per SDG: USD required and available in the UN cooperation frameworks, next to the UPR side.

    Figures from UN INFO (imported with `upr-match import-funding`); recommendations reach an SDG
    through their SDG labels or their themes (the reviewed theme -> SDG links).
    """
    return pipeline.get_funding(session, principal=principal, piece=piece, page=page)


@router.get("/funding/export", operation_id="export_funding", response_class=Response, responses=EXPORT_RESPONSES)
def export_funding(session: SessionDep, principal: CurrentPrincipal, piece: SliceDep, format: FormatParam) -> Response:
    """The funding context per SDG as CSV or .xlsx."""
    body = export_service.export(session, principal=principal, measure="funding", piece=piece, fmt=format)
    return _file(body, format, "funding", piece)
