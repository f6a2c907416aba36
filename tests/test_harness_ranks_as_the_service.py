"""The quality harness's "service ranking" is the service's ranking: same providers, same query, same answer.

Demo provider profiles are registered through the API (name, kind and description only, as the
harness sees them), a worker builds its index from the database, and every query is asked of
`POST /v1/match` and of `evaluation.quality.ServiceRanking`: the order and the scores must agree.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.core.config import Settings
from app.main import create_app
from app.match_index.ranker import ranking_space
from app.services import themes as theme_service
from evaluation.heldout import need_as_filed
from evaluation.quality import ServiceRanking
from matching.texts import provider_text
from tests.factories import auth, make_key, make_recommendation
from tests.tagging import write_tiny_tagger

PROVIDERS = Path(__file__).resolve().parent.parent / "app" / "demo" / "providers.json"
QUERIES = [
    "Ratify OPCAT",
    "Ratify the Optional Protocol to the Convention against Torture and establish a national preventive mechanism",
    "Adopt a law on violence against women and girls and open shelters for survivors of domestic violence",
    "Independent monitoring of places of deprivation of liberty",
    "Guarantee birth registration for all children, including refugees",
    "Strengthen the independence of the judiciary and train judges on international human rights law",
]


def test_post_match_and_the_harness_rank_alike(settings: Settings, engine: Engine, session: Session, tmp_path: Path):  # type: ignore[no-untyped-def]
    own = settings.model_copy(update={"MODEL_DIR": tmp_path / "models"})
    tagger = write_tiny_tagger(theme_service.artifact_path(own))
    _, admin = make_key(session, "admin")
    profiles = json.loads(PROVIDERS.read_text(encoding="utf-8"))[:30]
    ids = []
    with TestClient(create_app(own, engine=engine), raise_server_exceptions=False) as client:
        for p in profiles:
            body = {"name": p["name"], "kind": p["kind"], "description": p["description"]}
            created = client.post("/v1/providers", headers=auth(admin), json=body)
            assert created.status_code == 201, created.text
            ids.append(created.json()["id"])
    model = tagger["upr_info_issues"]
    harness = ServiceRanking(
        ids,
        [provider_text(p["name"], None, p["description"], []) for p in profiles],
        model,
        space=ranking_space(model),  # the service's: read with the demo example profiles
    )
    # A worker that starts now builds its index from the database, as after any restart.
    with TestClient(create_app(own, engine=engine), raise_server_exceptions=False) as client:
        for query in QUERIES:
            answer = client.post("/v1/match", json={"text": query, "limit": 50})
            assert answer.status_code == 200, answer.text
            service = [(item["provider"]["id"], item["score"]) for item in answer.json()["items"]]
            expected = [(r.id, round(r.score, 6)) for r in harness.rank(query, limit=50)]
            assert service, f"no provider ranked for {query!r}: the comparison would prove nothing"
            assert service == expected, query
    assert len({i for i, _ in service}) > 1


NEEDS = [
    ["Ratify OPCAT", "Adopt a law on violence against women and girls"],
    ["Independent monitoring of places of deprivation of liberty", "Train prison staff on the rights of detainees"],
    ["Shelters for survivors of domestic violence", "Increase the participation of women in political life"],
]


def test_needs_on_unlabelled_recommendations_rank_alike(  # type: ignore[no-untyped-def]
    settings: Settings, engine: Engine, session: Session, tmp_path: Path
):
    """A need filed on recommendations imported without labels ranks as `need_as_filed` says it arrives."""
    own = settings.model_copy(update={"MODEL_DIR": tmp_path / "models"})
    tagger = write_tiny_tagger(theme_service.artifact_path(own))
    _, admin = make_key(session, "admin")
    _, mex = make_key(session, "state", state="MEX")
    profiles = json.loads(PROVIDERS.read_text(encoding="utf-8"))[:30]
    cited = [
        [make_recommendation(session, state_under_review="MEX", text=t, themes=[], theme_scheme=None).id for t in texts]
        for texts in NEEDS
    ]
    session.close()
    with TestClient(create_app(own, engine=engine), raise_server_exceptions=False) as client:
        ids = []
        for p in profiles:
            body = {"name": p["name"], "kind": p["kind"], "description": p["description"]}
            ids.append(client.post("/v1/providers", headers=auth(admin), json=body).json()["id"])
    model = tagger["upr_info_issues"]
    harness = ServiceRanking(
        ids,
        [provider_text(p["name"], None, p["description"], []) for p in profiles],
        model,
        space=ranking_space(model),  # the service's: read with the demo example profiles
    )
    # A worker that starts now fits its provider index on all of them, as the harness does.
    with TestClient(create_app(own, engine=engine), raise_server_exceptions=False) as client:
        for number, (texts, rec_ids) in enumerate(zip(NEEDS, cited, strict=True)):
            need = client.post(
                "/v1/needs", headers=auth(mex), json={"title": f"Need {number}", "recommendation_ids": rec_ids}
            ).json()
            assert need["themes"] == [], "unlabelled recommendations must not declare themes"
            answer = client.get(f"/v1/needs/{need['id']}/matches", params={"limit": 50}, headers=auth(mex))
            assert answer.status_code == 200, answer.text
            service = [(item["provider"]["id"], item["score"]) for item in answer.json()["items"]]
            filed = need_as_filed("MEX", texts, title=f"Need {number}")
            expected = [(r.id, round(r.score, 6)) for r in harness.rank(filed.text, limit=50, prefs=filed.prefs)]
            assert service and service == expected, texts


@pytest.mark.parametrize("query", ["", "   "])
def test_a_blank_query_without_a_tagger_ranks_nothing(query: str) -> None:
    ranking = ServiceRanking(["a"], ["Prevention of torture"])
    assert ranking.rank(query) == []  # no words and no tagger: nothing to compare
