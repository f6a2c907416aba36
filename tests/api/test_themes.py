"""Theme intelligence in the service: classify, tagger in readiness, and matches bridged by themes alone."""

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
from tests.factories import auth, make_key, make_provider
from tests.tagging import TORTURE, WOMEN, write_tiny_tagger
from tests.test_errors import assert_problem


@pytest.fixture
def tagged_client(settings: Settings, engine: Engine, tmp_path: Path) -> Iterator[TestClient]:
    own = settings.model_copy(update={"MODEL_DIR": tmp_path / "models"})
    write_tiny_tagger(theme_service.artifact_path(own))  # loaded back by the app's start-up, as in production
    with TestClient(create_app(own, engine=engine), raise_server_exceptions=False) as client:
        yield client


def test_classify_returns_themes_with_probabilities(tagged_client: TestClient) -> None:
    body = tagged_client.post("/v1/classify", json={"text": "Ratify OPCAT", "top": 2}).json()
    assert body["scheme"] == "upr_info_issues"
    assert [t["theme"] for t in body["themes"]] == [TORTURE, WOMEN]
    first, second = body["themes"]
    assert first["predicted"] is True and first["probability"] > second["probability"]
    assert 0 <= second["probability"] <= 1


def test_readiness_reports_the_tagger_version(tagged_client: TestClient, session: Session) -> None:
    _, admin = make_key(session, "admin")  # the checks' details are for admins
    tagger = tagged_client.get("/health/ready", headers=auth(admin)).json()["checks"]["tagger"]
    assert tagger["loaded"] is True and tagger["version"] and tagger["schemes"] == ["upr_info_issues"]


def test_provider_sharing_no_word_is_found_through_its_theme(tagged_client: TestClient, session: Session) -> None:
    monitor = make_provider(
        session,
        name="Custody Watch",
        description="Independent monitoring of places of deprivation of liberty.",
        themes=[],
    )
    make_provider(
        session, name="Shelter Network", description="Shelters for survivors of domestic violence.", themes=[]
    )
    body = tagged_client.post("/v1/match", json={"text": "Ratify OPCAT", "limit": 5}).json()
    ranked = [item["provider"]["id"] for item in body["items"]]
    assert ranked[0] == monitor.id
    # faint predictions count (no floor): the shelter may follow, far behind on themes
    themes = [item["explanation"]["signals"]["theme"]["value"] for item in body["items"]]
    assert all(t < themes[0] / 2 for t in themes[1:])
    explanation = body["items"][0]["explanation"]
    assert explanation["signals"]["text"]["value"] == 0.0, "the test needs a provider sharing no word"
    # Torture bridges first. (Its closest example profiles, human rights institutions and the
    # Inter-American Commission, also work on women's rights, which the two-theme test tagger reads
    # faintly in "Ratify OPCAT": that theme may follow.)
    assert explanation["themes"][0] == TORTURE
    assert explanation["summary"].startswith("shares: " + TORTURE)


def test_classify_without_a_tagger_is_503(client: TestClient, session: Session) -> None:
    body = assert_problem(client.post("/v1/classify", json={"text": "Ratify OPCAT"}), 503)
    assert "upr-match train" in body["detail"]
    _, admin = make_key(session, "admin")
    assert client.get("/health/ready", headers=auth(admin)).json()["checks"]["tagger"]["loaded"] is False


def test_classify_validates_input(tagged_client: TestClient) -> None:
    assert_problem(tagged_client.post("/v1/classify", json={"text": ""}), 422)
    assert_problem(tagged_client.post("/v1/classify", json={"text": "x" * 5001}), 422)
    body = assert_problem(tagged_client.post("/v1/classify", json={"text": "x", "scheme": "sdgs"}), 422)
    assert body["errors"][0]["field"] == "scheme"


def test_import_predicts_themes_only_where_there_are_none(tagged_client: TestClient, session: Session) -> None:
    import json

    from sqlmodel import select

    from app.models.recommendation import Recommendation
    from tests.factories import auth, make_key

    _, admin = make_key(session, "admin")
    rows = [
        {
            "id": "t-1",
            "source": "test",
            "cycle": 3,
            "session": 34,
            "state_under_review_iso3": "SVN",
            "text": "Ratify OPCAT",
            "response": "supported",
            "themes": [],
            "theme_scheme": None,
        },
        {
            "id": "t-2",
            "source": "test",
            "cycle": 3,
            "session": 34,
            "state_under_review_iso3": "SVN",
            "text": "Ratify OPCAT",
            "response": "supported",
            "themes": [WOMEN],
            "theme_scheme": "upr_info_issues",
        },
    ]
    body = "\n".join(json.dumps(r) for r in rows).encode()
    answer = tagged_client.post(
        "/v1/recommendations/import", content=body, headers={**auth(admin), "Content-Type": "application/x-ndjson"}
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["themes_predicted"] == 1
    session.rollback()  # end the snapshot the key factory's refresh opened, to see the import
    predicted = session.get(Recommendation, "t-1")
    human = session.get(Recommendation, "t-2")
    assert predicted is not None and human is not None
    assert predicted.themes == [TORTURE] and predicted.themes_predicted is True
    assert human.themes == [WOMEN] and human.themes_predicted is False, "a human label was overwritten"
    found = tagged_client.get("/v1/recommendations", params={"theme": TORTURE}).json()
    assert [item["id"] for item in found["items"]] == ["t-1"]
    again = tagged_client.post(
        "/v1/recommendations/import", content=body, headers={**auth(admin), "Content-Type": "application/x-ndjson"}
    ).json()
    assert (again["inserted"], again["updated"], again["themes_predicted"]) == (0, 0, 0)
    session.rollback()
    assert session.exec(select(Recommendation).where(Recommendation.id == "t-1")).one().themes == [TORTURE]
