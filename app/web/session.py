"""Web sessions and CSRF tokens: a signed cookie that names an API key's id, never the key.

The cookie `upr_session` holds `v1.<payload>.<mac>`: the payload is base64url JSON
`{"sid": <random session id>, "kid": <API key id or null>, "iat": <issued, epoch s>}`,
the mac its HMAC-SHA256 under a key derived from the server's `SECRET_KEY`. On every
request the key id is looked up again (`app.services.keys.principal_for_key_id`), so revoking the
key signs the browser out at its next request. Sign-in rotates the session id
(no session fixation); sign-out forgets it.

CSRF is a synchronizer token bound to the session: `HMAC(csrf key, sid)`, rendered
in each form's hidden `csrf_token` field and checked on every unsafe request. A
token minted for one session never validates with another session's cookie, and an
anonymous visitor gets a session (without a key) the first time a page carries a
form, so the sign-in form is protected too.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import Depends, Request, Response
from sqlmodel import Session
from starlette.datastructures import FormData, UploadFile

from app.core.errors import BadRequest, Forbidden, Unauthorized, UnprocessableEntity
from app.core.identity import ANONYMOUS, Principal
from app.http.credentials import SESSION_MAX_AGE_S
from app.http.sessions import get_session
from app.services import web_sessions
from app.services.keys import principal_for_key_id
from app.web.i18n import gettext

COOKIE_NAME = "upr_session"
CSRF_FIELD = "csrf_token"
SESSION_MAX_AGE = SESSION_MAX_AGE_S  # seconds; the cookie expires then, and so does the token inside it
MAX_FORM_FIELDS = 2_000
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True, slots=True)
class SessionToken:
    """What the cookie says: a session id, the signed-in key's id (if any), and when it was issued."""

    sid: str
    kid: str | None
    iat: int


class Signer:
    """Signs and verifies session tokens and derives CSRF tokens, with keys derived from one secret."""

    def __init__(self, secret: bytes, *, clock: Callable[[], float] = time.time) -> None:
        # Separate keys per purpose, so a session mac can never pass as a CSRF token or vice versa.
        self._session_key = hmac.new(secret, b"upr-match web session v1", hashlib.sha256).digest()
        self._csrf_key = hmac.new(secret, b"upr-match csrf v1", hashlib.sha256).digest()
        self._clock = clock

    def now(self) -> int:
        return int(self._clock())

    def dumps(self, token: SessionToken) -> str:
        payload = _b64(
            json.dumps({"sid": token.sid, "kid": token.kid, "iat": token.iat}, separators=(",", ":")).encode()
        )
        mac = _b64(hmac.new(self._session_key, payload.encode("ascii"), hashlib.sha256).digest())
        return f"v1.{payload}.{mac}"

    def loads(self, raw: str | None) -> SessionToken | None:
        """The token in a cookie value, or None if it is missing, forged, malformed or expired."""
        if not raw or len(raw) > 1024:
            return None
        parts = raw.split(".")
        if len(parts) != 3 or parts[0] != "v1":
            return None
        expected = _b64(hmac.new(self._session_key, parts[1].encode("ascii", "replace"), hashlib.sha256).digest())
        if not hmac.compare_digest(expected, parts[2]):
            return None
        try:
            data = json.loads(_unb64(parts[1]))
            sid, kid, iat = data["sid"], data["kid"], data["iat"]
        except (ValueError, KeyError, TypeError, binascii.Error):
            return None
        if not isinstance(sid, str) or not isinstance(iat, int) or not (kid is None or isinstance(kid, str)):
            return None
        if not 0 <= self.now() - iat <= SESSION_MAX_AGE:
            return None
        return SessionToken(sid=sid, kid=kid, iat=iat)

    def csrf_token(self, sid: str) -> str:
        return _b64(hmac.new(self._csrf_key, sid.encode("ascii"), hashlib.sha256).digest())

    def check_csrf(self, sid: str, presented: str | None) -> bool:
        return bool(presented) and hmac.compare_digest(self.csrf_token(sid), str(presented))

    def new_token(self, kid: str | None) -> SessionToken:
        return SessionToken(sid=secrets.token_urlsafe(24), kid=kid, iat=self.now())


@dataclass
class WebContext:
    """The visitor of one page request: who they are, their session, and what to tell the browser."""

    signer: Signer
    principal: Principal = ANONYMOUS
    token: SessionToken | None = None
    send_cookie: bool = False
    clear_cookie: bool = False
    notices: list[str] = field(default_factory=list)

    @property
    def signed_in(self) -> bool:
        return not self.principal.is_anonymous

    @property
    def csrf_token(self) -> str:
        """This session's CSRF token; starts an anonymous session if there is none yet."""
        if self.token is None:
            self.token = self.signer.new_token(kid=None)
            self.send_cookie = True
            self.clear_cookie = False
        return self.signer.csrf_token(self.token.sid)

    def check_csrf(self, presented: str | None) -> bool:
        return self.token is not None and self.signer.check_csrf(self.token.sid, presented)

    def sign_in(self, principal: Principal) -> None:
        """Start a fresh session (new id) for this key."""
        assert principal.key_id is not None
        self.principal = principal
        self.token = self.signer.new_token(kid=principal.key_id)
        self.send_cookie, self.clear_cookie = True, False

    def sign_out(self) -> None:
        self.principal = ANONYMOUS
        self.token = None
        self.send_cookie, self.clear_cookie = False, True

    def apply(self, response: Response) -> None:
        """Write the session cookie (or its removal) onto a response."""
        if self.send_cookie and self.token is not None:
            response.set_cookie(
                COOKIE_NAME,
                self.signer.dumps(self.token),
                max_age=SESSION_MAX_AGE,
                path="/",
                secure=True,
                httponly=True,
                samesite="lax",
            )
        elif self.clear_cookie:
            response.delete_cookie(COOKIE_NAME, path="/", secure=True, httponly=True, samesite="lax")
        if self.signed_in or self.token is not None:
            # Pages of a signed-in visitor (or carrying a CSRF token) are theirs alone.
            response.headers["Cache-Control"] = "private, no-store"


def get_signer(request: Request) -> Signer:
    signer: Signer = request.app.state.signer
    return signer


def get_web_context(
    request: Request,
    session: Annotated[Session, Depends(get_session)],
    signer: Annotated[Signer, Depends(get_signer)],
) -> WebContext:
    """Read the session cookie and re-check its key: revoked or deleted keys sign the visitor out."""
    raw = request.cookies.get(COOKIE_NAME)
    token = signer.loads(raw)
    web = WebContext(signer=signer, token=token, clear_cookie=raw is not None and token is None)
    if token is not None and token.kid is not None:
        settings = request.app.state.settings
        idle = timedelta(minutes=settings.WEB_SESSION_IDLE_MINUTES)
        max_age = timedelta(seconds=SESSION_MAX_AGE)
        try:
            if web_sessions.resume(session, sid=token.sid, key_id=token.kid, idle=idle, max_age=max_age):
                web.principal = principal_for_key_id(session, token.kid)
            else:
                web.sign_out()
                web.notices.append(
                    gettext(
                        "Your session ended: you signed out, or it was idle for more than %(minutes)s minutes. "
                        "Sign in again."
                    )
                    % {"minutes": settings.WEB_SESSION_IDLE_MINUTES}
                )
        except Unauthorized:
            web_sessions.end(session, sid=token.sid)
            web.sign_out()
            web.notices.append(gettext("Your session ended because its API key was revoked. Sign in again."))
    request.state.web = web
    return web


WebDep = Annotated[WebContext, Depends(get_web_context)]


async def form_data(request: Request) -> FormData:
    """The urlencoded body of a form POST (empty for other methods or content types).

    Parsed here rather than with python-multipart: the pages only send
    `application/x-www-form-urlencoded`, and this keeps the dependency list short.
    """
    if request.method in SAFE_METHODS:
        return FormData()
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        return FormData()
    body = await request.body()
    try:
        pairs: list[tuple[str, str | UploadFile]] = list(
            parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
        )
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadRequest("The form could not be read; reload the page and try again.") from exc
    if any("\x00" in key or (isinstance(value, str) and "\x00" in value) for key, value in pairs):
        # PostgreSQL text cannot hold U+0000 (the API refuses it too, in NulGuardMiddleware).
        raise UnprocessableEntity("Text may not contain NUL characters; remove them and send the form again.")
    return FormData(pairs)


FormDep = Annotated[FormData, Depends(form_data)]


class CsrfFailed(Forbidden):
    """A form arrived without this session's CSRF token."""

    title = "Form expired or not from this site"


def csrf_protect(request: Request, web: WebDep, form: FormDep) -> None:
    """Refuse (403) any unsafe request whose form lacks this session's CSRF token."""
    if request.method in SAFE_METHODS:
        return
    presented = form.get(CSRF_FIELD)
    if not web.check_csrf(presented if isinstance(presented, str) else None):
        raise CsrfFailed(
            "This form was not sent from a page of this site in your current session, so it was not accepted. "
            "Go back, reload the page and send it again."
        )


def require_signed_in(request: Request, web: WebDep) -> Principal:
    """The signed-in principal; anonymous visitors are sent to the sign-in page."""
    if not web.signed_in:
        raise SignInRequired("Sign in to use this page.")
    return web.principal


class SignInRequired(Unauthorized):
    """Rendered on pages as a redirect to /signin?next=<this page>."""


SignedInDep = Annotated[Principal, Depends(require_signed_in)]
