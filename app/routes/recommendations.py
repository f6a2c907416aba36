"""UPR recommendations: list, search, facets, export (public) and import (admin)."""

from __future__ import annotations

import tempfile
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response, params
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from pydantic import Field, StringConstraints

from app.core.errors import UnprocessableEntity, field_error
from app.core.pagination import Page
from app.http.api_language import api_language, theme_label
from app.http.auth import AdminDep
from app.http.deps import PageParamsDep, SessionDep, SettingsDep
from app.http.downloads import attachment, download_name, with_bom
from app.http.errors_doc import problems
from app.http.streaming import BoundedStreamingResponse
from app.models.recommendation import ImportSummary, RecommendationFacets, RecommendationPublic
from app.models.translation import TranslationImportSummary
from app.services import recommendations as recommendation_service
from app.services import translations as translation_service
from app.services.imports import import_and_tag
from app.services.recommendation_filters import MAX_QUERY_LENGTH, MAX_VALUES, RecommendationFilters
from app.services.recommendations import RecommendationSort

router = APIRouter(prefix="/recommendations", tags=["recommendations"])

ResponseFilter = Literal["supported", "noted", "pending"]
JSONL_TYPES = ("application/x-ndjson", "application/jsonl", "application/json-lines", "application/x-jsonlines")
CSV_TYPES = ("text/csv", "application/csv")
UHRI_TYPES = ("application/json",)
# OHCHR's matrix of recommendations: the Word document it publishes, or the same as PDF or text.
MATRIX_TYPES = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "matrix-docx",
    "application/pdf": "matrix-pdf",
    "text/plain": "matrix-txt",
}
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SPOOL_BYTES = 8 * 1024 * 1024


Iso3 = Annotated[str, StringConstraints(min_length=3, max_length=3)]
Cycle = Annotated[int, Field(ge=1, le=20)]
SessionNumber = Annotated[int, Field(ge=1, le=200)]
Sdg = Annotated[int, Field(ge=1, le=17)]
SdgTarget = Annotated[str, StringConstraints(pattern=r"^(1[0-7]|[1-9])\.([1-9][0-9]?|[a-z])$")]
Label = Annotated[str, StringConstraints(min_length=1, max_length=255)]
ActionCategory = Annotated[int, Field(ge=1, le=5)]
RegionFilter = Literal["africa", "asia_pacific", "eastern_europe", "latin_america_caribbean", "western_europe_others"]
SEVERAL = f" Several values: any of them (`?{{name}}=a&{{name}}=b`), at most {MAX_VALUES}."


def many_values(description: str, name: str, example: object) -> params.Query:
    return params.Query(
        description=description + SEVERAL.format(name=name), max_length=MAX_VALUES, examples=[[example]]
    )


async def recommendation_filters(
    state: Annotated[list[Iso3] | None, many_values("ISO3 of the State under review.", "state", "MEX")] = None,
    recommending_state: Annotated[
        list[Iso3] | None, many_values("ISO3 of a recommending State.", "recommending_state", "DNK")
    ] = None,
    recommending_region: Annotated[
        list[RegionFilter] | None,
        many_values("UN regional group of a recommending State.", "recommending_region", "africa"),
    ] = None,
    cycle: Annotated[list[Cycle] | None, many_values("UPR cycle.", "cycle", 4)] = None,
    session: Annotated[list[SessionNumber] | None, many_values("UPR Working Group session.", "session", 47)] = None,
    response: Annotated[
        list[ResponseFilter] | None, many_values("supported, noted or pending.", "response", "supported")
    ] = None,
    theme: Annotated[
        list[Label] | None,
        many_values(
            "Theme of the controlled list: its UHRI code (A12) or label; any source's label (a UPR Info issue, a UHRI "
            "spelling) finds the records of the controlled theme(s) it maps to.",
            "theme",
            "D25",
        ),
    ] = None,
    sdg: Annotated[list[Sdg] | None, many_values("SDG (goal number).", "sdg", 5)] = None,
    sdg_target: Annotated[
        list[SdgTarget] | None, many_values("SDG target, e.g. 16.2 or 16.a.", "sdg_target", "16.2")
    ] = None,
    affected_group: Annotated[
        list[Label] | None,
        many_values(
            "Affected group of persons of the controlled list; a source's spelling (women, Women & girls) finds the "
            "group(s) it maps to.",
            "affected_group",
            "Women",
        ),
    ] = None,
    source_document: Annotated[
        list[Label] | None,
        many_values(
            "Document symbol; its addenda and paragraphs match too (A/HRC/28/15 matches A/HRC/28/15/Add.1).",
            "source_document",
            "A/HRC/28/15",
        ),
    ] = None,
    source: Annotated[
        list[Annotated[str, StringConstraints(min_length=1, max_length=64)]] | None,
        many_values("Source of the record (see GET /v1/coverage).", "source", "ohchr_uhri"),
    ] = None,
    action_category: Annotated[
        list[ActionCategory] | None, many_values("UPR Info action category 1-5.", "action_category", 5)
    ] = None,
    published_from: Annotated[
        date | None, Query(description="Published on or after this date (records with a publication date).")
    ] = None,
    published_to: Annotated[date | None, Query(description="Published on or before this date.")] = None,
    include_linked: Annotated[
        bool,
        Query(
            description="Also list other sources' copies of a recommendation (by default each recommendation "
            "appears once, as its canonical record, with the copies in `linked_ids`)."
        ),
    ] = False,
    include_withdrawn: Annotated[
        bool,
        Query(
            description="Also list records withdrawn from their source's export (by default left out; a withdrawn "
            "record shows when it was withdrawn in `withdrawn_at`)."
        ),
    ] = False,
    q: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=MAX_QUERY_LENGTH,
            description="Full-text search (English stemming; the French and Spanish texts word for word): words are "
            'AND-ed, "quoted phrase", -excluded.',
            examples=["torture optional protocol"],
        ),
    ] = None,
) -> RecommendationFilters:
    return RecommendationFilters(
        state=tuple(state or ()),
        recommending_state=tuple(recommending_state or ()),
        recommending_region=tuple(recommending_region or ()),
        cycle=tuple(cycle or ()),
        session=tuple(session or ()),
        response=tuple(response or ()),
        theme=tuple(theme or ()),
        sdg=tuple(sdg or ()),
        sdg_target=tuple(sdg_target or ()),
        affected_group=tuple(affected_group or ()),
        source_document=tuple(source_document or ()),
        source=tuple(source or ()),
        action_category=tuple(action_category or ()),
        published_from=published_from,
        published_to=published_to,
        include_linked=include_linked,
        include_withdrawn=include_withdrawn,
        q=q,
    )


FiltersDep = Annotated[RecommendationFilters, Depends(recommendation_filters)]
LangQuery = Annotated[
    Literal["en", "fr", "es"] | None,
    Query(
        description="Show `text` in this language where a source publishes it (OHCHR's French and Spanish UHRI "
        "exports, a matrix in French or Spanish), else the original; the answer then also says which language is "
        "shown (`language`), the original (`original_text`, `original_language`) and the languages the text exists "
        "in (`languages`). Nothing is machine-translated. Without `lang` the answer is the original alone. "
        "`Accept-Language` is not read: pass `lang`.",
        examples=["fr"],
    ),
]


@router.get(
    "",
    response_model=Page[RecommendationPublic],
    operation_id="list_recommendations",
    responses=problems(422, 503),
)
def list_recommendations(
    session: SessionDep,
    filters: FiltersDep,
    page: PageParamsDep,
    sort: Annotated[
        RecommendationSort,
        Query(
            description="`relevance`: best match first when `q` is given, else by cycle, session, State and id; "
            "`newest`: the newest review first (latest cycle and session)."
        ),
    ] = "relevance",
    lang: LangQuery = None,
) -> Page[RecommendationPublic]:
    """List recommendations matching the filters; ranked by relevance when `q` is given, else by cycle, session, State, id.

    `q` also finds a recommendation by its French or Spanish text; `lang` shows the texts in that language.
    """  # noqa: E501
    rows, total = recommendation_service.list_recommendations(session, filters=filters, page=page, sort=sort)
    return Page.build(recommendation_service.present(session, rows, lang=lang), total, page)


@router.get(
    "/facets",
    response_model=RecommendationFacets,
    operation_id="get_recommendation_facets",
    responses=problems(422, 503),
)
def get_recommendation_facets(
    request: Request, response: Response, session: SessionDep, filters: FiltersDep
) -> RecommendationFacets:
    """Count the matching recommendations per theme, State, cycle, response, SDG, affected group and source.

    With `Accept-Language: fr` or `es`, each theme's `label` is the controlled vocabulary's French or Spanish
    label; the `value`s (codes) stay as they are."""
    facets = recommendation_service.get_facets(session, filters=filters)
    response.headers["Vary"] = "Accept-Language"  # a cache keys the labels on the language asked
    code = api_language(request)
    if code is None:
        return facets
    # Copies: the counts may be shared (cached) with other requests, which keep their English labels.
    themes = [t.model_copy(update={"label": theme_label(t.label, code)}) for t in facets.themes]
    return facets.model_copy(update={"themes": themes})


@router.get(
    "/export",
    operation_id="export_recommendations",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": (
                "The matching recommendations, streamed; CSV cells that could run as formulas start with `'`."
            ),
            "content": {
                "text/csv": {"schema": {"type": "string"}, "example": "id,source,cycle,...\n"},
                "application/x-ndjson": {"schema": {"type": "string"}, "example": '{"id":"...","cycle":1}\n'},
                XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}},
            },
        },
        **problems(422, 503),
    },
)
def export_recommendations(
    request: Request,
    settings: SettingsDep,
    filters: FiltersDep,
    format: Annotated[
        Literal["csv", "jsonl", "xlsx"],
        Query(
            description='csv (list cells as text joined by "; ") or jsonl, both re-import as they are; '
            "xlsx for Excel (one sheet, same columns)."
        ),
    ] = "jsonl",
) -> StreamingResponse:
    """Export the matching recommendations (same filters as the list) as CSV, JSON Lines or Excel, streamed.

    A few exports run at once per worker (503 with `Retry-After` beyond them); a client that
    accepts no data for a while is cut off.
    """
    # No request session: it would hold one of the worker's database slots for the whole stream
    # (released only once the last byte is sent); each batch opens its own short-lived connection.
    body = recommendation_service.export_lines(request.app.state.engine, filters=filters, fmt=format)
    media = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson", "xlsx": XLSX_TYPE}[format]
    return BoundedStreamingResponse(
        with_bom(body) if format == "csv" else body,
        slots=request.app.state.export_slots,
        send_timeout=settings.EXPORT_SEND_TIMEOUT_S,
        media_type=media,
        headers=attachment(download_name("recommendations", _named(filters), format)),
    )


def _named(filters: RecommendationFilters) -> list[object]:
    """The filters a file name shows, most telling first ("MEX", "supported", "cycle3", "q-torture")."""
    return [
        *filters.state,
        *filters.response,
        *(f"cycle{c}" for c in filters.cycle),
        *(f"session{s}" for s in filters.session),
        *(f"sdg{n}" for n in filters.sdg),
        *filters.theme,
        *([f"q-{filters.q}"] if filters.q else []),
    ]


@router.post(
    "/import",
    response_model=ImportSummary,
    operation_id="import_recommendations",
    responses={
        201: {"model": ImportSummary, "description": "Imported; at least one recommendation was new."},
        **problems(401, 403, 413, 422, 503, 507),
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "The raw file: JSON Lines (shared schema or our export), CSV (UPR Info export or ours), "
            "as `application/json` OHCHR's Universal Human Rights Index export (`export-full-en.json`: "
            "a JSON array; only its UPR recommendations are imported, the other records are counted as skipped), "
            "or OHCHR's matrix of recommendations of one review: the Word document (.docx), or the same as PDF "
            "or `text/plain` (the review is read from its header, else from `state`, `cycle` and `session`).",
            "content": {
                "application/x-ndjson": {"schema": {"type": "string", "format": "binary"}},
                "text/csv": {"schema": {"type": "string", "format": "binary"}},
                "application/json": {"schema": {"type": "string", "format": "binary"}},
                **{media: {"schema": {"type": "string", "format": "binary"}} for media in MATRIX_TYPES},
            },
        }
    },
)
async def import_recommendations(
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    admin: AdminDep,
    dry_run: Annotated[bool, Query(description="Validate and count, write nothing.")] = False,
    state: Annotated[
        str | None,
        Query(
            min_length=2, max_length=64, description="Matrix only: the State under review, if the document lacks it."
        ),
    ] = None,
    cycle: Annotated[Cycle | None, Query(description="Matrix only: the UPR cycle, if the document lacks it.")] = None,
    review_session: Annotated[
        SessionNumber | None,
        Query(alias="session", description="Matrix only: the review's session, if the document lacks it."),
    ] = None,
) -> ImportSummary:
    """Import recommendations from a file, all or nothing: 201 when something was inserted, 200 otherwise.

    The copies of one recommendation from several sources (e.g. the UHRI export and the UPR Info
    database) are linked in the same transaction, so each counts once in coverage and drafts.
    """
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in JSONL_TYPES:
        fmt = "jsonl"
    elif content_type in CSV_TYPES:
        fmt = "csv"
    elif content_type in UHRI_TYPES:
        fmt = "uhri"
    elif content_type in MATRIX_TYPES:
        fmt = MATRIX_TYPES[content_type]
    else:
        raise UnprocessableEntity(
            f"Unsupported Content-Type {content_type or '(none)'!r}.",
            errors=[
                field_error(
                    ["header", "content-type"],
                    "must be application/x-ndjson, application/jsonl, text/csv, application/json (UHRI export), or "
                    "a matrix of recommendations as .docx (application/vnd.openxmlformats-officedocument."
                    "wordprocessingml.document), application/pdf or text/plain",
                )
            ],
        )
    # Async only to stream the body to a temporary file (bounded memory); the import runs in a thread.
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
        async for chunk in request.stream():
            spool.write(chunk)
        summary = await run_in_threadpool(
            import_and_tag,
            session,
            tagger=request.app.state.tagger,
            file=spool,
            fmt=fmt,
            dry_run=dry_run,
            max_rows=settings.MAX_IMPORT_ROWS,
            actor=admin,
            state=state,
            cycle=cycle,
            review_session=review_session,
        )
    response.status_code = 201 if summary.inserted else 200
    return summary


@router.post(
    "/translations/{language}",
    response_model=TranslationImportSummary,
    operation_id="import_recommendation_translations",
    responses=problems(401, 403, 413, 422, 503, 507),
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "OHCHR's Universal Human Rights Index export in that language (`export-full-fr.json` or "
            "`export-full-es.json`): a JSON array with the same `AnnotationId`s as the English export.",
            "content": {"application/json": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def import_recommendation_translations(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    admin: AdminDep,
    language: Annotated[Literal["fr", "es"], Path(description="The language of the export's texts.")],
    dry_run: Annotated[bool, Query(description="Validate and count, write nothing.")] = False,
) -> TranslationImportSummary:
    """Attach the French or Spanish texts of a UHRI export to the recommendations already imported, all or nothing.

    Each UPR record's text goes to the recommendation the English export brought with the same
    `AnnotationId` (`uhri-<AnnotationId>`); records whose recommendation is not in the database are
    counted in `unknown` and not stored. `text` stays the original; `lang` on the recommendation
    operations shows these texts.
    """
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in UHRI_TYPES:
        raise UnprocessableEntity(
            f"Unsupported Content-Type {content_type or '(none)'!r}.",
            errors=[field_error(["header", "content-type"], "must be application/json (a UHRI export)")],
        )
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
        async for chunk in request.stream():
            spool.write(chunk)
        return await run_in_threadpool(
            translation_service.import_translations,
            session,
            file=spool,
            language=language,
            dry_run=dry_run,
            max_rows=settings.MAX_IMPORT_ROWS,
            actor=admin,
        )


@router.get(
    "/{recommendation_id}",
    response_model=RecommendationPublic,
    operation_id="get_recommendation",
    responses=problems(404, 503),
)
def get_recommendation(recommendation_id: str, session: SessionDep, lang: LangQuery = None) -> RecommendationPublic:
    """Show one recommendation by its stable source id; `lang` shows its text in French or Spanish where it exists."""
    row = recommendation_service.get_recommendation(session, recommendation_id=recommendation_id)
    return recommendation_service.present(session, [row], lang=lang)[0]
