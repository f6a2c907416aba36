"""Liveness and readiness probes (outside `/v1`: they describe the process, not the API)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from app import __version__
from app.core.jsontypes import JsonObject
from app.http.auth import CurrentPrincipal
from app.http.errors_doc import problems

router = APIRouter(prefix="/health", tags=["health"])


class Liveness(BaseModel):
    status: str
    version: str


class Readiness(BaseModel):
    status: str
    version: str
    checks: dict[str, JsonObject]


@router.get("/live", response_model=Liveness, operation_id="get_liveness")
def read_liveness() -> Liveness:
    """Answer 200 while the process runs; touches nothing else."""
    return Liveness(status="ok", version=__version__)


@router.get(
    "/ready",
    response_model=Readiness,
    operation_id="get_readiness",
    responses={
        503: {"model": Readiness, "description": "A dependency is not ready."},
        **problems(401),
    },
)
def read_readiness(request: Request, principal: CurrentPrincipal) -> JSONResponse:
    """Answer 200 when the database answers and every index is loaded, else 503 with the failing checks.

    Each check says `ok`; its details (counts, log position, backend, the reason of a failure)
    are for admin keys only, since they describe data others may not see.
    """
    checks: dict[str, JsonObject] = {}
    for name, check in request.app.state.ready_checks.items():
        try:
            checks[name] = check()
        except Exception as exc:  # a probe must report, never raise
            checks[name] = {"ok": False, "detail": type(exc).__name__}
    ok = all(c.get("ok") for c in checks.values())
    if not principal.is_admin:
        checks = {name: {"ok": bool(check.get("ok"))} for name, check in checks.items()}
    body = Readiness(status="ok" if ok else "unavailable", version=__version__, checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if ok else 503)
