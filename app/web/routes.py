"""The pages: thin handlers that call the services the API uses and render a template.

Every route here is on `router`, whose dependencies read the session cookie
(`get_web_context`) and refuse any unsafe request without this session's CSRF
token (`csrf_protect`), so no form can forget either.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from app.core.config import get_settings
from app.core.errors import Unauthorized
from app.http.deps import SessionDep
from app.http.ratelimit import failed_sign_in
from app.services import access, directory, overview, web_sessions
from app.services.keys import authenticate
from app.web import (
    activity_pages,
    activity_report,
    admin_pages,
    gaps_pages,
    loop_pages,
    mapping_pages,
    need_pages,
    pages,
    practice_pages,
    provider_pages,
    registration_pages,
    search_pages,
)
from app.web.session import FormDep, WebDep, csrf_protect, get_web_context
from app.web.templating import redirect, remember_language, render, safe_next

router = APIRouter(include_in_schema=False, dependencies=[Depends(get_web_context), Depends(csrf_protect)])

NextParam = Annotated[str | None, Query(max_length=2000)]
HOME_WAITING = 5  # activities waiting for the visitor's confirmation listed on the front page


@router.get("/", response_class=HTMLResponse)
def home(request: Request, session: SessionDep, web: WebDep) -> HTMLResponse:
    """The front page: what a need is, how to get a key, what the data covers, and where to start."""
    coverage = directory.coverage(session, principal=web.principal)
    principal = web.principal
    waiting, waiting_total = activity_pages.waiting(session, principal, awaiting="caller", limit=HOME_WAITING)
    context = {
        "coverage": coverage,
        "contact": get_settings().CONTACT_EMAIL,
        "can_register": access.can_create_provider(principal) and principal.role == "provider",
        "waiting": waiting,
        "waiting_total": waiting_total,
        "waiting_providers": overview.get_providers_by_ids(session, ids=[a.provider_id for a in waiting]),
    }
    return render(request, "home.html", context)


@router.get("/language/{code}", response_class=RedirectResponse, status_code=303)
def choose_language(request: Request, code: str, next: NextParam = None) -> RedirectResponse:
    """The language switch: remember the choice in a cookie, then back to the page (`next`) in that language."""
    response = redirect(request, safe_next(next, "/"))
    remember_language(response, code, secure=request.url.scheme == "https")
    return response


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
        failed_sign_in(request.state, raw)  # the failed-authentication brake: 429 once it holds
        context = {"next": next_url, "error": signin_error(raw, exc.detail), "insecure": _insecure(request)}
        return render(request, "signin.html", context, status_code=400)
    web.sign_in(principal)
    assert web.token is not None
    web_sessions.start(session, sid=web.token.sid, actor=principal)
    return redirect(request, next_url)


def signin_error(raw: str, detail: str) -> str:
    """Why a pasted key was refused, in words for the person who pasted it."""
    if not raw:
        return "Paste your API key in the box, then press Sign in."
    if "revoked" in detail:
        return (
            "This API key has been withdrawn by the administrator, so it no longer signs in. "
            "Ask the administrator of this site for a new key."
        )
    if "malformed" in detail:
        return (
            "This does not look like a whole API key. A key starts with upr_ and is about 45 characters long: "
            "copy all of it, without spaces, from the message you received."
        )
    return (
        "This API key is not recognised. Check that you pasted the whole key, "
        "or ask the administrator of this site for a new one."
    )


def _insecure(request: Request) -> bool:
    """True when browsers will drop the `Secure` session cookie: plain HTTP to a non-loopback host."""
    return request.url.scheme == "http" and request.url.hostname not in {"localhost", "127.0.0.1", "::1"}


@router.post("/signout", response_model=None)
def signout(request: Request, session: SessionDep, web: WebDep) -> RedirectResponse:
    """End the session on the server (a copied cookie signs no one in) and remove the cookie."""
    if web.token is not None and web.signed_in:
        web_sessions.sign_out(session, sid=web.token.sid, actor=web.principal)
    elif web.token is not None:
        web_sessions.end(session, sid=web.token.sid)
    web.sign_out()
    return redirect(request, "/")


# The repository's pages share this router's session and CSRF dependencies.
router.include_router(search_pages.router)
router.include_router(pages.router)
router.include_router(need_pages.router)
router.include_router(provider_pages.router)
router.include_router(loop_pages.router)
router.include_router(activity_pages.router)
router.include_router(activity_report.router)
router.include_router(admin_pages.router)
router.include_router(registration_pages.router)
router.include_router(practice_pages.router)
router.include_router(gaps_pages.router)
router.include_router(mapping_pages.router)
