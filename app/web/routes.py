"""The pages: thin handlers that call the services the API uses and render a template.

Every route here is on `router`, whose dependencies read the session cookie
(`get_web_context`) and refuse any unsafe request without this session's CSRF
token (`csrf_protect`), so no form can forget either.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from app.auth import authenticate
from app.deps import SessionDep
from app.errors import Unauthorized
from app.services import web_sessions
from app.web import pages
from app.web.session import FormDep, WebDep, csrf_protect, get_web_context
from app.web.templating import redirect, render, safe_next

router = APIRouter(include_in_schema=False, dependencies=[Depends(get_web_context), Depends(csrf_protect)])

NextParam = Annotated[str | None, Query(max_length=2000)]


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    """The front page: what the repository holds and where to start."""
    return render(request, "home.html")


@router.get("/signin", response_class=HTMLResponse)
def signin_form(request: Request, web: WebDep, next: NextParam = None) -> HTMLResponse:
    """The sign-in form: paste an API key."""
    return render(request, "signin.html", {"next": safe_next(next, ""), "error": None, "insecure": _insecure(request)})


@router.post("/signin", response_model=None)
def signin(request: Request, session: SessionDep, web: WebDep, form: FormDep) -> HTMLResponse | RedirectResponse:
    """Check the pasted key; on success start a session that names the key's id (never the key)."""
    raw = str(form.get("api_key") or "").strip()
    next_url = safe_next(str(form.get("next") or ""), "/")
    try:
        principal = authenticate(session, raw)
    except Unauthorized as exc:
        message = "Paste your API key." if not raw else exc.detail
        context = {"next": next_url, "error": message, "insecure": _insecure(request)}
        return render(request, "signin.html", context, status_code=400)
    web.sign_in(principal)
    assert web.token is not None and principal.key_id is not None
    web_sessions.start(session, sid=web.token.sid, key_id=principal.key_id)
    return redirect(request, next_url)


def _insecure(request: Request) -> bool:
    """True when browsers will drop the `Secure` session cookie: plain HTTP to a non-loopback host."""
    return request.url.scheme == "http" and request.url.hostname not in {"localhost", "127.0.0.1", "::1"}


@router.post("/signout", response_model=None)
def signout(request: Request, session: SessionDep, web: WebDep) -> RedirectResponse:
    """End the session on the server (a copied cookie signs no one in) and remove the cookie."""
    if web.token is not None:
        web_sessions.end(session, sid=web.token.sid)
    web.sign_out()
    return redirect(request, "/")


# The repository's pages share this router's session and CSRF dependencies.
router.include_router(pages.router)
