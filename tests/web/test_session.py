"""Sign-in, sessions, CSRF, HTML error pages and page headers."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.core.config import Settings, load_secret_key
from app.services import keys as key_service
from app.services.audit import COMMAND_LINE
from app.web.session import COOKIE_NAME, SESSION_MAX_AGE, SessionToken, Signer
from tests.factories import make_key
from tests.web.conftest import csrf_from, sign_in


def _set_cookie_header(response) -> str:  # type: ignore[no-untyped-def]
    headers = [v for k, v in response.headers.multi_items() if k.lower() == "set-cookie"]
    assert len(headers) == 1, headers
    return headers[0]


# --- sign-in ---------------------------------------------------------------------------


def test_signin_page_renders_with_labelled_key_field(web: TestClient) -> None:
    response = web.get("/signin")
    assert response.status_code == 200
    assert "<h1>Sign in</h1>" in response.text
    assert '<label for="api_key">' in response.text and 'id="api_key"' in response.text


def test_signin_warns_when_served_over_plain_http(app: FastAPI) -> None:
    with TestClient(app, base_url="http://upr.example") as plain:
        assert "served over plain HTTP" in plain.get("/signin").text
    with TestClient(app, base_url="http://127.0.0.1:8000") as local:
        assert "served over plain HTTP" not in local.get("/signin").text


def test_signin_with_bad_key_shows_an_error(web: TestClient, session: Session) -> None:
    token = csrf_from(web.get("/signin").text)
    response = web.post("/signin", data={"api_key": "upr_deadbeef_nope", "csrf_token": token})
    assert response.status_code == 400
    assert 'role="alert"' in response.text and "This API key is not recognised" in response.text
    assert "upr_&lt;prefix&gt;" not in response.text and "`" not in response.text.split("Sign-in failed")[1][:400]
    assert "Signed in as" not in response.text


def test_signin_with_malformed_and_empty_key_shows_an_error(web: TestClient) -> None:
    token = csrf_from(web.get("/signin").text)
    for key, message in (
        ("hello", "This does not look like a whole API key. A key starts with upr_"),
        ("", "Paste your API key in the box"),
    ):
        response = web.post("/signin", data={"api_key": key, "csrf_token": token})
        assert response.status_code == 400 and message in response.text


def test_signin_sets_a_secure_cookie_naming_the_key_id_not_the_key(web: TestClient, session: Session) -> None:
    row, key = make_key(session, role="state", state="FRA", name="France mission")
    token = csrf_from(web.get("/signin").text)
    response = web.post("/signin", data={"api_key": key, "csrf_token": token, "next": "/providers"})
    assert response.status_code == 303 and response.headers["location"] == "/providers"
    cookie = _set_cookie_header(response)
    lowered = cookie.lower()
    for attribute in ("secure", "httponly", "samesite=lax", "path=/", f"max-age={SESSION_MAX_AGE}"):
        assert attribute in lowered, cookie
    value = cookie.split(";")[0].split("=", 1)[1]
    assert key not in value and key.split("_", 2)[2] not in value  # the whole secret (it may contain "_")
    assert web.app.state.signer.loads(value).kid == row.id  # type: ignore[attr-defined]
    page = web.get("/")
    assert "Signed in as <strong>France mission</strong> (France)" in page.text
    assert page.headers["cache-control"] == "private, no-store"


def test_signin_rotates_the_session_id(web: TestClient, session: Session) -> None:
    _, key = make_key(session, role="state", state="FRA")
    web.get("/signin")
    before = web.app.state.signer.loads(web.cookies[COOKIE_NAME])  # type: ignore[attr-defined]
    sign_in(web, key)
    after = web.app.state.signer.loads(web.cookies[COOKIE_NAME])  # type: ignore[attr-defined]
    assert before.sid != after.sid and before.kid is None


def test_signin_ignores_an_offsite_next(web: TestClient, session: Session) -> None:
    _, key = make_key(session, role="state", state="FRA")
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        token = csrf_from(web.get("/signin").text)  # each sign-in starts a new session, with a new token
        response = web.post("/signin", data={"api_key": key, "csrf_token": token, "next": target})
        assert response.headers["location"] == "/"


def test_revoked_key_signs_the_session_out(web: TestClient, session: Session) -> None:
    row, key = make_key(session, role="state", state="FRA", name="France mission")
    sign_in(web, key)
    assert "Signed in as" in web.get("/").text
    session.rollback()  # a fresh snapshot: sign-in wrote since this session last read
    key_service.revoke_key(session, key_id=row.id, actor=COMMAND_LINE)
    page = web.get("/")
    assert "Signed in as" not in page.text
    assert "revoked" in page.text
    assert COOKIE_NAME in _set_cookie_header(page) and "max-age=0" in _set_cookie_header(page).lower()


def test_signout_ends_the_session(web: TestClient, session: Session) -> None:
    _, key = make_key(session, role="provider", name="Helper NGO")
    sign_in(web, key)
    token = csrf_from(web.get("/").text)
    response = web.post("/signout", data={"csrf_token": token})
    assert response.status_code == 303
    assert "max-age=0" in _set_cookie_header(response).lower()
    assert "Signed in as" not in web.get("/").text


def test_a_forged_or_tampered_cookie_is_anonymous(web: TestClient, session: Session) -> None:
    row, key = make_key(session, role="admin")
    other = Signer(b"another secret entirely, 32+ chars long").dumps(SessionToken("s", row.id, 10**10))
    web.cookies.set(COOKIE_NAME, other)
    assert "Signed in as" not in web.get("/").text
    web.cookies.clear()
    sign_in(web, key)
    good = web.cookies[COOKIE_NAME]
    web.cookies.clear()
    web.cookies.set(COOKIE_NAME, good[:-2] + ("AA" if not good.endswith("AA") else "BB"))
    assert "Signed in as" not in web.get("/").text


def test_session_tokens_expire() -> None:
    now = [1_000_000.0]
    signer = Signer(b"k" * 40, clock=lambda: now[0])
    raw = signer.dumps(signer.new_token(kid="abc"))
    assert signer.loads(raw) is not None
    now[0] += SESSION_MAX_AGE + 1
    assert signer.loads(raw) is None


# --- CSRF ------------------------------------------------------------------------------


def _page_post_routes(app: FastAPI) -> list[str]:
    return sorted(
        {
            context.path_format
            for context in iter_route_contexts(app.routes)
            if isinstance(context.original_route, APIRoute)
            and not context.original_route.include_in_schema
            and "POST" in (context.methods or ())
        }
    )


# Page POSTs that carry their own proof instead of a session's CSRF token.
CSRF_EXEMPT = {
    # The e-mails' unsubscribe link: a mail client posts it without any session (RFC 8058 one-click); the
    # link's token, made for that address with the server's secret, is the proof (tests/loop).
    "/unsubscribe",
}


def test_every_form_post_without_a_csrf_token_is_403(web: TestClient, session: Session) -> None:
    _, key = make_key(session, role="admin")
    sign_in(web, key)
    paths = [p for p in _page_post_routes(web.app) if p not in CSRF_EXEMPT]  # type: ignore[arg-type]
    assert {"/signin", "/signout", "/needs/new", "/providers/{provider_id}/edit"} <= set(paths)
    for path in paths:
        concrete = path.replace("{provider_id}", "some-id").replace("{need_id}", "some-id")
        response = web.post(concrete, data={"title": "x"})
        assert response.status_code == 403, (path, response.status_code)
        assert response.headers["content-type"].startswith("text/html")
        assert "not sent from a page of this site" in response.text


def test_the_exempt_posts_refuse_a_request_without_their_own_proof(web: TestClient) -> None:
    for path in CSRF_EXEMPT:
        response = web.post(path + "?address=someone%40example.org&token=forged", data={"title": "x"})
        assert response.status_code == 404 and "not valid" in response.text, path


def test_a_csrf_token_from_another_session_is_403(web: TestClient, other_web: TestClient, session: Session) -> None:
    _, key = make_key(session, role="state", state="FRA")
    sign_in(web, key)
    stolen = csrf_from(other_web.get("/signin").text)
    assert web.post("/signout", data={"csrf_token": stolen}).status_code == 403
    assert "Signed in as" in web.get("/").text


def test_a_post_without_any_session_is_403(web: TestClient) -> None:
    assert web.post("/signin", data={"api_key": "x", "csrf_token": "abc"}).status_code == 403


def test_a_form_with_a_nul_character_is_refused(web: TestClient) -> None:
    token = csrf_from(web.get("/signin").text)
    response = web.post("/signin", data={"api_key": "upr_x\x00", "csrf_token": token})
    assert response.status_code == 422 and "NUL" in response.text
    assert response.headers["content-type"].startswith("text/html")


def test_a_json_post_is_not_a_form_and_is_403(web: TestClient) -> None:
    token = csrf_from(web.get("/signin").text)
    assert web.post("/signin", json={"api_key": "x", "csrf_token": token}).status_code == 403


# --- errors and headers ----------------------------------------------------------------


def test_unknown_page_is_an_html_404(web: TestClient) -> None:
    response = web.get("/no-such-page")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "<h1>Not Found</h1>" in response.text


def test_api_errors_stay_problem_json(web: TestClient) -> None:
    for path in ("/v1/no-such-thing", "/health/nope"):
        response = web.get(path)
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
    assert web.get("/v1/keys").headers["content-type"] == "application/problem+json"  # 401 stays a problem


def test_pages_send_security_headers(web: TestClient) -> None:
    response = web.get("/")
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert '<meta name="viewport"' in response.text and '<html lang="en" dir="ltr">' in response.text


def test_static_stylesheet_is_served(web: TestClient) -> None:
    response = web.get("/static/site.css")
    assert response.status_code == 200 and ":focus-visible" in response.text


def test_page_markup_escapes_user_input(web: TestClient) -> None:
    response = web.get("/signin", params={"next": '/x"><script>alert(1)</script>'})
    assert "<script>" not in response.text
    assert "&lt;script&gt;" in response.text or "&#34;&gt;" in response.text


# --- the secret key --------------------------------------------------------------------


def test_secret_key_is_generated_once_with_mode_0600(tmp_path: Path) -> None:
    settings = Settings(ENVIRONMENT="development", SECRET_KEY_FILE=tmp_path / "var" / "secret_key", _env_file=None)  # type: ignore[call-arg]
    first = load_secret_key(settings)
    assert len(first) >= 32
    mode = stat.S_IMODE(os.stat(tmp_path / "var" / "secret_key").st_mode)
    assert mode == 0o600
    assert load_secret_key(settings) == first
    assert [p.name for p in (tmp_path / "var").iterdir()] == ["secret_key"]


def test_configured_secret_key_wins(tmp_path: Path) -> None:
    settings = Settings(SECRET_KEY="x" * 40, SECRET_KEY_FILE=tmp_path / "k", _env_file=None)  # type: ignore[call-arg]
    assert load_secret_key(settings) == b"x" * 40
    assert not (tmp_path / "k").exists()


@pytest.mark.parametrize("secret", [None, "short"])
def test_production_refuses_to_start_without_a_strong_secret(secret: str | None) -> None:
    with pytest.raises(ValueError, match="SECRET_KEY"):
        Settings(ENVIRONMENT="production", SECRET_KEY=secret, _env_file=None)  # type: ignore[call-arg]


def test_production_accepts_a_strong_secret() -> None:
    sealing = ["A" * 43 + "="]  # a well-formed Fernet key: production also needs WEBHOOK_SECRET_KEYS
    settings = Settings(ENVIRONMENT="production", SECRET_KEY="s" * 48, WEBHOOK_SECRET_KEYS=sealing, _env_file=None)  # type: ignore[call-arg]
    assert load_secret_key(settings) == b"s" * 48


def test_an_unexpected_error_on_a_page_is_an_html_500_without_details(
    web: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.web import routes

    def boom(*_: object, **__: object) -> None:
        raise RuntimeError("secret internals /etc/passwd")

    monkeypatch.setattr(routes, "render", boom)
    response = web.get("/")
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/html")
    assert "secret internals" not in response.text and "Traceback" not in response.text
    assert "<h1>Internal server error</h1>" in response.text
