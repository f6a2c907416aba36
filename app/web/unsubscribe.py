"""The unsubscribe link of every e-mail: a page with one button, and the one-click POST (RFC 8058).

The link carries the address and a token only the service can make for it
(`app.services.mail.unsubscribe_token`), so it needs no sign-in and no CSRF token: the
token is the proof. GET never changes anything (mail scanners open links); POST does.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from app.core.config import load_secret_key
from app.core.errors import NotFound
from app.http.deps import SessionDep
from app.services import mail
from app.web.templating import render

router = APIRouter(include_in_schema=False)

Address = Annotated[str, Query(max_length=254)]
Token = Annotated[str, Query(max_length=64)]


def _checked(request: Request, address: str, token: str) -> str:
    if not mail.check_token(load_secret_key(request.app.state.settings), address, token):
        raise NotFound("This unsubscribe link is not valid (it may be cut short); use the whole link from the e-mail.")
    return address


@router.get("/unsubscribe", response_class=HTMLResponse)
def unsubscribe_form(request: Request, session: SessionDep, address: Address = "", token: Token = "") -> HTMLResponse:
    """Ask before stopping e-mail to the address (a link opened by a scanner changes nothing)."""
    address = _checked(request, address, token)
    done = mail.is_unsubscribed(session, address)
    return render(request, "unsubscribe.html", {"address": address, "token": token, "done": done})


@router.post("/unsubscribe", response_class=HTMLResponse)
def unsubscribe(request: Request, session: SessionDep, address: Address = "", token: Token = "") -> HTMLResponse:
    """Stop e-mail to the address (the page's button, or a mail client's one-click unsubscribe)."""
    address = _checked(request, address, token)
    mail.unsubscribe(session, address=address)
    return render(request, "unsubscribe.html", {"address": address, "token": token, "done": True})
