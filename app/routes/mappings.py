"""Document mappings: /v1/mappings (a document's paragraphs linked to the recommendations each speaks to).

A private mapping is its author's: anyone else gets 404, exactly as for a missing one.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response, status
from starlette.concurrency import run_in_threadpool

from app.core.errors import PayloadTooLarge
from app.core.pagination import Page
from app.http.auth import AuthenticatedDep, CurrentPrincipal
from app.http.deps import MatchIndexDep, PageParamsDep, SessionDep
from app.http.errors_doc import problems
from app.http.etag import ETAG_HEADER_DOC, IfMatchDep, make_etag
from app.importing.document import MAX_DOCUMENT_BYTES
from app.models.mapping import LinkDecision, MappingFilters, MappingOut, MappingSummary, MappingUpdate
from app.models.recommendation import Response as RecommendationResponse
from app.reference.vocab import Iso3
from app.services import mappings as mapping_service

router = APIRouter(prefix="/mappings", tags=["mappings"])

DOCUMENT_TYPES = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": {
        "schema": {"type": "string", "format": "binary"}
    },
    "application/pdf": {"schema": {"type": "string", "format": "binary"}},
    "text/plain": {"schema": {"type": "string"}, "example": "1. Train prosecutors to investigate torture complaints."},
}


@router.post(
    "",
    response_model=MappingOut,
    status_code=status.HTTP_201_CREATED,
    operation_id="create_mapping",
    responses={201: {"headers": ETAG_HEADER_DOC}, **problems(401, 413, 422, 503)},
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": f"The document itself (.docx, .pdf or .txt, at most {MAX_DOCUMENT_BYTES // 2**20} MB); "
            "`filename` says which.",
            "content": DOCUMENT_TYPES,
        }
    },
)
async def create_mapping(
    request: Request,
    response: Response,
    session: SessionDep,
    index: MatchIndexDep,
    principal: AuthenticatedDep,
    filename: Annotated[
        str,
        Query(
            min_length=5,
            max_length=255,
            pattern=r"(?i)^[^/\\]+\.(docx|pdf|txt)$",
            description="The document's file name, ending .docx, .pdf or .txt.",
            examples=["submission.docx"],
        ),
    ],
    title: Annotated[str | None, Query(min_length=1, max_length=200, description="Defaults to the file name.")] = None,
    state: Annotated[Iso3 | None, Query(description="Link to this State's recommendations only.")] = None,
    cycle: Annotated[int | None, Query(ge=1, le=20)] = None,
    session_number: Annotated[int | None, Query(alias="session", ge=1, le=200)] = None,
    recommendation_response: Annotated[
        list[RecommendationResponse] | None, Query(alias="response", max_length=3)
    ] = None,
    theme: Annotated[str | None, Query(min_length=1, max_length=255)] = None,
    public: Annotated[bool, Query(description="Anyone may read it (else only you).")] = False,
) -> MappingOut:
    """Split a document into paragraphs or numbered items and link each to the recommendations it speaks to.

    Each paragraph keeps its best links (at most 5, scoring at least 0.2), as `POST /v1/recommendations/related`
    ranks them with the same filters. Kept as yours (private unless `public`); review each link with
    `POST /v1/mappings/{id}/items/{number}/decision`. A scanned PDF without text, a password-protected or a
    corrupt file, more than 60 pages or 300 paragraphs: 422 naming the file and the fault.
    """
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > MAX_DOCUMENT_BYTES:
            raise PayloadTooLarge(f"{filename} is larger than {MAX_DOCUMENT_BYTES // 2**20} MB, the most read.")
    filters = MappingFilters(
        state=state, cycle=cycle, session=session_number, response=recommendation_response or [], theme=theme
    )
    out = await run_in_threadpool(
        mapping_service.create_mapping,
        session,
        index,
        principal=principal,
        data=bytes(data),
        filename=filename,
        title=title,
        filters=filters,
        public=public,
    )
    response.headers["ETag"] = make_etag(out.version)
    return out


@router.get("", response_model=Page[MappingSummary], operation_id="list_mappings", responses=problems(401, 422))
def list_mappings(
    session: SessionDep,
    principal: CurrentPrincipal,
    page: PageParamsDep,
    public: Annotated[bool, Query(description="Everyone's public mappings instead of yours.")] = False,
) -> Page[MappingSummary]:
    """Your mappings, newest first (`public=true`: the public ones, anyone may list them)."""
    rows, total = mapping_service.list_mappings(session, principal=principal, page=page, public=public)
    return Page.build(rows, total, page)


@router.get(
    "/{mapping_id}",
    response_model=MappingOut,
    operation_id="get_mapping",
    responses={200: {"headers": ETAG_HEADER_DOC}, **problems(401, 404)},
)
def get_mapping(mapping_id: str, response: Response, session: SessionDep, principal: CurrentPrincipal) -> MappingOut:
    """A mapping you may see: its paragraphs, each with its links (best first) and your decisions."""
    out = mapping_service.get_mapping(session, principal=principal, mapping_id=mapping_id)
    response.headers["ETag"] = make_etag(out.version)
    return out


@router.patch(
    "/{mapping_id}",
    response_model=MappingOut,
    operation_id="update_mapping",
    responses={200: {"headers": ETAG_HEADER_DOC}, **problems(400, 401, 404, 412, 413, 422, 428)},
)
def update_mapping(
    mapping_id: str,
    body: MappingUpdate,
    response: Response,
    session: SessionDep,
    principal: AuthenticatedDep,
    expected: IfMatchDep,
) -> MappingOut:
    """Rename it, or make it public (or private again). Yours only; requires `If-Match`."""
    out = mapping_service.update_mapping(
        session, principal=principal, mapping_id=mapping_id, data=body, expected=expected
    )
    response.headers["ETag"] = make_etag(out.version)
    return out


@router.post(
    "/{mapping_id}/items/{item_number}/decision",
    response_model=MappingOut,
    operation_id="decide_mapping_link",
    responses={200: {"headers": ETAG_HEADER_DOC}, **problems(400, 401, 404, 412, 413, 422, 428)},
)
def decide_link(
    mapping_id: str,
    item_number: int,
    body: LinkDecision,
    response: Response,
    session: SessionDep,
    principal: AuthenticatedDep,
    expected: IfMatchDep,
) -> MappingOut:
    """Accept or reject one paragraph's link (`null` undoes the decision). Yours only; requires `If-Match`."""
    out = mapping_service.decide_link(
        session,
        principal=principal,
        mapping_id=mapping_id,
        item_number=item_number,
        recommendation_id=body.recommendation_id,
        decision=body.decision,
        expected=expected,
    )
    response.headers["ETag"] = make_etag(out.version)
    return out


@router.delete(
    "/{mapping_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="delete_mapping",
    responses=problems(401, 404, 412, 428),
)
def delete_mapping(mapping_id: str, session: SessionDep, principal: AuthenticatedDep, expected: IfMatchDep) -> Response:
    """Delete it with its paragraphs and links. Yours only; requires `If-Match`."""
    mapping_service.delete_mapping(session, principal=principal, mapping_id=mapping_id, expected=expected)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/{mapping_id}/export",
    operation_id="export_mapping",
    response_class=Response,
    responses={
        200: {
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                    "schema": {"type": "string", "format": "binary"}
                },
            },
            "description": "One row per link (a paragraph without links: one row), with the decisions.",
        },
        **problems(401, 404, 422),
    },
)
def export_mapping(
    mapping_id: str,
    session: SessionDep,
    principal: CurrentPrincipal,
    format: Annotated[Literal["csv", "xlsx"], Query(description="csv (UTF-8 with a BOM) or xlsx.")] = "csv",
) -> Response:
    """The mapping as a table: CSV (UTF-8 with a byte-order mark) or an .xlsx workbook."""
    if format == "xlsx":
        name, body = mapping_service.export_xlsx(session, principal=principal, mapping_id=mapping_id)
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        name, body = mapping_service.export_csv(session, principal=principal, mapping_id=mapping_id)
        media = "text/csv; charset=utf-8"
    return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})
