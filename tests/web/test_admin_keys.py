"""Keys without curl: an administrator issues and revokes keys on the pages; an organisation asks for one."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.core.config import get_settings
from app.models.api_key import ApiKey
from app.models.events import InboxItem
from app.models.mail import EmailMessage
from app.models.registration import ProviderRegistration
from tests.factories import make_key
from tests.web.conftest import csrf_from, fresh, sign_in


@pytest.fixture
def contact(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("CONTACT_EMAIL", "admin@upr.example.org")
    get_settings.cache_clear()
    yield "admin@upr.example.org"
    get_settings.cache_clear()


def test_an_administrator_issues_a_provider_key_sees_it_once_and_revokes_it(web: TestClient, session: Session) -> None:
    _, admin = make_key(session, "admin", name="Site administrator")
    sign_in(web, admin)
    page = web.get("/admin/keys")
    assert page.status_code == 200 and "Issue a key" in page.text and 'href="/admin/keys"' in page.text
    # Every mistake at once: no name, a State key without its State.
    bad = web.post("/admin/keys", data={"csrf_token": csrf_from(page.text), "role": "state", "name": ""})
    assert bad.status_code == 422 and "The key was not issued" in bad.text
    issued = web.post(
        "/admin/keys", data={"csrf_token": csrf_from(page.text), "role": "provider", "name": "Justice Without Borders"}
    )
    assert issued.status_code == 201 and issued.headers["cache-control"] == "no-store"
    secret = re.search(r'id="new-key" type="text" readonly value="(upr_[^"]+)"', issued.text)
    assert secret is not None
    row = fresh(session).exec(select(ApiKey).where(ApiKey.name == "Justice Without Borders")).one()
    assert row.role == "provider" and row.provider_id is None and row.revoked_at is None
    listed = web.get("/admin/keys").text
    assert "Justice Without Borders" in listed and secret.group(1) not in listed  # shown once only
    # The key works: its holder signs in as a provider with no profile yet.
    with TestClient(web.app, base_url="https://testserver", follow_redirects=False) as holder:  # type: ignore[arg-type]
        sign_in(holder, secret.group(1))
        assert "Create your profile" in holder.get("/").text
    revoked = web.post(f"/admin/keys/{row.id}/revoke", data={"csrf_token": csrf_from(listed)})
    assert revoked.status_code == 303 and revoked.headers["location"] == "/admin/keys?done=revoked"
    assert "The key is revoked" in web.get(revoked.headers["location"]).text
    assert fresh(session).get(ApiKey, row.id).revoked_at is not None  # type: ignore[union-attr]


def test_only_administrators_see_the_key_pages(web: TestClient, session: Session) -> None:
    assert web.get("/admin/keys").status_code == 303  # to the sign-in page
    _, state = make_key(session, "state", state="FRA")
    sign_in(web, state)
    assert web.get("/admin/keys").status_code == 403
    assert web.get("/admin/registrations").status_code == 403
    page = web.get("/").text
    assert (
        web.post("/admin/keys", data={"csrf_token": csrf_from(page), "role": "admin", "name": "x"}).status_code == 403
    )
    assert 'href="/admin/keys"' not in page


def test_a_registration_reaches_the_administrator_and_approved_gives_the_key_once(
    web: TestClient, other_web: TestClient, session: Session, contact: str
) -> None:
    form = web.get("/register")
    assert form.status_code == 200 and contact in form.text  # the page says who the administrator is
    bad = web.post("/register", data={"csrf_token": csrf_from(form.text), "organisation": "", "kind": "x"})
    assert bad.status_code == 422
    for sentence in ("Give your organisation", "Choose the kind of organisation", "Give your name", "e-mail"):
        assert sentence in bad.text, sentence
    sent = web.post(
        "/register",
        data={
            "csrf_token": csrf_from(form.text),
            "organisation": "Prison Reform Helpers",
            "kind": "ngo",
            "contact_name": "Ana Ruiz",
            "contact_email": "ana@helpers.example.org",
            "website": "https://helpers.example.org",
            "message": "We train prison staff.",
        },
    )
    assert sent.status_code == 201, sent.text
    link = re.search(r'<a href="([^"]+/register/status\?token=[^"]+)">', sent.text)
    assert link is not None
    path = link.group(1).split("//", 1)[1].split("/", 1)[1]
    db = fresh(session)
    request = db.exec(select(ProviderRegistration)).one()
    assert request.status == "pending" and link.group(1).split("token=")[1] not in request.token_hash
    item = db.exec(select(InboxItem).where(InboxItem.party == "admin")).one()
    assert item.type == "registration.requested" and "Prison Reform Helpers" in item.title
    mails = {m.to_address: m for m in db.exec(select(EmailMessage)).all()}
    assert "Prison Reform Helpers" in mails[contact].subject and "ana@helpers.example.org" in mails
    assert web.get("/" + path).text.count("has not answered yet") == 1

    _, admin = make_key(session, "admin")
    sign_in(other_web, admin)
    listed = other_web.get("/admin/registrations").text
    assert "Prison Reform Helpers" in listed and "We train prison staff." in listed
    approved = other_web.post(f"/admin/registrations/{request.id}/approve", data={"csrf_token": csrf_from(listed)})
    assert approved.headers["location"] == "/admin/registrations?done=approved"

    status = web.get("/" + path)
    assert "Show my key" in status.text and "upr_" not in status.text  # a plain visit never spends the key
    shown = web.post("/register/status", data={"csrf_token": csrf_from(status.text), "token": path.split("token=")[1]})
    secret = re.search(r'value="(upr_[^"]+)"', shown.text)
    assert secret is not None and shown.headers["cache-control"] == "no-store"
    again = web.post("/register/status", data={"csrf_token": csrf_from(status.text), "token": path.split("token=")[1]})
    assert "upr_" not in again.text and "shown already" in again.text
    key = fresh(session).exec(select(ApiKey).where(ApiKey.name == "Prison Reform Helpers")).one()
    assert key.role == "provider" and key.provider_id is None
    assert fresh(session).get(ProviderRegistration, request.id).key_id == key.id  # type: ignore[union-attr]
    assert web.get("/register/status?token=" + "x" * 30).status_code == 404
