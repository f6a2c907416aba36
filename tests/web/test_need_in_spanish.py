"""A need written in Spanish, filed through the API and through the pages, finds Spanish-speaking partners that
fit it first, and says why in Spanish; the same partners whatever the language of the words around them."""

from __future__ import annotations

import re
from collections import defaultdict

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.models.provider import Provider
from app.models.recommendation import Recommendation
from tests.factories import auth, make_key, make_provider
from tests.web.browserlike import form_fields, with_changes
from tests.web.conftest import sign_in
from tests.web.seed import rec

TORTURE = "Torture and other CID treatment"
CHILD = "Rights of the Child"
DESCRIPTION = (
    "Formación de la policía y del personal penitenciario en la prevención de la tortura y los malos tratos, "
    "y apoyo al mecanismo nacional de prevención de la tortura en sus visitas a los centros de detención."
)


@pytest.fixture
def world(session: Session) -> dict[str, object]:
    recommendation = rec(
        session,
        state_under_review="GTM",
        state_under_review_name="Guatemala",
        text="Strengthen the national mechanism for the prevention of torture and train prison staff.",
        themes=[TORTURE],
    )
    providers = {
        # Fits, and works in Spanish.
        "red": make_provider(
            session,
            name="Red Latinoamericana contra la Tortura",
            description="Formación de policías y funcionarios de prisiones en la prevención de la tortura; "
            "apoyo a los mecanismos nacionales de prevención en sus visitas a lugares de detención.",
            themes=[TORTURE],
            regions=["latin_america_caribbean"],
            languages=["es"],
            modalities=["training"],
        ),
        # Fits, in English only.
        "apt": make_provider(
            session,
            name="Torture Prevention Network",
            description="Training of police and prison staff on the prevention of torture; support to national "
            "preventive mechanisms visiting places of detention.",
            themes=[TORTURE],
            regions=["latin_america_caribbean"],
            languages=["en"],
            modalities=["training"],
        ),
        # Works in Spanish, on something else.
        "escuela": make_provider(
            session,
            name="Fundación Escuela para Todos",
            description="Educación primaria de calidad para niñas y niños de zonas rurales, y formación de docentes.",
            themes=[CHILD],
            regions=["latin_america_caribbean"],
            languages=["es"],
            modalities=["training"],
        ),
    }
    return {
        "recommendation": recommendation,
        "providers": providers,
        "key": make_key(session, role="state", state="GTM"),
    }


def ranked_names(items: list[dict]) -> list[str]:  # type: ignore[type-arg]
    return [item["provider"]["name"] for item in items]


def assert_spanish_speaking_and_relevant_first(names: list[str], providers: dict[str, Provider]) -> None:
    assert names and names[0] == providers["red"].name, names
    assert providers["apt"].name in names, names  # the English-speaking one that fits is still suggested
    if providers["escuela"].name in names:  # speaking Spanish is not enough to come before a partner that fits
        assert names.index(providers["apt"].name) < names.index(providers["escuela"].name), names


def test_a_need_filed_in_spanish_through_the_api_finds_spanish_speaking_partners_that_fit_first(
    client: TestClient, world: dict
) -> None:  # type: ignore[type-arg]
    key = world["key"][1]
    headers = {**auth(key), "Accept-Language": "es-GT,es;q=0.9"}
    created = client.post(
        "/v1/needs",
        json={
            "title": "Prevención de la tortura en los centros de detención",
            "description": DESCRIPTION,
            "recommendation_ids": [world["recommendation"].id],
            "languages": ["es"],
            "modalities": ["training"],
        },
        headers=headers,
    )
    assert created.status_code == 201, created.text
    matches = client.get(f"/v1/needs/{created.json()['id']}/matches", headers=headers)
    assert matches.status_code == 200, matches.text
    items = matches.json()["items"]
    assert_spanish_speaking_and_relevant_first(ranked_names(items), world["providers"])
    why = items[0]["explanation"]
    assert why["signals"]["language"]["detail"] == "trabaja en español"
    assert why["signals"]["modality"]["detail"] == "ofrece: formación"
    assert why["summary"].startswith("en común: ") and "trabaja en español" in why["summary"]
    # The same ranking in English: only the words change.
    english = client.get(f"/v1/needs/{created.json()['id']}/matches", headers=auth(key)).json()["items"]
    assert ranked_names(english) == ranked_names(items)
    assert english[0]["explanation"]["signals"]["language"]["detail"] == "works in Spanish"


def post(web: TestClient, action: str, fields: list[tuple[str, str]]):  # type: ignore[no-untyped-def]
    grouped: dict[str, list[str]] = defaultdict(list)
    for k, v in fields:
        grouped[k].append(v)
    return web.post(action, data=grouped)


def test_a_need_filed_in_spanish_through_the_pages_shows_spanish_speaking_partners_that_fit_first_in_spanish(
    web: TestClient, world: dict
) -> None:  # type: ignore[type-arg]
    sign_in(web, world["key"][1])
    assert web.get("/language/es", params={"next": "/needs/new"}).status_code in (302, 303)
    recommendation: Recommendation = world["recommendation"]
    page = web.get("/needs/new", params={"cite": recommendation.id})
    assert page.status_code == 200 and '<html lang="es"' in page.text
    assert "Presentar la necesidad" in page.text  # the form speaks Spanish
    # Its suggested title is in Spanish too, until the State writes its own.
    assert "apoyo para aplicar 1 recomendación aceptada" in page.text
    fields = with_changes(
        form_fields(page.text, "/needs/new"),
        set_={"description": DESCRIPTION, "title": "Prevención de la tortura en los centros de detención"},
        press=("action", "save"),
    )
    fields += [("languages", "es"), ("modalities", "training")]
    filed = post(web, "/needs/new", fields)
    assert filed.status_code == 303, filed.text
    need_page = web.get(filed.headers["location"])
    assert need_page.status_code == 200
    html = need_page.text
    partners = re.findall(r'<h3><a href="/providers/[^"]+">([^<]+)</a>', html)
    assert_spanish_speaking_and_relevant_first(partners, world["providers"])
    first = html[html.index('<ol class="partners">') :].split("<h3>")[1]  # the first partner, to the next one
    assert "Trabaja en español" in first and "Ofrece: formación" in first, first
    assert "Coincidencia" in first  # the band in Spanish
    assert "Works in" not in html and "Offers training" not in html
