"""The need form files what it says: ticks survive paging and theme changes, the title counts what is cited,
one draft per theme, a need started from a recommendation, languages and kinds of help by name; edit and close."""

from __future__ import annotations

import re
from collections import defaultdict

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.models.need import Need, NeedRecommendation
from app.models.recommendation import Recommendation
from tests.web.browserlike import form_fields, with_changes
from tests.web.conftest import csrf_from, sign_in
from tests.web.seed import Seed, rec, seed

WOMEN = "Women's rights"
JUSTICE = "Justice"


@pytest.fixture
def data(session: Session) -> Seed:
    s = seed(session)
    # 55 supported recommendations on women's rights (two pages of 50), 3 on justice.
    for i in range(55):
        s.recs[f"w{i:02d}"] = rec(session, text=f"Women's rights recommendation number {i:02d}.", themes=[WOMEN])
    for i in range(3):
        s.recs[f"j{i}"] = rec(session, text=f"Justice recommendation number {i}.", themes=[JUSTICE])
    return s


def post(web: TestClient, action: str, fields: list[tuple[str, str]]):  # type: ignore[no-untyped-def]
    grouped: dict[str, list[str]] = defaultdict(list)
    for k, v in fields:
        grouped[k].append(v)
    return web.post(action, data=grouped)


def checked(html: str) -> set[str]:
    return set(re.findall(r'name="recommendation_ids" value="([^"]+)" checked', html))


def title_of(html: str) -> str:
    found = re.search(r'id="f-title" name="title" type="text" maxlength="200" value="([^"]*)"', html)
    assert found, "no title field"
    return found.group(1).replace("&#39;", "'")


def cited(session: Session, need_id: str) -> set[str]:
    session.rollback()
    return set(
        session.exec(select(NeedRecommendation.recommendation_id).where(NeedRecommendation.need_id == need_id)).all()
    )


def test_one_draft_per_theme_arrives_unticked_and_select_all_or_clear_ticks_its_recommendations(
    web: TestClient, data: Seed
) -> None:
    sign_in(web, data.keys["fra"][1])
    page = web.get("/needs/new", params={"theme": WOMEN}).text
    # The drafting splits a theme of 56 into groups of at most 40; the form merges them into one draft.
    assert page.count("theme=Women%27s%20rights") == 1
    assert "Women&#39;s rights</a> (56)" in page
    # The draft's theme is listed, nothing ticked: the State ticks the ones it means.
    assert checked(page) == set() and "Women&#39;s rights recommendation number" in page
    # "Select all of the drafted need": all 56 are ticked, 50 on this page and 6 in "also chosen"; the title counts 56.
    page = post(web, "/needs/new", with_changes(form_fields(page, "/needs/new"), press=("action", "select_all"))).text
    assert len(checked(page)) == 56
    assert title_of(page) == "Women's rights: support to implement 56 supported recommendations"
    page = post(web, "/needs/new", with_changes(form_fields(page, "/needs/new"), press=("action", "clear"))).text
    assert checked(page) == set()


def test_the_description_lists_the_supported_recommendations_it_speaks_to_unticked(
    web: TestClient, data: Seed, session: Session
) -> None:
    sign_in(web, data.keys["fra"][1])
    page = web.get("/needs/new", params={"state": "FRA"}).text
    assert page.index('id="f-description"') < page.index('id="step-recommendations"')  # the description first
    fields = with_changes(form_fields(page, "/needs/new"), set_={"description": "Justice recommendation number 2"})
    page = post(web, "/needs/new", with_changes(fields, press=("action", "suggest"))).text
    listed = re.findall(r'id="sug-\d+" name="recommendation_ids" value="([^"]+)"', page)
    assert listed and listed[0] == data.recs["j2"].id  # best first
    assert checked(page) == set()  # unticked
    assert "shared words:" in page
    fields = with_changes(form_fields(page, "/needs/new"), tick=[data.recs["j2"].id])
    response = post(web, "/needs/new", with_changes(fields, press=("action", "save")))
    assert response.status_code == 303, response.text
    need_id = response.headers["location"].rsplit("/", 1)[1]
    assert cited(session, need_id) == {data.recs["j2"].id}


def test_ticks_survive_paging_and_theme_changes_and_the_need_cites_exactly_them(
    web: TestClient, data: Seed, session: Session
) -> None:
    sign_in(web, data.keys["fra"][1])
    start = data.recs["w03"]
    page = web.get("/needs/new", params={"cite": start.id}).text  # "file a need citing this"
    assert checked(page) == {start.id}
    assert title_of(page) == "Women's rights: support to implement 1 supported recommendation"
    # Page 2 of the women's rights theme: tick one there.
    fields = form_fields(page, "/needs/new")
    page = post(web, "/needs/new", with_changes(fields, press=("goto", "50"))).text
    assert "Page 2 of 2" in page and start.id in checked(page)  # kept, listed under "also chosen"
    on_page_two = data.recs["w52"]
    fields = with_changes(form_fields(page, "/needs/new"), tick=[on_page_two.id])
    # Another theme: tick one justice recommendation.
    page = post(web, "/needs/new", with_changes(fields, set_={"theme": JUSTICE}, press=("action", "browse"))).text
    assert checked(page) == {start.id, on_page_two.id}
    justice = data.recs["j1"]
    fields = with_changes(form_fields(page, "/needs/new"), tick=[justice.id])
    # Back to page 1 of women's rights via words: untick nothing, then file it.
    page = post(web, "/needs/new", with_changes(fields, set_={"theme": "", "q": "number"}, press=("action", "browse")))
    assert checked(page.text) == {start.id, on_page_two.id, justice.id}
    # The title followed the selection: two themes, three recommendations.
    assert title_of(page.text) == "Women's rights and Justice: support to implement 3 supported recommendations"
    response = post(web, "/needs/new", with_changes(form_fields(page.text, "/needs/new"), press=("action", "save")))
    assert response.status_code == 303, response.text
    need_id = response.headers["location"].rsplit("/", 1)[1]
    assert cited(session, need_id) == {start.id, on_page_two.id, justice.id}
    need = session.get(Need, need_id)
    assert (
        need is not None
        and need.title == "Women's rights and Justice: support to implement 3 supported recommendations"
    )


def test_a_title_written_by_the_state_is_kept(web: TestClient, data: Seed, session: Session) -> None:
    sign_in(web, data.keys["fra"][1])
    page = web.get("/needs/new", params={"cite": data.recs["j0"].id}).text
    fields = with_changes(
        form_fields(page, "/needs/new"), set_={"title": "Courts for everyone"}, tick=[data.recs["j2"].id]
    )
    response = post(web, "/needs/new", with_changes(fields, press=("action", "save")))
    assert response.status_code == 303
    session.rollback()
    need = session.get(Need, response.headers["location"].rsplit("/", 1)[1])
    assert need is not None and need.title == "Courts for everyone"


def test_languages_and_kinds_of_help_by_name(web: TestClient, data: Seed, session: Session) -> None:
    sign_in(web, data.keys["fra"][1])
    page = web.get("/needs/new", params={"cite": data.recs["j0"].id}).text
    assert '<label for="f-languages-es">Spanish</label>' in page
    assert '<label for="f-modalities-legal_review">Review of laws and policies</label>' in page
    fields = with_changes(
        form_fields(page, "/needs/new"),
        set_={"other_languages": "Swahili, Quechua"},
        press=("action", "save"),
    )
    fields += [("languages", "es"), ("modalities", "legal_review"), ("modalities", "training")]
    response = post(web, "/needs/new", fields)
    assert response.status_code == 303, response.text
    session.rollback()
    need = session.get(Need, response.headers["location"].rsplit("/", 1)[1])
    assert need is not None
    assert set(need.languages) == {"es", "sw", "qu"} and set(need.modalities) == {"legal_review", "training"}
    shown = web.get(response.headers["location"]).text
    assert "Spanish" in shown and "Swahili" in shown and "Review of laws and policies" in shown


def test_an_unknown_language_is_a_plain_sentence_on_its_field(web: TestClient, data: Seed) -> None:
    sign_in(web, data.keys["fra"][1])
    page = web.get("/needs/new", params={"cite": data.recs["j0"].id}).text
    fields = with_changes(
        form_fields(page, "/needs/new"), set_={"other_languages": "Klingon"}, press=("action", "save")
    )
    response = post(web, "/needs/new", fields)
    assert response.status_code == 422
    html = response.text
    message = "We do not know the language “Klingon”: write its English name, for example Swahili."
    assert f'<a href="#f-other_languages">{message}</a>' in html
    assert (
        'id="f-other_languages-error"' in html
        and 'aria-describedby="f-other_languages-hint f-other_languages-error"' in html
    )
    assert 'aria-invalid="true"' in html and 'id="error-summary"' in html and "autofocus" in html
    assert data.recs["j0"].id in checked(html)  # nothing typed or ticked is lost


def test_every_service_refusal_is_a_sentence_on_its_field(web: TestClient, data: Seed) -> None:
    sign_in(web, data.keys["fra"][1])
    page = web.get("/needs/new", params={"cite": data.recs["j0"].id}).text
    fields = with_changes(
        form_fields(page, "/needs/new"), set_={"title": "ab"}, tick=[data.recs["noted"].id], press=("action", "save")
    )
    html = post(web, "/needs/new", fields).text
    assert "Give the need a title of at least 3 characters." in html
    fields = with_changes(fields, set_={"title": "A good title"})
    html = post(web, "/needs/new", fields).text
    # The noted recommendation is refused by the service; the sentence is linked to the list of recommendations.
    assert re.search(r'<a href="#f-recommendation_ids">Recommendation [^ ]+ was noted by FRA; needs may cite', html)


def test_recommendation_page_offers_to_file_a_need_citing_it(web: TestClient, data: Seed) -> None:
    rec_id = data.recs["women"].id
    assert "File a need citing this recommendation" not in web.get(f"/recommendations/{rec_id}").text
    sign_in(web, data.keys["deu"][1])  # another State: no
    assert "File a need citing this recommendation" not in web.get(f"/recommendations/{rec_id}").text
    sign_in(web, data.keys["fra"][1])
    page = web.get(f"/recommendations/{rec_id}").text
    assert f'href="/needs/new?cite={rec_id}"' in page
    assert "File a need citing this recommendation" not in web.get(f"/recommendations/{data.recs['noted'].id}").text


def test_another_state_cannot_start_a_need_citing_a_recommendation_not_its_own(web: TestClient, data: Seed) -> None:
    sign_in(web, data.keys["deu"][1])
    response = web.get("/needs/new", params={"cite": data.recs["women"].id})
    assert response.status_code == 403 and "may not file needs for France" in response.text


# --- edit and close --------------------------------------------------------------------


def test_a_state_edits_its_need(web: TestClient, data: Seed, session: Session) -> None:
    need = data.needs["fra"]
    sign_in(web, data.keys["fra"][1])
    detail = web.get(f"/needs/{need.id}").text
    assert "Edit this need" in detail and "Yes, close this need" in detail
    page = web.get(f"/needs/{need.id}/edit").text
    assert checked(page) == {data.recs["opcat"].id} and "<h1>Edit the need of France</h1>" in page
    fields = with_changes(
        form_fields(page, f"/needs/{need.id}/edit"),
        set_={"title": "Torture prevention in prisons", "visibility": "providers", "status": "in_progress"},
        tick=[data.recs["prisons"].id],
        press=("action", "save"),
    )
    response = post(web, f"/needs/{need.id}/edit", fields)
    assert response.status_code == 303, response.text
    session.rollback()
    row = session.get(Need, need.id)
    assert row is not None
    session.refresh(row)
    assert (
        row.title == "Torture prevention in prisons" and row.visibility == "providers" and row.status == "in_progress"
    )
    assert cited(session, need.id) == {data.recs["opcat"].id, data.recs["prisons"].id}
    # The old form (stale version) is refused without overwriting.
    stale = with_changes(fields, set_={"title": "An older edit", "csrf_token": csrf_from(web.get("/").text)})
    again = post(web, f"/needs/{need.id}/edit", stale)
    assert again.status_code == 409 and "Someone changed this need while you were editing it" in again.text
    session.rollback()
    session.refresh(row)
    assert row.title == "Torture prevention in prisons"


def test_a_state_closes_and_reopens_its_need(web: TestClient, data: Seed, session: Session) -> None:
    need = data.needs["fra"]
    sign_in(web, data.keys["fra"][1])
    fields = form_fields(web.get(f"/needs/{need.id}").text, f"/needs/{need.id}/status")
    assert ("status", "closed") in fields
    assert post(web, f"/needs/{need.id}/status", fields).status_code == 303
    session.rollback()
    row = session.get(Need, need.id)
    assert row is not None
    session.refresh(row)
    assert row.status == "closed"
    page = web.get(f"/needs/{need.id}").text
    assert "Reopen this need" in page and "no partner is suggested" in page
    # The page says what happened, once.
    assert '<p class="flash" role="status">The need is closed: it no longer appears to providers as open.</p>' in page
    assert 'class="flash"' not in web.get(f"/needs/{need.id}").text
    fields = form_fields(page, f"/needs/{need.id}/status")
    assert post(web, f"/needs/{need.id}/status", fields).status_code == 303
    session.rollback()
    session.refresh(row)
    assert row.status == "open"


@pytest.mark.parametrize("who", ["deu", "ngo", "anonymous"])
def test_others_cannot_edit_or_close_a_need(web: TestClient, data: Seed, session: Session, who: str) -> None:
    need = data.needs["fra"]
    if who != "anonymous":
        sign_in(web, data.keys[who][1])
    assert "Edit this need" not in web.get(f"/needs/{need.id}").text
    token = csrf_from(web.get("/signin").text)
    response = web.post(f"/needs/{need.id}/status", data={"csrf_token": token, "status": "closed", "version": "1"})
    assert response.status_code in {303, 403}
    if who == "anonymous":
        assert response.headers["location"].startswith("/signin")
    assert web.get(f"/needs/{need.id}/edit").status_code in {303, 403}
    session.rollback()
    row = session.get(Need, need.id)
    assert row is not None
    session.refresh(row)
    assert row.status == "open"


def test_recommendation_count_is_what_the_state_supported(data: Seed, session: Session) -> None:
    supported = session.exec(
        select(Recommendation).where(Recommendation.state_under_review == "FRA", Recommendation.response == "supported")
    ).all()
    assert len(supported) == 3 + 55 + 3


def test_nothing_ticked_is_one_mistake_not_two(web: TestClient, data: Seed) -> None:
    sign_in(web, data.keys["fra"][1])
    page = web.get("/needs/new", params={"cite": data.recs["j0"].id}).text
    fields = with_changes(form_fields(page, "/needs/new"), untick=[data.recs["j0"].id], press=("action", "save"))
    html = post(web, "/needs/new", fields).text
    summary = html.split('id="error-summary"', 1)[1].split("</div>", 1)[0]
    assert summary.count("<li>") == 1 and "Tick at least one recommendation the need is about." in summary
