"""The API's words for people follow `Accept-Language`; codes, field names and values never change."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from tests.factories import make_recommendation
from tests.web.seed import index_themes


def test_facet_theme_labels_follow_accept_language(client: Any, session: Session) -> None:
    index_themes(session, make_recommendation(session, themes=["Enforced disappearances"]))
    english = client.get("/v1/recommendations/facets")
    spanish = client.get("/v1/recommendations/facets", headers={"Accept-Language": "es-MX,es;q=0.9"})
    french = client.get("/v1/recommendations/facets", headers={"Accept-Language": "fr"})
    [en] = [t for t in english.json()["themes"] if t["value"] == "D32"]
    [es] = [t for t in spanish.json()["themes"] if t["value"] == "D32"]
    [fr] = [t for t in french.json()["themes"] if t["value"] == "D32"]
    assert (en["label"], es["label"], fr["label"]) == (
        "Enforced disappearances",
        "Desapariciones forzadas",
        "Disparitions forcées",
    )
    assert en["count"] == es["count"] == fr["count"] == 1
    assert "Accept-Language" in spanish.headers["vary"]
    # Everything else is the same answer, field for field.
    assert {k: v for k, v in spanish.json().items() if k != "themes"} == {
        k: v for k, v in english.json().items() if k != "themes"
    }
    # A language the API does not speak, or none, is English, byte for byte.
    again = client.get("/v1/recommendations/facets", headers={"Accept-Language": "de"})
    assert again.content == english.content


def test_problem_titles_follow_accept_language_and_codes_do_not(client: Any) -> None:
    english = client.get("/v1/recommendations/no-such-id")
    spanish = client.get("/v1/recommendations/no-such-id", headers={"Accept-Language": "es"})
    assert english.status_code == spanish.status_code == 404
    assert english.json()["title"] == "Not found" and spanish.json()["title"] == "No encontrado"
    assert {k: v for k, v in spanish.json().items() if k != "title"} == {
        k: v for k, v in english.json().items() if k != "title"
    }
    route = client.get("/v1/no-such-route", headers={"Accept-Language": "fr"})
    assert route.status_code == 404 and route.json()["title"] == "Introuvable"


def test_every_api_operation_documents_accept_language(client: Any) -> None:
    schema: dict[str, Any] = client.get("/openapi.json").json()
    operations = [
        (path, op) for path, item in schema["paths"].items() if path.startswith("/v1/") for op in item.values()
    ]
    assert operations
    for path, operation in operations:
        names = [(p["name"], p["in"]) for p in operation.get("parameters", [])]
        assert ("Accept-Language", "header") in names, path
