"""Signed-in sessions live on the server: sign-out ends a copied cookie too, idleness ends a session."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import Session

from app.models.common import utcnow
from app.models.web_session import WebSession
from app.services import keys as key_service
from app.services.audit import COMMAND_LINE
from app.web.session import COOKIE_NAME
from tests.conftest import run_cli
from tests.factories import make_key
from tests.web.conftest import csrf_from, sign_in

T = WebSession.__table__  # type: ignore[attr-defined]


def _signed_in(client: TestClient, cookie: str | None = None) -> bool:
    headers = {"Cookie": f"{COOKIE_NAME}={cookie}"} if cookie else None
    return "Signed in as" in client.get("/", headers=headers).text


def _sessions(session: Session) -> int:
    session.rollback()
    return int(session.execute(select(func.count()).select_from(T)).scalar_one())


def _age_sessions(session: Session, by: timedelta) -> None:
    session.rollback()
    for row in session.exec(select(WebSession)).scalars():  # type: ignore[call-overload]
        row.last_seen_at -= by
        row.created_at -= by
        session.add(row)
    session.commit()


def test_signout_ends_a_copied_cookie_too(web: TestClient, other_web: TestClient, session: Session) -> None:
    _, key = make_key(session, role="state", state="FRA", name="France mission")
    sign_in(web, key)
    copied = web.cookies[COOKIE_NAME]
    assert _signed_in(other_web, copied), "the copy works while the session lives"
    assert web.post("/signout", data={"csrf_token": csrf_from(web.get("/").text)}).status_code == 303
    assert not _signed_in(other_web, copied)
    assert _sessions(session) == 0


def test_the_session_id_is_stored_only_as_a_digest(web: TestClient, session: Session) -> None:
    row, key = make_key(session, role="provider", name="Helper NGO")
    sign_in(web, key)
    session.rollback()
    stored = session.execute(select(T.c.id, T.c.key_id)).one()
    assert stored.key_id == row.id
    assert stored.id not in web.cookies[COOKIE_NAME]


def test_an_idle_session_ends(web: TestClient, session: Session) -> None:
    _, key = make_key(session, role="state", state="FRA", name="France mission")
    sign_in(web, key)
    _age_sessions(session, timedelta(minutes=61))  # the default idle timeout is 60 minutes
    page = web.get("/")
    assert "Signed in as" not in page.text
    assert "idle for more than 60 minutes" in page.text
    assert _sessions(session) == 0


def test_activity_keeps_a_session_alive(web: TestClient, session: Session) -> None:
    _, key = make_key(session, role="state", state="FRA", name="France mission")
    sign_in(web, key)
    for _ in range(3):
        _age_sessions(session, timedelta(minutes=40))  # 40 idle minutes, three times over: 2 hours in all
        assert _signed_in(web)
    session.rollback()
    last_seen = session.execute(select(T.c.last_seen_at)).scalar_one()
    assert utcnow() - last_seen < timedelta(minutes=1)


def test_revoking_the_key_ends_and_forgets_its_session(web: TestClient, session: Session) -> None:
    row, key = make_key(session, role="state", state="FRA", name="France mission")
    sign_in(web, key)
    session.rollback()
    key_service.revoke_key(session, key_id=row.id, actor=COMMAND_LINE)
    assert not _signed_in(web)
    assert _sessions(session) == 0


def test_purge_deletes_timed_out_sessions(web: TestClient, other_web: TestClient, session: Session) -> None:
    _, key = make_key(session, role="state", state="FRA", name="France mission")
    sign_in(web, key)
    _age_sessions(session, timedelta(hours=2))
    sign_in(other_web, key)
    url = session.get_bind().url.render_as_string(hide_password=False)
    result = run_cli(["purge"], database_url=url)
    assert result.exit_code == 0, result.output
    assert "web sessions: 1 expired deleted" in result.output
    assert _sessions(session) == 1 and _signed_in(other_web)
