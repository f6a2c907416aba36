"""An activity's life on the pages: a party marks it started, reports it completed, and the other accepts."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.models.activity import Activity
from tests.factories import make_activity
from tests.web.conftest import csrf_from, fresh, sign_in
from tests.web.seed import Seed, seed


@pytest.fixture
def data(session: Session) -> Seed:
    return seed(session)


def _post(web: TestClient, page: str, action: str, **fields: str) -> object:
    return web.post(action, data={"csrf_token": csrf_from(page), **fields})


def _accept(web: TestClient, activity_id: str) -> str:
    page = web.get(f"/activities/{activity_id}").text
    accept = re.search(r'action="(/activities/[^"]+/accept)"', page)
    assert accept is not None, "no proposal to accept"
    version = re.search(
        r'action="/activities/[^"]+/accept"[^>]*>\s*<input[^>]*>\s*<input type="hidden" name="version" value="(\d+)"',
        page,
    )
    done = _post(web, page, accept.group(1), version=version.group(1) if version else "1")
    assert done.status_code == 303  # type: ignore[attr-defined]
    assert done.headers["location"] == f"/activities/{activity_id}?done=accepted"  # type: ignore[attr-defined]
    return web.get(done.headers["location"]).text  # type: ignore[attr-defined]


def test_start_then_complete_each_accepted_by_the_other_party(
    web: TestClient, other_web: TestClient, data: Seed, session: Session
) -> None:
    row = make_activity(
        session, data.providers["ngo"], title="Training of prison staff", status="planned", description=""
    )
    sign_in(web, data.keys["ngo"][1])
    sign_in(other_web, data.keys["fra"][1])
    page = web.get(f"/activities/{row.id}").text
    assert "Mark as started" in page
    started = _post(web, page, f"/activities/{row.id}/start", version=str(row.version))
    assert started.headers["location"] == f"/activities/{row.id}?done=start-proposed"  # type: ignore[attr-defined]
    page = web.get(started.headers["location"]).text  # type: ignore[attr-defined]
    assert "You proposed to mark the activity as started" in page
    assert fresh(session).get(Activity, row.id).status == "planned"  # type: ignore[union-attr]
    page = _accept(other_web, row.id)
    assert "You accepted the proposal" in page
    assert fresh(session).get(Activity, row.id).status == "ongoing"  # type: ignore[union-attr]

    # Completing without saying what was achieved: every mistake at once, nothing sent.
    form = web.get(f"/activities/{row.id}/report").text
    version = str(fresh(session).get(Activity, row.id).version)  # type: ignore[union-attr]
    bad = _post(
        web,
        form,
        f"/activities/{row.id}/report",
        version=version,
        status="completed",
        documents="ftp://example.org/report",
        end_date="31/12/2026",
    )
    assert bad.status_code == 422  # type: ignore[attr-defined]
    for sentence in ("Say what was achieved", "https:// link", "year-month-day"):
        assert sentence in bad.text, sentence  # type: ignore[attr-defined]
    sent = _post(
        web,
        form,
        f"/activities/{row.id}/report",
        version=version,
        status="completed",
        description="Three sessions in Lyon and Marseille.",
        outcomes="60 prison officers trained.",
        challenges="Shift work kept a third of the staff away.",
        lessons="We would hold night sessions again.",
        documents="https://example.org/report.pdf",
        start_date="2026-01-10",
        end_date="2026-02-20",
    )
    assert sent.headers["location"] == f"/activities/{row.id}?done=report-proposed"  # type: ignore[attr-defined]
    assert fresh(session).get(Activity, row.id).outcomes is None  # type: ignore[union-attr]
    page = _accept(other_web, row.id)
    done = fresh(session).get(Activity, row.id)
    assert done is not None and done.status == "completed" and done.outcomes == "60 prison officers trained."
    assert done.lessons == "We would hold night sessions again." and done.documents == [
        "https://example.org/report.pdf"
    ]
    assert done.confirmation == "confirmed" and done.confirmed_by_role == "state"
    for shown in ("Shift work kept a third", "We would hold night sessions again.", "https://example.org/report.pdf"):
        assert shown in page


def test_strangers_may_not_report(web: TestClient, data: Seed, session: Session) -> None:
    row = make_activity(session, data.providers["ngo"], status="planned")
    assert web.get(f"/activities/{row.id}/report").status_code in (303, 401)  # signed out: to the sign-in page
    sign_in(web, data.keys["deu"][1])
    page = web.get(f"/activities/{row.id}").text
    assert "Mark as started" not in page
    assert web.get(f"/activities/{row.id}/report").status_code in (403, 404)
