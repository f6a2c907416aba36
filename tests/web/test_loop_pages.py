"""The loop on the pages: "Ask this partner", "Offer help", the inbox with its answer forms (CSRF as elsewhere)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.core.config import Settings
from tests.loop.helpers import drain, seed_loop, worker
from tests.web.conftest import csrf_from, sign_in


def _form_fields(html: str, action: str) -> dict[str, str]:
    """The hidden fields of the first form posting to `action`."""
    form = re.search(rf'<form method="post" action="{re.escape(action)}"[^>]*>(.*?)</form>', html, re.S)
    assert form, f"no form posting to {action}"
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form.group(1)))


def test_a_state_asks_a_partner_the_partner_accepts_in_its_inbox(
    web: TestClient, other_web: TestClient, session: Session, settings: Settings, engine: Engine
) -> None:
    loop = seed_loop(session)
    sign_in(web, loop.keys["fra"])
    page = web.get(f"/needs/{loop.need.id}")
    assert page.status_code == 200 and "Ask this partner" in page.text
    action = f"/needs/{loop.need.id}/engagements"
    fields = {"provider_id": loop.x.id, "message": "Could you train our staff?", "csrf_token": csrf_from(page.text)}
    assert web.post(action, data={**fields, "csrf_token": "forged"}).status_code == 403
    sent = web.post(action, data=fields)
    assert sent.status_code == 303 and sent.headers["location"].endswith("#engagements")
    page = web.get(f"/needs/{loop.need.id}")
    assert "You asked this partner: Proposed." in page.text and "Could you train our staff?" in page.text
    assert '<p class="flash" role="status">Your request is sent.' in page.text  # said once, after sending
    with worker(settings, engine) as runner:
        drain(runner)

    sign_in(other_web, loop.keys["x"])
    inbox = other_web.get("/inbox")
    assert inbox.status_code == 200 and "France asks Prison Reform Helpers for help" in inbox.text
    assert "1 request to answer" in inbox.text
    eid = web.get("/v1/engagements", headers=loop.h("fra")).json()["items"][0]["id"]
    hidden = _form_fields(inbox.text, f"/engagements/{eid}/accept")
    answered = other_web.post(f"/engagements/{eid}/accept", data={**hidden, "message": "Gladly."})
    assert answered.status_code == 303 and answered.headers["location"] == "/inbox"
    assert "You accepted the request: the activity is recorded, confirmed by both." in other_web.get("/inbox").text
    # A second click on the stale form is refused in words, not applied twice.
    again = other_web.post(f"/engagements/{eid}/accept", data={**hidden, "message": "Gladly."})
    assert again.status_code == 409 and "meanwhile" in again.text
    engagement = web.get(f"/v1/engagements/{eid}", headers=loop.h("fra")).json()
    assert engagement["status"] == "accepted"
    activity = web.get(f"/v1/activities/{engagement['activity_id']}", headers=loop.h("x")).json()
    assert activity["confirmation"] == "confirmed"
    assert "The activity is recorded, confirmed by both." in web.get(f"/needs/{loop.need.id}").text
    with worker(settings, engine) as runner:
        drain(runner)
    inbox = web.get("/inbox").text
    assert "accepted the request about" in inbox and "engagement" not in inbox.replace("engagement-", "")


def test_a_provider_offers_help_and_confirms_an_activity_from_its_inbox(
    web: TestClient, session: Session, settings: Settings, engine: Engine
) -> None:
    loop = seed_loop(session)
    recorded = web.post(
        "/v1/activities",
        headers=loop.h("fra"),
        json={"provider_id": loop.y.id, "title": "Workshop in Lyon", "modality": "training", "status": "completed"},
    ).json()["id"]
    sign_in(web, loop.keys["y"])
    page = web.get(f"/needs/{loop.need.id}")
    assert "Offer help" in page.text and "Ask this partner" not in page.text
    sent = web.post(
        f"/needs/{loop.need.id}/engagements",
        data={"message": "We could help.", "csrf_token": csrf_from(page.text)},
    )
    assert sent.status_code == 303
    assert "Offer help" not in web.get(f"/needs/{loop.need.id}").text  # one open engagement per pair
    inbox = web.get("/inbox")
    assert "Workshop in Lyon" in inbox.text and "1 activity to confirm" in inbox.text
    hidden = _form_fields(inbox.text, f"/activities/{recorded}/answer")
    assert web.post(f"/activities/{recorded}/answer", data=hidden).status_code == 303
    assert web.get(f"/v1/activities/{recorded}").json()["confirmation"] == "confirmed"
    with worker(settings, engine) as runner:
        drain(runner)
    assert web.get("/v1/inbox", headers=loop.h("fra")).json()["unread_by_type"] == {
        "engagement.proposed": 1,
        "activity.confirmed": 1,
    }


def test_anonymous_visitors_see_no_loop_controls_and_the_inbox_needs_a_sign_in(
    web: TestClient, session: Session
) -> None:
    loop = seed_loop(session)
    page = web.get(f"/needs/{loop.need.id}").text
    assert "Ask this partner" not in page and "Offer help" not in page and "Inbox" not in page
    inbox = web.get("/inbox")
    assert inbox.status_code == 303 and inbox.headers["location"].startswith("/signin")
