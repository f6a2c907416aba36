"""The document mapping pages: a text mapped paragraph by paragraph to the recommendations each speaks to,
reviewed link by link, exported.

The same service as `/v1/mappings` (`app.services.mappings`): a mapping is its author's until made public.
A page's text is mapped as a .txt document (files are uploaded through `POST /v1/mappings`).
"""

from __future__ import annotations

from contextlib import suppress

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from app.core.errors import PreconditionFailed, UnprocessableEntity
from app.core.pagination import PageParams
from app.http.deps import SessionDep
from app.models.mapping import MappingFilters
from app.services import mappings as mapping_service
from app.web.forms import first, int_or
from app.web.session import FormDep, SignedInDep, WebDep
from app.web.templating import redirect, render

router = APIRouter(include_in_schema=False)
MAX_PASTED = 200_000


@router.get("/mappings", response_class=HTMLResponse)
def list_mappings(request: Request, session: SessionDep, principal: SignedInDep) -> HTMLResponse:
    """The visitor's mappings and the form to map a text."""
    rows, total = mapping_service.list_mappings(session, principal=principal, page=PageParams(limit=50, offset=0))
    return render(request, "mappings/list.html", {"mappings": rows, "total": total, "error": None, "values": {}})


@router.post("/mappings", response_model=None)
def create_mapping(
    request: Request, session: SessionDep, principal: SignedInDep, form: FormDep
) -> HTMLResponse | RedirectResponse:
    """Map the pasted text, paragraph by paragraph, and open the mapping."""
    values = {k: first(form, k) for k in ("title", "state", "text")}
    values["public"] = "1" if first(form, "public") else ""
    state = values["state"].strip().upper() or None
    try:
        out = mapping_service.create_mapping(
            session,
            request.app.state.match_index,
            principal=principal,
            data=values["text"][:MAX_PASTED].encode("utf-8"),
            filename="text.txt",
            title=values["title"].strip() or None,
            filters=MappingFilters(state=state, response=["supported"]) if state else MappingFilters(),
            public=bool(values["public"]),
        )
    except UnprocessableEntity as exc:
        rows, total = mapping_service.list_mappings(session, principal=principal, page=PageParams(limit=50, offset=0))
        context = {"mappings": rows, "total": total, "error": exc.detail, "values": values}
        return render(request, "mappings/list.html", context, status_code=422)
    return redirect(request, f"/mappings/{out.id}")


@router.get("/mappings/{mapping_id}", response_class=HTMLResponse)
def read_mapping(request: Request, mapping_id: str, session: SessionDep, web: WebDep) -> HTMLResponse:
    """A mapping: each paragraph with its links, their reasons and the author's decisions."""
    mapping = mapping_service.get_mapping(session, principal=web.principal, mapping_id=mapping_id)
    return render(request, "mappings/detail.html", {"mapping": mapping})


@router.post("/mappings/{mapping_id}/decide", response_model=None)
def decide(
    request: Request, mapping_id: str, session: SessionDep, principal: SignedInDep, form: FormDep
) -> RedirectResponse:
    """Accept or reject one link (or undo), at the version the page showed."""
    decision = first(form, "decision") or None
    # Someone decided meanwhile (412): the page shows where it stands now.
    with suppress(PreconditionFailed):
        mapping_service.decide_link(
            session,
            principal=principal,
            mapping_id=mapping_id,
            item_number=int_or(first(form, "item"), 0),
            recommendation_id=first(form, "recommendation_id"),
            decision=None if decision == "undo" else decision,
            expected=frozenset({int_or(first(form, "version"), 0)}),
        )
    return redirect(request, f"/mappings/{mapping_id}#item-{first(form, 'item')}")


@router.get("/mappings/{mapping_id}/export.{fmt}")
def export(mapping_id: str, fmt: str, session: SessionDep, web: WebDep) -> Response:
    """The mapping as CSV (UTF-8 with a byte-order mark) or .xlsx, for the visitor who may see it."""
    if fmt == "xlsx":
        name, body = mapping_service.export_xlsx(session, principal=web.principal, mapping_id=mapping_id)
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        name, body = mapping_service.export_csv(session, principal=web.principal, mapping_id=mapping_id)
        media = "text/csv; charset=utf-8"
    return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})
