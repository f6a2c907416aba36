"""Predicted themes next to declared ones: a provider or a State sees what the tagger read and confirms it.

`themes_predicted` is server-owned: read from a profile's words or a need's recommendations, never sent
by a client; `themes` stays what people declared (for a need, also the human labels of its
recommendations). Without a tagger there is no prediction and nothing breaks.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.core.config import Settings
from app.main import create_app
from app.services import themes as theme_service
from tests.factories import auth, make_key, make_recommendation
from tests.tagging import TORTURE, WOMEN, write_tiny_tagger
from tests.test_errors import assert_problem

PROFILE = {
    "name": "Detention Watch",
    "kind": "ngo",
    "description": "We organise independent monitoring of places of deprivation of liberty and visit them unannounced.",
}


@pytest.fixture
def tagged_client(settings: Settings, engine: Engine, tmp_path: Path) -> Iterator[TestClient]:
    own = settings.model_copy(update={"MODEL_DIR": tmp_path / "models"})
    write_tiny_tagger(theme_service.artifact_path(own))
    with TestClient(create_app(own, engine=engine), raise_server_exceptions=False) as client:
        yield client


def _etag(client: TestClient, path: str, key: str) -> str:
    return client.get(path, headers=auth(key)).headers["etag"]


def test_registration_answers_the_themes_read_in_the_description(tagged_client: TestClient, session: Session) -> None:
    _, agency = make_key(session, "provider")
    created = tagged_client.post("/v1/providers", json=PROFILE, headers=auth(agency))
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["themes"] == [] and body["themes_predicted"] == [TORTURE]
    # found by its predicted theme while it declares none
    listed = tagged_client.get("/v1/providers", params={"theme": TORTURE}).json()
    assert [p["id"] for p in listed["items"]] == [body["id"]]


def test_confirming_declares_and_a_new_description_is_read_again(tagged_client: TestClient, session: Session) -> None:
    _, agency = make_key(session, "provider")
    pid = tagged_client.post("/v1/providers", json=PROFILE, headers=auth(agency)).json()["id"]
    path = f"/v1/providers/{pid}"
    confirmed = tagged_client.patch(
        path,
        json={"themes": [TORTURE, "Detention"]},
        headers={**auth(agency), "If-Match": _etag(tagged_client, path, agency)},
    )
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["themes"] == [TORTURE, "Detention"] and confirmed.json()["themes_predicted"] == [TORTURE]
    moved = tagged_client.patch(
        path,
        json={"description": "We run shelters for survivors of domestic violence and defend women's rights."},
        headers={**auth(agency), "If-Match": _etag(tagged_client, path, agency)},
    )
    assert moved.json()["themes_predicted"] == [WOMEN]
    assert moved.json()["themes"] == [TORTURE, "Detention"]  # what the provider declared is never overwritten


def test_predicted_themes_are_server_owned(tagged_client: TestClient, session: Session) -> None:
    _, agency = make_key(session, "provider")
    sent = tagged_client.post("/v1/providers", json={**PROFILE, "themes_predicted": [WOMEN]}, headers=auth(agency))
    assert_problem(sent, 422)
    assert "themes_predicted" in sent.text


def test_a_need_on_unlabelled_recommendations_declares_nothing_and_shows_predictions(
    tagged_client: TestClient, session: Session
) -> None:
    _, fra = make_key(session, "state", state="FRA")
    # imported without labels: the import tagged them (themes_predicted), no human chose these themes
    recs = [
        make_recommendation(session, text=t, themes=[TORTURE], themes_predicted=True)
        for t in ("Ratify OPCAT", "Independent monitoring of places of deprivation of liberty")
    ]
    body = {"title": "Prisons", "recommendation_ids": [r.id for r in recs]}
    need = tagged_client.post("/v1/needs", json=body, headers=auth(fra)).json()
    assert need["themes"] == [] and need["themes_predicted"] == [TORTURE]
    listed = tagged_client.get("/v1/needs", params={"theme": TORTURE}).json()
    assert [n["id"] for n in listed["items"]] == [need["id"]]
    path = f"/v1/needs/{need['id']}"
    confirmed = tagged_client.patch(
        path, json={"themes": [TORTURE]}, headers={**auth(fra), "If-Match": _etag(tagged_client, path, fra)}
    )
    assert confirmed.json()["themes"] == [TORTURE]


def test_a_need_on_labelled_recommendations_declares_their_human_labels(
    tagged_client: TestClient, session: Session
) -> None:
    _, fra = make_key(session, "state", state="FRA")
    labelled = make_recommendation(session, text="Ratify OPCAT", themes=[TORTURE, "Detention"])
    predicted = make_recommendation(
        session, text="Shelters for survivors of domestic violence", themes=[WOMEN], themes_predicted=True
    )
    body = {"title": "Prisons and shelters", "recommendation_ids": [labelled.id, predicted.id]}
    need = tagged_client.post("/v1/needs", json=body, headers=auth(fra)).json()
    assert need["themes"] == [TORTURE, "Detention"]  # the tagger's guess for the second is not declared
    assert set(need["themes_predicted"]) == {TORTURE, WOMEN}


def test_without_a_tagger_nothing_is_predicted(client: TestClient, session: Session) -> None:
    _, agency = make_key(session, "provider")
    body = client.post("/v1/providers", json=PROFILE, headers=auth(agency)).json()
    assert body["themes_predicted"] == [] and body["themes"] == []
