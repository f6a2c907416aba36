"""Training the theme tagger from the shared data's records: which labels a record has in each scheme."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.core.config import Settings
from app.services import themes as theme_service
from app.services.themes import labelled_by_scheme, labels_for_scheme

TOPICS = {
    "Death penalty": "Abolish the death penalty and commute death sentences",
    "Torture and other CID treatment": "Ratify the OPCAT and prevent torture in detention",
    "Women's rights": "Combat violence against women and girls",
}


def test_labels_for_scheme() -> None:
    record = {
        "theme_scheme": "upr_info_issues",
        "themes": ["Detention"],
        "sdgs": [],
        "affected_groups": ["Children", "children ", "Women"],
    }
    assert labels_for_scheme(record, "upr_info_issues") == ["Detention"]
    assert labels_for_scheme(record, "uhri") is None
    assert labels_for_scheme(record, "sdgs") is None
    assert labels_for_scheme({"sdgs": [5, 16]}, "sdgs") == ["SDG 5", "SDG 16"]
    assert labels_for_scheme(record, "affected_groups") == ["children", "women"]
    with pytest.raises(ValueError):
        labels_for_scheme(record, "nope")


def test_records_are_grouped_per_scheme_with_their_state() -> None:
    records = [
        {"text": "a", "theme_scheme": "uhri", "themes": ["Right to health"], "state_under_review_iso3": "SVN"},
        {"text": "b", "theme_scheme": "upr_info_issues", "themes": ["Torture"], "sdgs": [16]},
        {"text": "", "theme_scheme": "upr_info_issues", "themes": ["Torture"]},  # no text: not a training row
    ]
    found = labelled_by_scheme(records, ["upr_info_issues", "uhri", "sdgs"])
    assert list(found["uhri"].texts) == ["a"] and list(found["uhri"].groups) == ["SVN"]
    assert list(found["upr_info_issues"].labels) == [["Torture"]]
    assert list(found["sdgs"].labels) == [["SDG 16"]]


def test_train_writes_an_artifact_the_service_loads(tmp_path: Path) -> None:
    rows = [
        {
            "id": f"r{i}",
            "text": f"{text} (case {i})",
            "theme_scheme": "upr_info_issues",
            "themes": [theme],
            "state_under_review_iso3": f"S{i % 12:02d}",
        }
        for i in range(80)
        for theme, text in TOPICS.items()
    ]
    data = tmp_path / "recommendations.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    settings = Settings(MODEL_DIR=tmp_path / "models", _env_file=None)  # type: ignore[call-arg]
    _, path, info = theme_service.train(settings, data_file=data)
    assert path == theme_service.artifact_path(settings) and path.is_file()
    assert set(info["skipped"]) == {"uhri", "uhri_legacy_coded", "sdgs", "affected_groups"}
    loaded = theme_service.load(settings)
    assert loaded is not None and loaded.schemes == ["upr_info_issues"]
    answer = theme_service.classify(
        loaded, text="an end to executions and the death penalty", scheme="upr_info_issues", top=1
    )
    assert answer["themes"][0]["theme"] == "Death penalty"
