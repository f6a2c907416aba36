"""The theme tagger and the UHRI: its rows without themes get predicted UPR Info issues; its themes are learnt."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.core.config import Settings
from app.models.recommendation import Recommendation
from app.services import recommendations as recommendation_service
from app.services import themes as theme_service
from matching.schemes import MultiSchemeTagger
from tests.api.test_themes import tagged_client  # noqa: F401  (the app with a tiny trained tagger)
from tests.factories import auth, make_key
from tests.tagging import TORTURE


def uhri(n: int, text: str, themes: list[str]) -> dict[str, Any]:
    return {
        "AnnotationId": f"cccccccc-0000-4000-8000-{n:012d}",
        "Body": "- UPR",
        "AnnotationType": "- Recommendations",
        "Countries": ["Slovenia"],
        "UprSession": ["48"],
        "UprPositions": ["Supported"],
        "UprRecommendingCountry": ["Norway"],
        "Text": f"{n}.1 {text} (Norway);",
        "Themes": themes,
    }


def test_uhri_rows_without_themes_get_predicted_issues(tagged_client: TestClient, session: Session) -> None:  # noqa: F811
    _row, key = make_key(session, role="admin")
    records = [uhri(1, "Ratify OPCAT", []), uhri(2, "Ratify OPCAT", ["Torture and other cruel treatment"])]
    r = tagged_client.post(
        "/v1/recommendations/import",
        content=json.dumps(records).encode(),
        headers={**auth(key), "Content-Type": "application/json"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["themes_predicted"] == 1
    session.rollback()
    predicted = session.get(Recommendation, "uhri-cccccccc-0000-4000-8000-000000000001")
    human = session.get(Recommendation, "uhri-cccccccc-0000-4000-8000-000000000002")
    assert predicted is not None and human is not None
    assert (predicted.themes, predicted.theme_scheme, predicted.themes_predicted) == (
        [TORTURE],
        "upr_info_issues",
        True,
    )
    assert (human.themes, human.theme_scheme, human.themes_predicted) == (
        ["Torture and other cruel treatment"],
        "uhri",
        False,
    )


def _import(session: Session, tmp_path: Path, records: list[dict[str, Any]]) -> None:
    path = tmp_path / "export.json"
    path.write_text(json.dumps(records), encoding="utf-8")
    recommendation_service.import_recommendations(session, file=path, fmt="uhri", max_rows=1000)


def test_imported_uhri_themes_join_the_training_data(
    session: Session, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    labels = {"prison": "Detention", "women": "Women & girls rights"}
    texts = [(f"Improve conditions in prison number {n}", "prison") for n in range(8)]
    texts += [(f"Protect women against violence, measure {n}", "women") for n in range(8)]
    _import(session, tmp_path, [uhri(n, text, [labels[kind]]) for n, (text, kind) in enumerate(texts)])
    known = ["Improve conditions in prison number 0"]  # already in the training file: not learnt twice
    found = theme_service.imported_uhri_records(session, known)
    assert len(found) == 15 and {r["theme_scheme"] for r in found} == {"uhri"}
    assert len(theme_service.imported_uhri_records(session, known, limit=4)) == 4

    data = tmp_path / "train.jsonl"
    main_rows = [
        {"id": f"m{n}", "text": text, "themes": [label], "theme_scheme": "upr_info_issues"}
        for n, (text, label) in enumerate([("Ratify OPCAT now", TORTURE), ("Shelters for women", "Women's rights")] * 6)
    ]
    data.write_text("\n".join(json.dumps(r) for r in main_rows) + "\n", encoding="utf-8")
    small = {"min_rows": 10, "min_positives": 3, "tagger_params": {"n_jobs": 1, "min_df": 1, "calibration_folds": 0}}
    monkeypatch.setattr(theme_service, "MultiSchemeTagger", lambda **kw: MultiSchemeTagger(**kw, **small))
    own = settings.model_copy(update={"MODEL_DIR": tmp_path / "models"})
    tagger, _path, info = theme_service.train(own, data_file=data, session=session)
    assert info["imported_uhri_rows"] == 16
    assert "uhri" in tagger.schemes
    assert tagger["uhri"].predict(["Improve conditions in prison number 42"])[0] == ["Detention"]
    _, _, alone = theme_service.train(own, data_file=data)
    assert alone["imported_uhri_rows"] == 0 and alone["data_sha256"] != info["data_sha256"]


def test_training_reads_the_database_only_once_it_is_migrated(settings: Settings, tmp_path: Path) -> None:
    from app.commands.themes import _reading_session

    with _reading_session(settings) as session:
        assert session is not None  # the test database is migrated
    empty = settings.model_copy(update={"DATABASE_URL": f"sqlite:///{tmp_path / 'new.db'}"})
    with _reading_session(empty) as session:
        assert session is None
