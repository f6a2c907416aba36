"""The API's words for people follow `Accept-Language`; codes, field names and values never change."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from tests.factories import make_need, make_provider, make_recommendation
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


def test_match_explanations_follow_accept_language_and_english_is_unchanged(client: Any, session: Session) -> None:
    """The summary and the signals' details are in the client's language; scores, terms and codes are not."""
    need = make_need(
        session,
        recommendations=[
            make_recommendation(session, state_under_review="MEX", themes=["Torture and other CID treatment"])
        ],
        state="MEX",
        title="Mecanismo nacional de prevención de la tortura",
        description="Formación del mecanismo nacional de prevención de la tortura y visitas a centros de detención.",
        themes=["Torture and other CID treatment"],
        languages=["es"],
        modalities=["training"],
    )
    make_provider(
        session,
        name="Asociación para la Prevención",
        description="Formación de mecanismos nacionales de prevención de la tortura y visitas a centros de detención.",
        themes=["Torture and other CID treatment"],
        countries=["MEX"],
        languages=["es"],
        modalities=["training"],
    )
    english = client.get(f"/v1/needs/{need.id}/matches")
    spanish = client.get(f"/v1/needs/{need.id}/matches", headers={"Accept-Language": "es"})
    french = client.get(f"/v1/needs/{need.id}/matches", headers={"Accept-Language": "fr-CA,fr;q=0.9"})
    assert english.status_code == spanish.status_code == french.status_code == 200, english.text
    en, es, fr = (r.json()["items"][0]["explanation"] for r in (english, spanish, french))
    assert en["signals"]["presence"]["detail"] == "works in MEX"
    assert en["signals"]["language"]["detail"] == "works in Spanish"
    assert en["signals"]["modality"]["detail"] == "offers training"
    assert es["signals"]["presence"]["detail"] == "trabaja en México"
    assert es["signals"]["language"]["detail"] == "trabaja en español"
    assert es["signals"]["modality"]["detail"] == "ofrece: formación"
    assert fr["signals"]["presence"]["detail"] == "travaille dans le pays (Mexique)"
    assert es["summary"].startswith("en común: ") and "trabaja en México" in es["summary"]
    assert fr["summary"].startswith("en commun : ")
    # Only words change: the same keys, scores, terms and themes.
    for other in (es, fr):
        assert other["terms"] == en["terms"] and other["themes"] == en["themes"]
        assert {k: v["value"] for k, v in other["signals"].items()} == {k: v["value"] for k, v in en["signals"].items()}
    assert english.json()["items"][0]["score"] == spanish.json()["items"][0]["score"]
    assert "Accept-Language" in english.headers["vary"]
    # A language the API does not speak is English, byte for byte.
    assert client.get(f"/v1/needs/{need.id}/matches", headers={"Accept-Language": "de"}).content == english.content


def test_problem_details_follow_accept_language(client: Any) -> None:
    english = client.get("/v1/no-such-path")
    french = client.get("/v1/no-such-path", headers={"Accept-Language": "fr"})
    assert english.json()["detail"] == "No resource at /v1/no-such-path."
    assert french.json()["detail"] == "Aucune ressource à /v1/no-such-path."
    spanish = client.get("/v1/recommendations?limit=nope", headers={"Accept-Language": "es"})
    assert spanish.status_code == 422
    body = spanish.json()
    assert body["detail"].startswith("1 campo(s) no válido(s): ") and body["title"] != "Validation error"
    assert body["errors"][0]["pointer"] == client.get("/v1/recommendations?limit=nope").json()["errors"][0]["pointer"]
