"""A need filed in Spanish finds the right English-speaking partners: its words are read in English
through the lexicon `upr-match train` builds with Apertium; without the lexicon the service says so."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.core.config import Settings
from app.main import create_app
from app.match_index.ranker import lexicon_path
from app.services import themes as theme_service
from matching.crosslingual import Lexicon, apertium_available, build_lexicon
from tests.factories import auth, make_key, make_recommendation
from tests.tagging import TRAINING, write_tiny_tagger

pytestmark = pytest.mark.db

PROVIDERS = Path(__file__).resolve().parents[2] / "app" / "demo" / "providers.json"
#: The torture-prevention bodies (OPCAT) among the profiles registered, and others that must not come first.
OPCAT = {"apt", "opcat-special-fund"}
REGISTERED = [*sorted(OPCAT), "unicef", "un-women", "essex-human-rights-centre", "apf", "irct"]

TITLE = "Prevención de la tortura y formación de la policía"
DESCRIPTION = (
    "Necesitamos apoyo para formar a los agentes de policía y al personal penitenciario en la prevención de la "
    "tortura, y para que un mecanismo nacional de prevención visite los lugares de detención."
)
CITED = (
    "Ratificar el Protocolo Facultativo de la Convención contra la Tortura y crear un mecanismo nacional de prevención"
)


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    """A lexicon built by Apertium, as `upr-match train` builds it, from English texts: the profiles and the
    tiny tagger's recommendations (never from the Spanish words asked below)."""
    missing = apertium_available()
    if missing:
        pytest.skip(f"cross-language matching needs Apertium: {missing}")
    profiles = json.loads(PROVIDERS.read_text(encoding="utf-8"))
    texts = [p["description"] for p in profiles] + sorted({t for t, _ in TRAINING})
    return build_lexicon(texts)


def _register(client: TestClient, admin: str) -> dict[str, str]:
    profiles = {p["slug"]: p for p in json.loads(PROVIDERS.read_text(encoding="utf-8"))}
    ids = {}
    for slug in REGISTERED:
        p = profiles[slug]
        body = {"name": p["name"], "kind": p["kind"], "description": p["description"]}
        created = client.post("/v1/providers", headers=auth(admin), json=body)
        assert created.status_code == 201, created.text
        ids[created.json()["id"]] = slug
    return ids


def _cited(session: Session) -> str:
    """The Spanish recommendation the need cites, imported without themes; the session is closed after."""
    cited = make_recommendation(session, state_under_review="MEX", text=CITED, themes=[], theme_scheme=None).id
    session.close()
    return cited


def _spanish_need(client: TestClient, cited: str, state_key: str) -> str:
    body = {"title": TITLE, "description": DESCRIPTION, "recommendation_ids": [cited]}
    created = client.post("/v1/needs", headers=auth(state_key), json=body)
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def test_a_need_filed_in_spanish_gets_the_torture_prevention_bodies_first(  # type: ignore[no-untyped-def]
    lexicon: Lexicon, settings: Settings, engine: Engine, session: Session, tmp_path: Path
):
    own = settings.model_copy(update={"MODEL_DIR": tmp_path / "models"})
    write_tiny_tagger(theme_service.artifact_path(own))
    lexicon.save(lexicon_path(own))
    _, admin = make_key(session, "admin")
    _, mex = make_key(session, "state", state="MEX")
    cited = _cited(session)
    with TestClient(create_app(own, engine=engine), raise_server_exceptions=False) as client:
        slugs = _register(client, admin)
        need_id = _spanish_need(client, cited, mex)
        answer = client.get(f"/v1/needs/{need_id}/matches", params={"limit": 5}, headers=auth(mex))
        assert answer.status_code == 200, answer.text
        body = answer.json()
        ranked = [slugs[item["provider"]["id"]] for item in body["items"]]
        assert ranked and ranked[0] in OPCAT, ranked
        assert body["language"] == "es"
        shared = {t["term"] for t in body["items"][0]["explanation"]["terms"]}
        assert "tortur" in shared or "torture" in shared, shared

        text = client.post("/v1/match", json={"text": f"{TITLE}. {DESCRIPTION}", "limit": 5})
        assert text.status_code == 200, text.text
        assert text.json()["language"] == "es"
        assert slugs[text.json()["items"][0]["provider"]["id"]] in OPCAT

        english = client.post("/v1/match", json={"text": "Prevention of torture and training of the police"})
        assert "language" not in english.json(), "an English answer carries no new field"
        ready = client.get("/health/ready", headers=auth(admin)).json()["checks"]["languages"]
        assert ready["ok"] and ready["crosslingual"], ready


def test_without_the_lexicon_the_service_ranks_as_written_and_says_so(  # type: ignore[no-untyped-def]
    settings: Settings, engine: Engine, session: Session, tmp_path: Path
):
    own = settings.model_copy(update={"MODEL_DIR": tmp_path / "models"})
    write_tiny_tagger(theme_service.artifact_path(own))
    _, admin = make_key(session, "admin")
    _, mex = make_key(session, "state", state="MEX")
    cited = _cited(session)
    with TestClient(create_app(own, engine=engine), raise_server_exceptions=False) as client:
        _register(client, admin)
        need_id = _spanish_need(client, cited, mex)
        answer = client.get(f"/v1/needs/{need_id}/matches", headers=auth(mex))
        assert answer.status_code == 200, answer.text
        assert "language" not in answer.json()  # nothing was read in English
        ready = client.get("/health/ready", headers=auth(admin))
        assert ready.status_code == 200, ready.text
        check = ready.json()["checks"]["languages"]
        assert check["ok"] and not check["crosslingual"]
        assert "ranked as written" in check["detail"], check
