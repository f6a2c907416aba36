"""Recording, confirming and declining activities on the pages; the public list shows confirmed ones only."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.models.activity import Activity, ActivityRecommendation
from tests.factories import make_activity, make_key
from tests.web.conftest import csrf_from, fresh, sign_in
from tests.web.seed import Seed, seed


@pytest.fixture
def data(session: Session) -> Seed:
    return seed(session)


def record(web: TestClient, path: str = "/activities/new?state=FRA", **fields: object) -> object:
    """Open the form at `path` and send it with `fields` (the State the form was opened for, unless given)."""
    page = web.get(path)
    assert page.status_code == 200, page.text
    state = re.search(r'name="state" value="([A-Z]{3})"', page.text)
    fields = {"state": state.group(1) if state else "", "status": "ongoing", **fields}
    return web.post("/activities/new", data={"csrf_token": csrf_from(page.text), **fields})  # type: ignore[arg-type]


def activity_id(response: object) -> str:
    location = response.headers["location"]  # type: ignore[attr-defined]
    assert re.fullmatch(r"/activities/[0-9a-f-]{36}\?done=recorded", location), location
    return str(location.rsplit("/", 1)[1].split("?")[0])


def test_a_provider_records_an_activity_that_waits_for_the_state(
    web: TestClient, other_web: TestClient, data: Seed, session: Session
) -> None:
    sign_in(web, data.keys["ngo"][1])
    form = web.get("/activities/new?state=FRA")
    assert "<h1>Record an activity in France</h1>" in form.text
    assert 'name="provider_id" value="' + data.providers["ngo"].id + '"' in form.text  # its own, not a choice
    # Every recommendation to France is offered, noted ones too; Germany's are not.
    assert data.recs["noted"].id in form.text and data.recs["germany"].id not in form.text
    response = record(
        web,
        title="Training for prison inspectors",
        modality="training",
        status="completed",
        start_date="2025-03-03",
        end_date="2025-03-05",
        description="Three days in Lyon.",
        outcomes="25 inspectors trained.",
        recommendation_ids=[data.recs["prisons"].id, data.recs["noted"].id],
    )
    assert response.status_code == 303, response.text  # type: ignore[attr-defined]
    new_id = activity_id(response)
    row = fresh(session).get(Activity, new_id)
    assert row is not None and row.confirmation == "unconfirmed" and row.recorded_by_role == "provider"
    assert row.provider_id == data.providers["ngo"].id and row.state == "FRA"
    cited = session.exec(
        select(ActivityRecommendation.recommendation_id).where(ActivityRecommendation.activity_id == new_id)
    ).all()
    assert set(cited) == {data.recs["prisons"].id, data.recs["noted"].id}
    page = web.get(f"/activities/{new_id}").text
    assert "Waiting for confirmation" in page and "You recorded it: waiting for France to confirm" in page
    assert "Confirm this activity" not in page  # the recorder does not confirm its own claim
    mine = web.get("/activities").text
    assert "Recorded by you, waiting for the other party (1)" in mine
    assert "Waiting for France to confirm" in mine
    # The public does not see it, neither in the list nor by its address.
    assert "Training for prison inspectors" not in other_web.get("/activities").text
    assert other_web.get(f"/activities/{new_id}").status_code == 404


def test_the_state_confirms_from_its_home_page_and_the_activity_goes_public(
    web: TestClient, other_web: TestClient, data: Seed, session: Session
) -> None:
    sign_in(web, data.keys["ngo"][1])
    new_id = activity_id(record(web, title="Workshop on inspections", modality="training", status="ongoing"))
    sign_in(other_web, data.keys["fra"][1])
    home = other_web.get("/").text
    assert "Activities waiting for your confirmation (1)" in home
    assert "Recorded by Prison Reform Helpers" in home
    response = other_web.post(
        f"/activities/{new_id}/confirm", data={"csrf_token": csrf_from(home), "version": "1", "next": "/"}
    )
    assert response.status_code == 303 and response.headers["location"] == "/"
    assert fresh(session).get(Activity, new_id).confirmation == "confirmed"  # type: ignore[union-attr]
    assert "waiting for your confirmation" not in other_web.get("/").text
    with TestClient(web.app, base_url="https://testserver") as public:  # type: ignore[arg-type]
        listed = public.get("/activities").text
        assert "Workshop on inspections" in listed
        page = public.get(f"/activities/{new_id}").text
        assert "Recorded by Prison Reform Helpers and confirmed by France" in page


def test_a_stale_confirmation_is_not_applied(web: TestClient, other_web: TestClient, data: Seed) -> None:
    sign_in(web, data.keys["ngo"][1])
    new_id = activity_id(record(web, title="Workshop on inspections", modality="training"))
    sign_in(other_web, data.keys["fra"][1])
    token = csrf_from(other_web.get("/").text)
    response = other_web.post(f"/activities/{new_id}/confirm", data={"csrf_token": token, "version": "7"})
    assert response.status_code == 409
    assert "Someone changed this activity after you opened the page" in response.text
    assert "Confirm this activity" in response.text  # still answerable, from the page as it is now
    # Confirming twice (a double click) says so, without an error page.
    answer = {"csrf_token": token, "version": "1"}
    assert other_web.post(f"/activities/{new_id}/confirm", data=answer).status_code == 303
    again = other_web.post(f"/activities/{new_id}/confirm", data=answer)
    assert again.status_code == 409 and "This activity is already confirmed." in again.text


def test_the_other_party_declines_with_a_reason(
    web: TestClient, other_web: TestClient, data: Seed, session: Session
) -> None:
    un_key = make_key(session, role="provider", provider_id=data.providers["un"].id)[1]
    sign_in(web, data.keys["fra"][1])
    form = web.get("/activities/new").text
    assert "Which State" not in form  # a State records for itself
    assert f'<option value="{data.providers["un"].id}">UN Women Liaison</option>' in form
    new_id = activity_id(
        record(web, "/activities/new", title="Law review", modality="legal_review", provider_id=data.providers["un"].id)
    )
    sign_in(other_web, un_key)
    page = other_web.get(f"/activities/{new_id}").text
    assert "Recorded by France. Did it take place as recorded?" in page
    token = csrf_from(page)
    blank = other_web.post(f"/activities/{new_id}/decline", data={"csrf_token": token, "version": "1", "reason": " "})
    assert blank.status_code == 422
    assert 'href="#f-reason"' in blank.text and 'aria-invalid="true"' in blank.text
    response = other_web.post(
        f"/activities/{new_id}/decline",
        data={"csrf_token": token, "version": "1", "reason": "We only advised on one article, by e-mail."},
    )
    assert response.status_code == 303
    row = fresh(session).get(Activity, new_id)
    assert row is not None and row.confirmation == "declined"
    listed = web.get("/activities").text
    assert "Declined (1)" in listed and "We only advised on one article, by e-mail." in listed


def test_form_mistakes_are_sentences_on_their_fields(web: TestClient, data: Seed, session: Session) -> None:
    sign_in(web, data.keys["fra"][1])
    before = len(fresh(session).exec(select(Activity)).all())
    response = record(web, "/activities/new", title="ab", start_date="2025-05-10", end_date="2025-05-01")
    assert response.status_code == 422  # type: ignore[attr-defined]
    text = response.text  # type: ignore[attr-defined]
    assert '<a href="#f-provider_id">Choose the organisation that carries out the activity.</a>' in text
    assert "Give the activity a title of at least 3 characters." in text  # every mistake at once
    response = record(
        web,
        "/activities/new",
        title="ab",
        provider_id=data.providers["un"].id,
        start_date="10/05/2025",
    )
    text = response.text  # type: ignore[attr-defined]
    assert "Write the start date as year-month-day, for example 2025-03-31." in text
    response = record(web, "/activities/new", title="ab", provider_id=data.providers["un"].id)
    text = response.text  # type: ignore[attr-defined]
    assert "Give the activity a title of at least 3 characters." in text
    assert "Choose the kind of help from the list." in text
    response = record(
        web,
        "/activities/new",
        title="Law review",
        modality="legal_review",
        provider_id=data.providers["un"].id,
        start_date="2025-05-10",
        end_date="2025-05-01",
    )
    text = response.text  # type: ignore[attr-defined]
    assert '<a href="#f-end_date">The end date is before the start date: correct one of them.</a>' in text
    assert 'value="Law review"' in text  # what was typed stays
    assert len(fresh(session).exec(select(Activity)).all()) == before


def test_ticks_survive_browsing_themes_and_pages(web: TestClient, data: Seed) -> None:
    sign_in(web, data.keys["ngo"][1])
    page = web.get("/activities/new?state=FRA").text
    browse = web.post(
        "/activities/new",
        data={
            "csrf_token": csrf_from(page),
            "state": "FRA",
            "theme": "Death penalty",
            "action": "browse",
            "recommendation_ids": [data.recs["women"].id],
            "title": "Kept",
        },
    )
    assert browse.status_code == 200
    assert re.search(rf'name="recommendation_ids" value="{data.recs["women"].id}" checked', browse.text)
    assert data.recs["noted"].id in browse.text and 'value="Kept"' in browse.text


def test_who_may_record(web: TestClient, data: Seed, session: Session) -> None:
    assert web.get("/activities/new").status_code == 303  # sign in first
    sign_in(web, make_key(session, role="provider", name="No profile yet")[1])
    refused = web.get("/activities/new")
    assert refused.status_code == 403 and "Create your organisation’s profile first" in refused.text
    sign_in(web, data.keys["deu"][1])
    other = web.get("/activities/new?state=FRA")
    assert other.status_code == 403 and "you may not record activities of France" in other.text


def test_an_activity_for_a_need_starts_with_its_recommendations(web: TestClient, data: Seed) -> None:
    sign_in(web, data.keys["ngo"][1])
    need = data.needs["fra"]
    page = web.get(f"/activities/new?need={need.id}").text
    assert re.search(rf'<option value="{need.id}" selected>', page)
    assert re.search(rf'name="recommendation_ids" value="{data.recs["opcat"].id}" checked', page)


def test_the_public_list_is_unchanged_for_visitors(web: TestClient, data: Seed, session: Session) -> None:
    make_activity(session, data.providers["un"], title="Planned mission", status="planned")
    page = web.get("/activities").text
    assert "Workshop for prison directors" in page and "Planned mission" not in page
    assert "1 confirmed activity" in page and "waiting" not in page.lower()


def test_a_state_starts_from_a_providers_page_and_sees_what_waits(web: TestClient, data: Seed) -> None:
    sign_in(web, data.keys["fra"][1])
    un = data.providers["un"]
    profile = web.get(f"/providers/{un.id}").text
    assert f'<a href="/activities/new?provider={un.id}">Record an activity with UN Women Liaison</a>' in profile
    form = web.get(f"/activities/new?provider={un.id}").text
    assert f'<option value="{un.id}" selected>UN Women Liaison</option>' in form
    new_id = activity_id(
        record(web, f"/activities/new?provider={un.id}", title="Law review", modality="legal_review", provider_id=un.id)
    )
    profile = web.get(f"/providers/{un.id}").text
    assert f'href="/activities/{new_id}"' in profile and "Waiting for UN Women Liaison to confirm" in profile


def test_the_other_party_answers_a_proposed_change_or_deletion_on_the_activity_page(
    web: TestClient, data: Seed, session: Session
) -> None:
    """The inbox says a proposal waits: the activity page shows it, with Accept and Reject (the proposer: Withdraw)."""
    from app.core.identity import Principal
    from app.models.activity import ActivityUpdate
    from app.services import activity_proposals as proposals

    row = make_activity(session, data.providers["ngo"], title="Workshop in Lyon")
    fra = Principal(role="state", state="FRA", key_id=data.keys["fra"][0].id)
    change = ActivityUpdate(outcomes="Forty judges trained.")
    proposals.edit_activity(session, principal=fra, activity_id=row.id, data=change, expected=frozenset({1}))
    stranger_page = web.get(f"/activities/{row.id}").text
    assert "Change proposed" not in stranger_page and "Forty judges" not in stranger_page
    sign_in(web, data.keys["ngo"][1])
    page = web.get(f"/activities/{row.id}").text
    assert "Change proposed" in page and "Forty judges trained." in page and "Accept the change" in page
    assert "Not reported yet." in page  # the confirmed version is still what the page shows
    accept = re.search(r'action="(/activities/[^"]+/accept)"', page)
    assert accept is not None
    done = web.post(accept.group(1), data={"csrf_token": csrf_from(page), "version": "1"})
    assert done.status_code == 303 and done.headers["location"] == f"/activities/{row.id}?done=accepted"
    page = web.get(f"/activities/{row.id}").text
    assert "Change proposed" not in page and "Forty judges trained." in page
    assert "Version 2: outcomes changed by France on" in page and "accepted by Prison Reform Helpers" in page
    # A deletion the provider rejects: the activity stays.
    proposals.delete_activity(fresh(session), principal=fra, activity_id=row.id, expected=frozenset({2}))
    page = web.get(f"/activities/{row.id}").text
    assert "Deletion proposed" in page and "Agree to delete it" in page
    rejected = web.post(
        f"/activities/{row.id}/proposals/{_pending_id(session, row.id)}/reject",
        data={"csrf_token": csrf_from(page), "version": "1", "message": "It took place."},
    )
    assert rejected.status_code == 303
    assert fresh(session).get(Activity, row.id) is not None
    assert "Deletion proposed" not in web.get(f"/activities/{row.id}").text


def _pending_id(session: Session, activity_id: str) -> str:
    from app.models.activity_history import ActivityProposal

    found = fresh(session).exec(select(ActivityProposal.id).where(ActivityProposal.open_key == activity_id)).one()
    return str(found)
