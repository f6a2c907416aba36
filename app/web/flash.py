"""One-line confirmations after a form is sent ("Your need is saved."), shown once on the next page.

A successful POST answers 303 to the page that shows the result; `redirect(..., flash="need_saved")`
sets a short-lived cookie holding the message's key (never free text, so nothing a visitor sends is
echoed back), and the next page shown renders the message in a `role="status"` box and clears it.
"""

from __future__ import annotations

from typing import Literal

from starlette.requests import Request
from starlette.responses import Response

from app.core.i18n import N_

COOKIE = "upr_flash"
MAX_AGE_S = 120  # long enough for the redirect, short enough not to greet a later visit

Flash = Literal[
    "need_filed",
    "need_saved",
    "need_closed",
    "need_reopened",
    "themes_saved",
    "profile_created",
    "profile_saved",
    "request_sent",
    "request_accepted",
    "request_declined",
    "request_withdrawn",
    "activity_confirmed",
    "activity_declined",
]
MESSAGES: dict[str, str] = {
    "need_filed": N_("Your need is filed. The providers who could help are listed below."),
    "need_saved": N_("Your changes to the need are saved."),
    "need_closed": N_("The need is closed: it no longer appears to providers as open."),
    "need_reopened": N_("The need is open again."),
    "themes_saved": N_("The themes are saved."),
    "profile_created": N_("Your organisation’s profile is created. The needs you could serve are listed below."),
    "profile_saved": N_("Your profile is saved."),
    "request_sent": N_("Your request is sent. The other party finds it in their inbox; their answer comes here."),
    "request_accepted": N_("You accepted the request: the activity is recorded, confirmed by both."),
    "request_declined": N_("You declined the request; the other party is told why."),
    "request_withdrawn": N_("You withdrew the request."),
    "activity_confirmed": N_("You confirmed the activity: it is now public."),
    "activity_declined": N_("You declined the activity; the other party is told why."),
}


def set_flash(response: Response, key: Flash, *, secure: bool) -> None:
    """Show `key`'s message on the next page this visitor sees."""
    response.set_cookie(COOKIE, key, max_age=MAX_AGE_S, httponly=True, samesite="lax", secure=secure)


def flash_message(request: Request) -> str | None:
    """The message waiting for this page, in English (the page translates it), if any."""
    key = request.cookies.get(COOKIE)
    return MESSAGES.get(key) if key else None


def clear_flash(request: Request, response: Response) -> None:
    """Forget the message once a page has shown it."""
    if request.cookies.get(COOKIE) is not None:
        response.delete_cookie(COOKIE, httponly=True, samesite="lax", secure=request.url.scheme == "https")


__all__ = ["COOKIE", "MESSAGES", "Flash", "clear_flash", "flash_message", "set_flash"]
