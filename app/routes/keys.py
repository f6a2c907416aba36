"""Admin-only API key management: /v1/keys."""

from __future__ import annotations

from fastapi import APIRouter, status

from app.core.pagination import Page
from app.http.auth import AdminDep
from app.http.deps import PageParamsDep, SessionDep
from app.http.errors_doc import problems
from app.models.api_key import ApiKeyCreate, ApiKeyCreated, ApiKeyPublic
from app.services import keys as key_service

router = APIRouter(prefix="/keys", tags=["admin"])


@router.get("", response_model=Page[ApiKeyPublic], operation_id="list_keys", responses=problems(401, 403, 422))
def list_keys(session: SessionDep, _admin: AdminDep, page: PageParamsDep) -> Page[ApiKeyPublic]:
    """List API keys (never their secrets), newest first."""
    rows, total = key_service.list_keys(session, page=page)
    return Page.build([ApiKeyPublic.model_validate(r) for r in rows], total, page)


@router.post(
    "",
    response_model=ApiKeyCreated,
    status_code=status.HTTP_201_CREATED,
    operation_id="create_key",
    responses=problems(400, 401, 403, 413, 422),
)
def create_key(body: ApiKeyCreate, session: SessionDep, admin: AdminDep) -> ApiKeyCreated:
    """Create an API key; the secret is in this answer only."""
    row, secret = key_service.create_key(session, data=body, actor=admin)
    return ApiKeyCreated(**ApiKeyPublic.model_validate(row).model_dump(), key=secret)


@router.delete("/{key_id}", response_model=ApiKeyPublic, operation_id="revoke_key", responses=problems(401, 403, 404))
def revoke_key(key_id: str, session: SessionDep, admin: AdminDep) -> ApiKeyPublic:
    """Revoke an API key; it stops working at once."""
    return ApiKeyPublic.model_validate(key_service.revoke_key(session, key_id=key_id, actor=admin))
