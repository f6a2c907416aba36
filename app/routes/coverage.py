"""What the data covers (public): `GET /v1/coverage`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.http.deps import SessionDep
from app.http.errors_doc import problems
from app.models.coverage import Coverage
from app.services import coverage as coverage_service

router = APIRouter(prefix="/coverage", tags=["recommendations"])


@router.get("", response_model=Coverage, operation_id="get_coverage", responses=problems(404, 422, 503))
def get_coverage(
    session: SessionDep,
    state: Annotated[
        str | None,
        Query(
            min_length=3,
            max_length=3,
            description="ISO3 of a State: also say what the data holds for it, or why it holds nothing.",
            examples=["USA"],
        ),
    ] = None,
) -> Coverage:
    """States, sessions, cycles and years per source, and when each was last imported."""
    return coverage_service.get_coverage(session, state=state)
