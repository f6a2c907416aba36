"""The administrators' pages: issue, list and revoke keys; answer the organisations' requests for a key.

They call the services of `POST /v1/keys` and `DELETE /v1/keys/{id}` (same checks, same audit
rows). A new key's secret is in the answer to the form only, never stored nor shown again.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from app.core.errors import Conflict, Forbidden, NotFound, UnprocessableEntity
from app.core.identity import Principal
from app.http.deps import PageParamsDep, SessionDep
from app.models.api_key import ApiKeyCreate
from app.reference.regions import un_states
from app.services import directory, registrations
from app.services import keys as key_service
from app.web.forms import FieldError, first, from_problem, validate_all
from app.web.i18n import N_, gettext
from app.web.labels import state_name
from app.web.session import FormDep, SignedInDep
from app.web.templating import Pager, redirect, render

router = APIRouter(include_in_schema=False)

DONE: dict[str, str] = {
    "revoked": N_("The key is revoked: it stops working at once, and any session signed in with it ends."),
    "approved": N_("The request is approved. The organisation gets its key, once, from its private link."),
    "rejected": N_("The request is rejected."),
}
LABELS = {
    "name": N_("Who uses the key"),
    "role": N_("Role"),
    "state": N_("State"),
    "provider_id": N_("Provider"),
    "contact_email": N_("Contact e-mail"),
}


KEY_FIELDS = ("name", "role", "state", "provider_id", "contact_email")


def require_admin(principal: SignedInDep) -> Principal:
    if not principal.is_admin:
        raise Forbidden("Only administrators manage keys and registration requests.")
    return principal


AdminDep = Annotated[Principal, Depends(require_admin)]


def _keys_page(
    request: Request,
    session: SessionDep,
    page: PageParamsDep,
    *,
    form: dict[str, str] | None = None,
    errors: list[FieldError] | None = None,
    created: tuple[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    rows, total = key_service.list_keys(session, page=page)
    response = render(
        request,
        "admin/keys.html",
        {
            "keys": rows,
            "pager": Pager(total=total, limit=page.limit, offset=page.offset),
            "form": {**dict.fromkeys(KEY_FIELDS, ""), "role": "state", **(form or {})},
            "errors": errors or [],
            "created": created,
            "state_options": sorted(un_states(), key=state_name),
            "providers": directory.provider_names(session),
        },
        status_code=status_code,
    )
    if created is not None:
        response.headers["Cache-Control"] = "no-store"  # the secret is in this page only
    return response


@router.get("/admin/keys", response_class=HTMLResponse)
def keys_page(
    request: Request,
    session: SessionDep,
    _admin: AdminDep,
    page: PageParamsDep,
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> HTMLResponse:
    """Every key (never its secret), newest first, with the form to issue one."""
    if done in DONE:
        request.state.web.notices.append(DONE[done])
    return _keys_page(request, session, page)


@router.post("/admin/keys", response_class=HTMLResponse)
def issue_key(
    request: Request, session: SessionDep, admin: AdminDep, page: PageParamsDep, form: FormDep
) -> HTMLResponse:
    """Issue a key through the service of `POST /v1/keys`; its secret is shown in this answer only."""
    typed = {name: first(form, name) for name in KEY_FIELDS}
    role = typed["role"]
    payload = {
        "name": " ".join(typed["name"].split()),
        "role": role,
        "state": typed["state"] or None if role == "state" else None,
        "provider_id": typed["provider_id"] or None if role == "provider" else None,
        "contact_email": typed["contact_email"] or None if role == "state" else None,
    }
    # What the service would refuse only after the model's own checks, found now so that one submit shows it all.
    found = (
        [FieldError("state", gettext("Choose the State the key is for."))]
        if role == "state" and not typed["state"]
        else []
    )
    data, errors = validate_all(ApiKeyCreate, payload, found, labels=LABELS)
    if data is None:
        return _keys_page(request, session, page, form=typed, errors=errors, status_code=422)
    try:
        row, secret = key_service.create_key(session, data=data, actor=admin)
    except UnprocessableEntity as exc:
        return _keys_page(request, session, page, form=typed, errors=from_problem(exc), status_code=422)
    return _keys_page(request, session, page, created=(row.name, secret), status_code=201)


@router.post("/admin/keys/{key_id}/revoke", response_class=RedirectResponse, status_code=303)
def revoke_key(request: Request, key_id: str, session: SessionDep, admin: AdminDep) -> RedirectResponse:
    """Revoke a key (the service of `DELETE /v1/keys/{id}`)."""
    key_service.revoke_key(session, key_id=key_id, actor=admin)
    return redirect(request, "/admin/keys?done=revoked")


@router.get("/admin/registrations", response_class=HTMLResponse)
def registrations_page(
    request: Request,
    session: SessionDep,
    admin: AdminDep,
    page: PageParamsDep,
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> HTMLResponse:
    """The organisations' requests for a provider key, newest first, the pending ones with Approve and Reject."""
    if done in DONE:
        request.state.web.notices.append(DONE[done])
    rows, total = registrations.list_registrations(session, principal=admin, page=page)
    return render(
        request,
        "admin/registrations.html",
        {"requests": rows, "pager": Pager(total=total, limit=page.limit, offset=page.offset)},
    )


@router.post("/admin/registrations/{registration_id}/{verb}", response_class=RedirectResponse, status_code=303)
def answer_registration(
    request: Request, registration_id: str, verb: str, session: SessionDep, admin: AdminDep, form: FormDep
) -> RedirectResponse:
    """Approve or reject a request; one answered already is not answered again."""
    outcomes = {"approve": "approved", "reject": "rejected"}
    outcome = outcomes.get(verb)
    if outcome is None:
        raise NotFound(f"No page /admin/registrations/{registration_id}/{verb}.")
    message = first(form, "message")[:1000] or None
    try:
        registrations.answer(
            session,
            principal=admin,
            registration_id=registration_id,
            outcome="approved" if outcome == "approved" else "rejected",
            message=message,
        )
    except Conflict:
        return redirect(request, "/admin/registrations")
    return redirect(request, f"/admin/registrations?done={outcome}")
