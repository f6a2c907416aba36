"""The pages in English, French and Spanish: how the language is chosen, the switch, CLDR names and formats."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.web import i18n
from app.web.templating import environment
from tests.factories import make_need
from tests.web.conftest import sign_in
from tests.web.seed import Seed, rec, seed

NNBSP = "\u202f"  # CLDR's French group separator: a narrow no-break space


@pytest.fixture
def data(session: Session) -> Seed:
    return seed(session)


@pytest.fixture
def mexico(session: Session, data: Seed) -> Seed:
    recommendation = rec(
        session,
        state_under_review="MEX",
        state_under_review_name="Mexico",
        text="Adopt a general law on enforced disappearances.",
        themes=["Enforced disappearances"],
    )
    make_need(session, recommendations=[recommendation], state="MEX", title="Search commissions")
    return data


def html_lang(page: str) -> str:
    found = re.search(r'<html lang="([^"]+)" dir="(ltr|rtl)">', page)  # the direction from CLDR, always said
    assert found, "the page has no <html lang dir>"
    return found.group(1)


def test_accept_language_french_gives_the_state_page_in_french(web: TestClient, mexico: Seed) -> None:
    page = web.get("/states/MEX", headers={"Accept-Language": "fr-CH, fr;q=0.9, en;q=0.8"}).text
    assert html_lang(page) == "fr"
    assert "<title>Mexique · Répertoire de la coopération pour l’EPU</title>" in page and "<h1>Mexique</h1>" in page
    assert "recommandations reçues" in page and "Besoins ouverts" in page
    # The need's date in French (CLDR month abbreviation), not the English "Dec".
    assert re.search(r"déposé le \d\d [a-zéû]+\.? \d{4}", page)


def test_french_numbers_dates_and_money_come_from_cldr() -> None:
    template = environment.from_string("{{ x|number }}|{{ n|count }}|{{ day|day }}|{{ amount|money('EUR') }}")
    values = {"x": 1234.5, "n": 21959, "day": date(2026, 12, 7), "amount": Decimal("1200")}
    with i18n.language("fr"):
        french = template.render(**values)
    with i18n.language("es"):
        spanish = template.render(**values)
    with i18n.language("en"):
        english = template.render(**values)
    assert french == f"1{NNBSP}234,5|21{NNBSP}959|7 déc. 2026|1{NNBSP}200,00{chr(0xA0)}€"
    assert spanish == "1.234,5|21.959|7 dic 2026|1.200,00\xa0€"
    assert english == "1,234.5|21,959|Dec 7, 2026|€1,200.00"


def test_lang_parameter_gives_spanish_and_the_switch_is_remembered(web: TestClient, mexico: Seed) -> None:
    answer = web.get("/states/MEX?lang=es", headers={"Accept-Language": "fr"})
    assert html_lang(answer.text) == "es" and "<h1>México</h1>" in answer.text
    # A link carrying ?lang= shows one page in that language; it does not change the visitor's choice.
    assert "set-cookie" not in answer.headers
    assert html_lang(web.get("/states", headers={"Accept-Language": "fr"}).text) == "fr"
    # The switch remembers the choice and goes back to the page.
    switched = web.get("/language/es?next=/states/MEX%3Fq%3Dx", follow_redirects=False)
    assert switched.status_code == 303 and switched.headers["location"] == "/states/MEX?q=x"
    assert "upr_lang=es" in switched.headers["set-cookie"] and "HttpOnly" in switched.headers["set-cookie"]
    # The next pages, without ?lang=, stay in Spanish, even though the browser prefers French.
    page = web.get("/states", headers={"Accept-Language": "fr"}).text
    assert html_lang(page) == "es" and "Buscar un Estado por su nombre" in page
    # An explicit ?lang= beats the cookie, for that page.
    assert html_lang(web.get("/states?lang=en").text) == "en"
    assert html_lang(web.get("/states").text) == "es"
    # A language the pages do not speak changes nothing; a foreign `next` is not followed.
    other = web.get("/language/xx?next=//evil.example/", follow_redirects=False)
    assert other.headers["location"] == "/" and "set-cookie" not in other.headers


def test_without_a_choice_the_page_is_english(web: TestClient, data: Seed) -> None:
    for headers in ({}, {"Accept-Language": "de-DE, ja;q=0.5"}, {"Accept-Language": "fr;q=0, en"}):
        page = web.get("/states", headers=headers).text
        assert html_lang(page) == "en" and "Find a State by name" in page


def test_direction_follows_cldr() -> None:
    """Arabic is not offered yet; its direction comes from CLDR the day it is, and ours are left to right."""
    with i18n.language("fr"):
        assert i18n.text_direction() == "ltr"
    assert i18n.locale("ar").text_direction == "rtl"


@pytest.mark.parametrize(
    ("header", "expected"),
    [("es-MX,es;q=0.9", "es"), ("en;q=0.5, fr;q=0.8", "fr"), ("de, es;q=0.1", "es"), ("", None), ("*", None)],
)
def test_accept_language_preference_order(header: str, expected: str | None) -> None:
    assert i18n.accepted_language(header) == expected


def page_kinds(data: Seed) -> list[str]:
    """One page of each kind the seed serves to a visitor who is not signed in."""
    return [
        "/",
        "/recommendations",
        f"/recommendations/{data.recs['opcat'].id}",
        "/states",
        "/states/FRA",
        "/needs",
        f"/needs/{data.needs['fra'].id}",
        "/providers",
        f"/providers/{data.providers['ngo'].id}",
        "/activities",
        f"/activities/{data.activities['workshop'].id}",
        "/gaps",
        "/signin",
        "/no-such-page",
    ]


def test_the_switch_is_on_every_page_kind_and_links_to_the_same_page(web: TestClient, data: Seed) -> None:
    for path in page_kinds(data):
        page = web.get(path, headers={"Accept-Language": "es"}).text
        assert html_lang(page) == "es", path
        switch = re.search(r'<nav class="language-switch" aria-label="Idioma">(.*?)</nav>', page, re.S)
        assert switch, f"no language switch on {path}"
        links = re.findall(
            r'<a href="([^"]+)" lang="(\w+)" hreflang="\w+"( aria-current="true")?>([^<]+)</a>', switch[1]
        )
        assert [(lang, name) for _, lang, _, name in links] == [
            ("en", "English"),
            ("fr", "Français"),
            ("es", "Español"),
        ]
        assert [lang for _, lang, current, _ in links if current] == ["es"], path
        assert [href for href, *_ in links] == [f"/language/{code}?next={quote(path)}" for code in ("en", "fr", "es")]


def test_signed_in_pages_have_the_switch_too(web: TestClient, data: Seed) -> None:
    sign_in(web, data.keys["fra"][1])
    web.get("/language/fr")
    for path in ("/", "/inbox", "/needs/new", "/activities/new"):
        page = web.get(path).text
        assert html_lang(page) == "fr" and 'class="language-switch"' in page, path
    assert "Se déconnecter" in web.get("/").text


def test_recommendation_text_follows_the_page_language_with_the_original_a_click_away(
    web: TestClient, data: Seed
) -> None:
    path = f"/recommendations/{data.recs['opcat'].id}"
    page = web.get(path, headers={"Accept-Language": "fr"}).text
    assert '<blockquote class="rec" lang="fr"><p>Ratifier le Protocole facultatif' in page
    original = re.search(r'<a href="([^"]+)" hreflang="en">Lire l’original \(anglais\)</a>', page)
    assert original
    page = web.get(original[1].replace("&amp;", "&"), headers={"Accept-Language": "fr"}).text
    assert html_lang(page) == "fr"
    assert '<blockquote class="rec" lang="en"><p>Ratify the Optional Protocol' in page


def test_themes_and_affected_persons_show_the_vocabularys_french_and_spanish_labels(
    web: TestClient, data: Seed
) -> None:
    path = f"/recommendations/{data.recs['opcat'].id}"
    french = web.get(path, headers={"Accept-Language": "fr"}).text
    assert "Interdiction de la torture et des traitements cruels, inhumains ou dégradants" in french
    spanish = web.get(path + "?lang=es").text
    assert "Prohibición de la tortura y los tratos crueles, inhumanos o degradantes" in spanish
    english = web.get(path + "?lang=en").text
    assert "Prohibition of torture" in english and "Interdiction de la torture" not in english
    # The search page's theme choices and their group headings too.
    listing = web.get("/recommendations?lang=es").text
    assert "D. Derechos civiles y políticos" in listing


def test_every_controlled_label_has_french_and_spanish() -> None:
    from app.reference.themes import affected_persons, controlled_themes, translated_label

    for label in [t.label for t in controlled_themes()] + list(affected_persons()):
        for language in ("fr", "es"):
            assert translated_label(label, language) != label or label in {"Migrants", "General"}, (label, language)
    assert translated_label("D32", "es") == "Desapariciones forzadas"
