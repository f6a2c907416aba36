"""POST /v1/classify: themes of a text from the trained tagger."""

from __future__ import annotations

from fastapi import APIRouter, Request

from app.http.auth import CurrentPrincipal
from app.http.errors_doc import problems
from app.models.classify import ClassifyRequest, ClassifyResponse
from app.services import themes as theme_service

router = APIRouter(tags=["matching"])


@router.post(
    "/classify",
    response_model=ClassifyResponse,
    operation_id="classify_text",
    responses=problems(400, 401, 413, 422, 503),
)
def classify_text(body: ClassifyRequest, request: Request, _caller: CurrentPrincipal) -> ClassifyResponse:
    """Tag a text with UPR themes (or SDGs, affected groups where trained), with probabilities."""
    return ClassifyResponse(
        **theme_service.classify(request.app.state.tagger, text=body.text, scheme=body.scheme, top=body.top)
    )
