"""Providers of technical cooperation: /v1/providers.

Anyone may read providers; the contact e-mail is shown to authenticated callers
only (`ProviderPrivate`), anonymous callers get `ProviderPublic` without it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from app.core.pagination import Page
from app.http.auth import AuthenticatedDep, CurrentPrincipal
from app.http.deps import PageParamsDep, SessionDep, ThemeSpaceDep
from app.http.errors_doc import problems
from app.http.etag import ETAG_HEADER_DOC, NOT_MODIFIED_DOC, IfMatchDep, conditional, make_etag
from app.models.provider import ProviderCreate, ProviderPrivate, ProviderPublic, ProviderUpdate
from app.reference.vocab import Modality, ProviderKind, Region
from app.services import access
from app.services import providers as provider_service

router = APIRouter(prefix="/providers", tags=["providers"])

# Anonymous callers get ProviderPublic (no contact_email key at all); authenticated ones ProviderPrivate.
ProviderOut = ProviderPublic | ProviderPrivate


@router.get(
    "",
    response_model=Page[ProviderOut],
    operation_id="list_providers",
    responses=problems(401, 422),
)
def list_providers(
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
    page: PageParamsDep,
    kind: ProviderKind | None = None,
    theme: Annotated[str | None, Query(max_length=120, description="Exact theme, case-insensitive.")] = None,
    language: Annotated[str | None, Query(max_length=2, description="ISO 639-1 code.")] = None,
    modality: Modality | None = None,
    region: Region | None = None,
    country: Annotated[str | None, Query(max_length=3, description="ISO3 code.")] = None,
    q: Annotated[str | None, Query(max_length=200, description="Name or acronym contains (case-insensitive).")] = None,
) -> Page[ProviderOut]:
    """List providers, oldest first; every filter given must match."""
    response.headers["Vary"] = "Authorization"
    rows, total = provider_service.list_providers(
        session,
        page=page,
        kind=kind,
        theme=theme,
        language=language,
        modality=modality,
        region=region,
        country=country,
        q=q,
    )
    return Page.build([provider_service.present_provider(r, principal) for r in rows], total, page)


@router.get(
    "/{provider_id}",
    response_model=ProviderOut,
    operation_id="get_provider",
    responses={200: {"headers": ETAG_HEADER_DOC}, **NOT_MODIFIED_DOC, **problems(401, 404)},
)
def get_provider(
    provider_id: str, request: Request, response: Response, session: SessionDep, principal: CurrentPrincipal
) -> ProviderOut | Response:
    """Get one provider with its `ETag`; `If-None-Match` with the current ETag gives 304."""
    row = provider_service.get_provider(session, provider_id=provider_id)
    etag = make_etag(row.version, public=not access.can_see_contact(principal))
    body = provider_service.present_provider(row, principal)
    return conditional(request, response, etag=etag, body=body, vary="Authorization")


@router.post(
    "",
    response_model=ProviderOut,
    status_code=status.HTTP_201_CREATED,
    operation_id="create_provider",
    responses={201: {"headers": ETAG_HEADER_DOC}, **problems(400, 401, 403, 409, 413, 422)},
)
def create_provider(
    body: ProviderCreate, response: Response, session: SessionDep, principal: AuthenticatedDep, themes: ThemeSpaceDep
) -> ProviderOut:
    """Register a provider: admins any number; an unbound provider key exactly one, which it then acts for.

    The answer's `themes_predicted` are the themes read in the description: show them to the provider to
    confirm or correct (`PATCH` with `themes`); declared themes count fully in matching.
    """
    row = provider_service.create_provider(session, principal=principal, data=body, theme_space=themes)
    response.headers["ETag"] = make_etag(row.version)
    response.headers["Location"] = f"/v1/providers/{row.id}"
    return provider_service.present_provider(row, principal)


@router.patch(
    "/{provider_id}",
    response_model=ProviderOut,
    operation_id="update_provider",
    responses={200: {"headers": ETAG_HEADER_DOC}, **problems(400, 401, 403, 404, 409, 412, 413, 422, 428)},
)
def update_provider(
    provider_id: str,
    body: ProviderUpdate,
    response: Response,
    session: SessionDep,
    principal: AuthenticatedDep,
    expected: IfMatchDep,
    themes: ThemeSpaceDep,
) -> ProviderOut:
    """Change the fields sent (null clears an optional one). Requires `If-Match`; answers the new `ETag`.

    A new name, acronym or description is read again for `themes_predicted`.
    """
    row = provider_service.update_provider(
        session, principal=principal, provider_id=provider_id, data=body, expected=expected, theme_space=themes
    )
    response.headers["ETag"] = make_etag(row.version)
    return provider_service.present_provider(row, principal)


@router.delete(
    "/{provider_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="delete_provider",
    responses=problems(401, 403, 404, 409, 412, 428),
)
def delete_provider(
    provider_id: str, session: SessionDep, principal: AuthenticatedDep, expected: IfMatchDep
) -> Response:
    """Delete a provider that no activity depends on (else 409); keys acting for it are revoked. Requires `If-Match`."""
    provider_service.delete_provider(session, principal=principal, provider_id=provider_id, expected=expected)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
