""" "Register your organisation": a provider asks for a key on the pages, without writing to anyone.

The request reaches the administrators (their inbox, and an e-mail to `CONTACT_EMAIL`); the
requester keeps a private link (`/register/status?token=`). Once the request is approved, the
button on that page makes the key and shows it that one time: a plain visit of the link (an
e-mail scanner's, say) never spends it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from app.core.config import get_settings
from app.http.deps import SessionDep
from app.models.registration import ProviderRegistration, RegistrationCreate
from app.reference.vocab import PROVIDER_KINDS
from app.services import registrations
from app.web.forms import first, from_validation
from app.web.i18n import N_
from app.web.session import FormDep
from app.web.templating import render

router = APIRouter(include_in_schema=False)

FIELDS = ("organisation", "kind", "contact_name", "contact_email", "website", "message")
LABELS = {
    "organisation": N_("Your organisation"),
    "kind": N_("Kind of organisation"),
    "contact_name": N_("Your name"),
    "contact_email": N_("Your e-mail"),
    "website": N_("Website"),
    "message": N_("What you offer"),
}
MESSAGES = {
    ("organisation", "string_too_short"): N_("Give your organisation's name."),
    ("kind", "literal_error"): N_("Choose the kind of organisation from the list."),
    ("contact_name", "string_too_short"): N_("Give your name."),
    ("contact_email", "value_error"): N_("Give an e-mail address, for example name@example.org."),
    ("website", "value_error"): N_("Give the website as an https:// address, or leave it empty."),
}
Token = Annotated[str, Query(min_length=20, max_length=100)]


def _form(request: Request, values: dict[str, str], errors: list[object], status_code: int = 200) -> HTMLResponse:
    return render(
        request,
        "register/form.html",
        {"values": values, "errors": errors, "kinds": PROVIDER_KINDS},
        status_code=status_code,
    )


@router.get("/register", response_class=HTMLResponse)
def register_form(request: Request) -> HTMLResponse:
    """The request form: who the organisation is and who asks."""
    return _form(request, {name: "" for name in FIELDS}, [])


@router.post("/register", response_class=HTMLResponse)
def register(request: Request, session: SessionDep, form: FormDep) -> HTMLResponse:
    """Send the request (every mistake at once); the answer holds the private link to come back with."""
    values = {name: first(form, name) if name != "message" else str(form.get(name) or "").strip() for name in FIELDS}
    payload = {**values, "website": values["website"] or None, "organisation": " ".join(values["organisation"].split())}
    try:
        data = RegistrationCreate.model_validate(payload)
    except ValidationError as exc:
        return _form(request, values, list(from_validation(exc, labels=LABELS, messages=MESSAGES)), 422)
    status_url = get_settings().PUBLIC_URL.rstrip("/") + "/register/status?token="
    row, token = registrations.request_registration(
        session, data=data, admin_address=get_settings().CONTACT_EMAIL, status_url=status_url
    )
    response = render(request, "register/sent.html", {"r": row, "link": status_url + token}, status_code=201)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/register/status", response_class=HTMLResponse)
def registration_status(request: Request, session: SessionDep, token: Token) -> HTMLResponse:
    """Where the request stands; once approved, the button that shows the key (once)."""
    row = registrations.find(session, token)
    return _status(request, row, token, secret=None)


@router.post("/register/status", response_class=HTMLResponse)
def claim_key(request: Request, session: SessionDep, form: FormDep) -> HTMLResponse:
    """Make the approved request's key and show its secret, the first time only."""
    token = first(form, "token")
    row, secret = registrations.claim_key(session, token=token)
    return _status(request, row, token, secret=secret)


def _status(request: Request, row: ProviderRegistration, token: str, *, secret: str | None) -> HTMLResponse:
    response = render(request, "register/status.html", {"r": row, "token": token, "secret": secret})
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # the link is the requester's only proof
    return response
