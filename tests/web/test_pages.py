"""Every page renders with its h1, filters and pagination work, and no contact e-mail reaches anonymous visitors."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session

from tests.factories import make_activity, make_need, make_provider
from tests.web.conftest import sign_in
from tests.web.seed import CONTACT_EMAIL, Seed, rec, seed

EMAIL_RE = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


@pytest.fixture
def data(session: Session) -> Seed:
    return seed(session)


def h1(html: str) -> str:
    found = re.findall(r"<h1[^>]*>(.*?)</h1>", html, re.DOTALL)
    assert len(found) == 1, f"expected exactly one h1, got {found}"
    return re.sub(r"<[^>]+>", "", found[0]).strip()


def page_paths(data: Seed) -> list[str]:
    return [
        "/",
        "/recommendations",
        "/recommendations?q=torture",
        f"/recommendations/{data.recs['opcat'].id}",
        "/states/FRA",
        f"/needs/{data.needs['fra'].id}",
        "/providers",
        f"/providers/{data.providers['ngo'].id}",
        "/activities",
        "/signin",
    ]


def test_every_page_renders_with_one_h1_and_landmarks(web: TestClient, data: Seed) -> None:
    for path in page_paths(data):
        response = web.get(path)
        assert response.status_code == 200, (path, response.text[:500])
        h1(response.text)
        for landmark in ("<header", "<nav", '<main id="main"', "<footer", 'class="skip-link" href="#main"'):
            assert landmark in response.text, (path, landmark)


def test_every_input_has_a_label(web: TestClient, data: Seed, session: Session) -> None:
    sign_in(web, data.keys["fra"][1])
    paths = [*page_paths(data), "/needs/new"]
    for path in paths:
        html = web.get(path).text
        labels = set(re.findall(r'<label for="([^"]+)"', html))
        for tag in re.findall(r"<(?:input|select|textarea)\b[^>]*>", html):
            if 'type="hidden"' in tag:
                continue
            found = re.search(r'id="([^"]+)"', tag)
            assert found and found.group(1) in labels, (path, tag)


def test_anonymous_pages_show_no_contact_email(web: TestClient, data: Seed) -> None:
    for path in page_paths(data) + ["/providers?kind=ngo", f"/activities?provider_id={data.providers['ngo'].id}"]:
        html = web.get(path).text
        assert CONTACT_EMAIL not in html, path
        assert not EMAIL_RE.findall(html), (path, EMAIL_RE.findall(html))


def test_signed_in_visitors_see_the_contact_email(web: TestClient, data: Seed) -> None:
    sign_in(web, data.keys["deu"][1])
    assert CONTACT_EMAIL in web.get(f"/providers/{data.providers['ngo'].id}").text


def test_recommendations_search_and_filters(web: TestClient, data: Seed) -> None:
    page = web.get("/recommendations", params={"q": "overcrowding"}).text
    assert "1 recommendation<" in page and "prison overcrowding" in page
    page = web.get("/recommendations", params={"state": "DEU"}).text
    assert "national human rights institution" in page and "overcrowding" not in page
    page = web.get("/recommendations", params={"state": "fra", "response": "noted"}).text
    assert "death penalty" in page and "1 recommendation<" in page
    page = web.get("/recommendations", params={"theme": "Women's rights", "cycle": "2", "state": "", "q": ""}).text
    assert "violence against women" in page and "overcrowding" not in page


def test_recommendations_show_facet_counts(web: TestClient, data: Seed) -> None:
    page = web.get("/recommendations", params={"state": "FRA"}).text
    # Themes are counted under the controlled list's labels (UPR Info's "Torture and other CID treatment": D25).
    assert re.search(
        r"Prohibition of torture &amp; cruel, inhuman or degrading treatment</a> <span class=\"count\">2</span>", page
    )
    assert re.search(r">Supported</a> <span class=\"count\">3</span>", page)


def test_recommendations_search_without_words_explains_itself(web: TestClient, data: Seed) -> None:
    response = web.get("/recommendations", params={"q": "the"})
    # SQLite's search refuses a query of stop words only (422, said on the page); PostgreSQL finds nothing.
    if response.status_code == 422:
        assert 'role="alert"' in response.text and "no searchable words" in response.text
    else:
        assert response.status_code == 200 and "No recommendation matches" in response.text


def test_pagination_links_keep_the_filters(web: TestClient, data: Seed) -> None:
    page = web.get("/recommendations", params={"state": "FRA", "limit": 2}).text
    assert "Showing 1–2 of 4" in page
    assert 'href="/recommendations?state=FRA&amp;limit=2&amp;offset=2"' in page
    second = web.get("/recommendations", params={"state": "FRA", "limit": 2, "offset": 2}).text
    assert "Showing 3–4 of 4" in second and 'rel="prev" href="/recommendations?state=FRA&amp;limit=2"' in second
    assert 'rel="next"' not in second


def test_pagination_limit_is_capped(web: TestClient, data: Seed) -> None:
    response = web.get("/recommendations", params={"limit": 1000})
    assert response.status_code == 422 and response.headers["content-type"].startswith("text/html")


def test_recommendation_page_shows_its_needs_and_activities(web: TestClient, data: Seed) -> None:
    page = web.get(f"/recommendations/{data.recs['opcat'].id}").text
    assert "Train prison staff on torture prevention" in page and "Needs citing it (1)" in page
    page = web.get(f"/recommendations/{data.recs['prisons'].id}").text
    assert "Workshop for prison directors" in page and "40 prison directors trained" in page
    assert "Prison Reform Helpers" in page


def test_state_page_shows_its_pipeline_and_draws_an_accessible_chart(web: TestClient, data: Seed) -> None:
    page = web.get("/states/FRA").text
    assert h1(page).startswith("France")
    # opcat requested (the open need), prisons done (the completed workshop), women not started.
    assert "<strong>3</strong> supported" in page
    assert "<strong>1</strong> requested in a need" in page and "<strong>1</strong> done" in page
    svg = re.search(r"<svg role=\"img\" aria-labelledby=\"pipeline-title\".*?</svg>", page, re.DOTALL)
    assert svg, "no chart"
    assert '<title id="pipeline-title">' in svg.group(0)
    # Torture: opcat requested, prisons done.
    torture = "Prohibition of torture &amp; cruel, inhuman or degrading treatment"
    text = f"{torture}: not started 0, requested 1, under way 0, done 1 (total 2)."
    assert text in svg.group(0)
    assert "Train prison staff on torture prevention" in page  # its open need
    assert "<script" not in page


def test_state_page_of_an_unknown_code_is_404(web: TestClient, data: Seed) -> None:
    response = web.get("/states/XXZ")
    assert response.status_code == 404 and "<h1>Not found</h1>" in response.text


def test_lowercase_state_code_redirects(web: TestClient, data: Seed) -> None:
    response = web.get("/states/fra")
    assert response.status_code == 301 and response.headers["location"] == "/states/FRA"


def test_need_page_shows_recommendations_and_ranked_partners_in_words(web: TestClient, data: Seed) -> None:
    page = web.get(f"/needs/{data.needs['fra'].id}").text
    assert h1(page) == "Train prison staff on torture prevention"
    assert "Ratify the Optional Protocol" in page
    partners = page.split("Ranked partners", 1)[1].split("Recommendations it cites", 1)[0]
    assert "Prison Reform Helpers" in partners and "UN Women Liaison" not in partners
    why = re.search(r'<ul class="why">(.*?)</ul>', partners, re.DOTALL)
    assert why, partners
    reasons = re.findall(r"<li[^>]*>(.*?)</li>", why.group(1))
    # Themes, then phrases, then separate ticks, each in words; the band, with the number kept in a title.
    assert reasons[0].startswith("Shares the theme: Prohibition of torture")  # the controlled label
    assert "Works in France&#39;s region (Western Europe and others)" in reasons
    assert not any("FRA" in r or "western_europe" in r for r in reasons)
    assert re.search(r'<span class="band (strong|good|possible)" title="Match score 0\.\d\d">', partners)
    assert "Strong means a score of 0.35 or more" in partners


def test_hidden_need_is_404_for_others(web: TestClient, data: Seed, session: Session) -> None:
    hidden = make_need(session, recommendations=[data.recs["women"]], title="Quiet need", visibility="state_only")
    assert web.get(f"/needs/{hidden.id}").status_code == 404
    sign_in(web, data.keys["fra"][1])
    assert web.get(f"/needs/{hidden.id}").status_code == 200


def test_provider_directory_filters(web: TestClient, data: Seed) -> None:
    page = web.get("/providers", params={"kind": "un_entity"}).text
    assert "UN Women Liaison" in page and "Prison Reform Helpers" not in page
    page = web.get("/providers", params={"theme": "detention conditions"}).text
    assert "Prison Reform Helpers" in page and "UN Women Liaison" not in page
    page = web.get("/providers", params={"region": "global", "language": "EN", "kind": "", "theme": ""}).text
    assert "UN Women Liaison" in page and "Prison Reform Helpers" not in page


def test_provider_profile_lists_needs_it_could_serve(web: TestClient, data: Seed) -> None:
    page = web.get(f"/providers/{data.providers['ngo'].id}").text
    assert h1(page) == "Prison Reform Helpers"
    assert "Western Europe and others" in page and "Training" in page and "Non-governmental organisation" in page
    ranked = page.split("Open needs it could serve", 1)[1].split("Its activities", 1)[0]
    assert "Train prison staff on torture prevention" in ranked
    assert "<li>Shares the theme: Prohibition of torture" in ranked and "France" in ranked
    other = web.get(f"/providers/{data.providers['un'].id}").text
    assert "No open need matches this profile" in other


def test_provider_directory_paginates(web: TestClient, data: Seed, session: Session) -> None:
    for i in range(3):
        make_provider(session, name=f"Extra provider {i}")
    page = web.get("/providers", params={"limit": 2}).text
    assert "Showing 1–2 of 5" in page and 'rel="next"' in page


def test_activity_repository_filters_and_shows_outcomes(web: TestClient, data: Seed) -> None:
    page = web.get("/activities").text
    assert "Workshop for prison directors" in page and "40 prison directors trained" in page
    assert "Workshop for prison directors" not in web.get("/activities", params={"state": "DEU"}).text
    assert "Workshop for prison directors" in web.get("/activities", params={"status": "completed"}).text
    assert "Workshop for prison directors" not in web.get("/activities", params={"status": "planned"}).text


def test_missing_objects_are_html_404s(web: TestClient, data: Seed) -> None:
    for path in ("/recommendations/nope", "/needs/nope", "/providers/nope"):
        response = web.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"].startswith("text/html")


def test_user_text_is_escaped(web: TestClient, session: Session) -> None:
    rec(session, text="<script>alert('x')</script> Ratify <b>now</b>", themes=["<img src=x onerror=alert(1)>"])
    page = web.get("/recommendations").text
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;" in page


def _statements(engine: Engine, fetch: Callable[[], object]) -> int:
    count = 0

    def before(*_: object) -> None:
        nonlocal count
        count += 1

    event.listen(engine, "before_cursor_execute", before)
    try:
        fetch()
    finally:
        event.remove(engine, "before_cursor_execute", before)
    return count


@pytest.mark.parametrize("path", ["/activities", "/providers", "/recommendations", "/states/FRA"])
def test_list_pages_make_the_same_number_of_queries_for_1_or_12_rows(
    web: TestClient, data: Seed, session: Session, engine: Engine, path: str
) -> None:
    web.get(path)
    few = _statements(engine, lambda: web.get(path))
    for i in range(11):
        provider = make_provider(session, name=f"Provider {i}", themes=["Torture and other CID treatment"])
        make_activity(
            session, provider, recommendations=[data.recs["prisons"]], title=f"Activity {i}", status="ongoing"
        )
        make_need(session, recommendations=[data.recs["women"]], title=f"Need {i}")
        rec(session, text=f"Recommendation {i} on prisons.", themes=[f"Theme {i}"])
    web.get(path)  # the coverage notice is recomputed once after the data changed, then cached
    many = _statements(engine, lambda: web.get(path))
    assert many == few, f"{path}: {few} statements with few rows, {many} with many (N+1?)"


def test_provider_profile_lists_the_recommendations_it_speaks_to_open_needs_first(web: TestClient, data: Seed) -> None:
    page = web.get(f"/providers/{data.providers['un'].id}").text
    related = page.split("Recommendations this profile speaks to", 1)[1].split("Its activities", 1)[0]
    assert "Adopt a comprehensive law on violence against women." in related  # its words: violence against women
    assert "Abolish the death penalty" not in related
    ngo = web.get(f"/providers/{data.providers['ngo'].id}").text
    listed = ngo.split("Recommendations this profile speaks to", 1)[1].split("Its activities", 1)[0]
    # The OPCAT recommendation, which France's open need cites, comes before the prisons one, which none cites.
    assert "An open need cites it" in listed
    assert listed.index("Optional Protocol") < listed.index("Improve detention conditions")
