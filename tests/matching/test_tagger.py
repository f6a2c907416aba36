"""The theme tagger on small literal corpora: learning, thresholds, persistence, errors."""

from __future__ import annotations

import json
from pathlib import Path

import joblib
import numpy as np
import pytest

from matching.schemes import Labelled, MultiSchemeTagger
from matching.tagger import (
    FORMAT_VERSION,
    IncompatibleArtifactError,
    TaggerArtifactError,
    ThemeTagger,
    normalize_text,
)

# A trivially separable toy set: each theme has its own vocabulary.
BASE = [
    ("Abolish the death penalty and commute all death sentences", ["Death penalty"]),
    ("Establish a moratorium on executions with a view to abolishing capital punishment", ["Death penalty"]),
    ("Ratify the OPCAT and set up a national preventive mechanism against torture", ["Torture"]),
    ("Investigate all allegations of torture and ill-treatment by police", ["Torture"]),
    ("Ratify CEDAW and combat violence against women and girls", ["Women"]),
    ("Adopt a law on domestic violence protecting women", ["Women"]),
    ("Guarantee free primary education for all children in schools", ["Education"]),
    ("Increase the education budget and build schools in rural areas", ["Education"]),
    ("Prevent torture of women in detention and investigate it", ["Torture", "Women"]),
]
STATES = ["AAA", "BBB", "CCC", "DDD", "EEE", "FFF"]
TEXTS = [f"{text} ({state})" for state in STATES for text, _ in BASE]
LABELS = [labels for _ in STATES for _, labels in BASE]
GROUPS = [state for state in STATES for _ in BASE]


@pytest.fixture(scope="module")
def tagger() -> ThemeTagger:
    # 54 texts, 3 group folds: out-of-fold Platt scaling and thresholds are exercised
    return ThemeTagger(n_jobs=1, calibration_folds=3, min_df=1).fit(TEXTS, LABELS, groups=GROUPS)


def test_normalize_text_folds_accents_and_keeps_acronyms() -> None:
    assert normalize_text("Ratifier l'OPCAT en Côte d’Ivoire") == "ratifier l'opcat en cote d'ivoire"
    assert normalize_text("São  Tomé\nand Príncipe") == "sao tome and principe"


def test_learns_a_separable_toy_set(tagger: ThemeTagger) -> None:
    assert tagger.classes_ == ["Death penalty", "Education", "Torture", "Women"]
    queries = [
        "abolish capital punishment and the death penalty",
        "a national preventive mechanism under OPCAT against torture",
        "free education in rural schools",
        "violence against women and girls",
    ]
    assert [p[0] for p in tagger.predict(queries)] == ["Death penalty", "Torture", "Education", "Women"]
    proba = tagger.proba_matrix(queries)
    assert proba.shape == (4, 4)
    assert ((proba >= 0) & (proba <= 1)).all()
    assert list(proba.argmax(axis=1)) == [0, 2, 1, 3]


def test_fast_features_match_scikit_learn(tagger: ThemeTagger) -> None:
    import scipy.sparse as sp

    texts = ["Ratify the OPCAT, ratify it!", "", "zzz unknown", "Prévenir la torture des femmes"]
    ours = tagger._transform(texts)
    reference = sp.hstack([v.transform(texts) for v in tagger.vectorizers_], format="csr")
    assert ours.shape == reference.shape
    np.testing.assert_allclose(ours.toarray(), reference.toarray(), atol=1e-6)


def test_predict_proba_is_sorted_and_aligned_with_proba_matrix(tagger: ThemeTagger) -> None:
    ranked = tagger.predict_proba(["investigate torture in detention"])[0]
    scores = [p for _, p in ranked]
    assert scores == sorted(scores, reverse=True)
    assert {label for label, _ in ranked} == set(tagger.classes_)
    matrix = tagger.proba_matrix(["investigate torture in detention"])[0]
    assert dict(ranked) == pytest.approx(dict(zip(tagger.classes_, matrix, strict=True)))
    assert len(tagger.predict_proba(["x", "y"], top=2)[1]) == 2


def test_threshold_and_min_labels(tagger: ThemeTagger) -> None:
    # threshold 1.0 keeps only the guaranteed top label; threshold 0 keeps every label
    assert len(tagger.predict(["unrelated words about nothing"], threshold=1.0)[0]) == 1
    assert len(tagger.predict(["unrelated words"], threshold=0.0)[0]) == 4
    assert tagger.thresholds_.shape == (4,)
    assert tagger.metadata_["metrics"]["calibration"] == "group_kfold"


def test_empty_batch(tagger: ThemeTagger) -> None:
    assert tagger.predict([]) == []
    assert tagger.predict_proba([]) == []
    assert tagger.proba_matrix([]).shape == (0, 4)


def test_rejects_a_single_string(tagger: ThemeTagger) -> None:
    with pytest.raises(TypeError):
        tagger.predict("abolish the death penalty")  # type: ignore[arg-type]


def test_unfitted_and_invalid_input() -> None:
    with pytest.raises(RuntimeError):
        ThemeTagger().predict(["x"])
    with pytest.raises(ValueError):
        ThemeTagger().fit(["a", "b"], [["x"]])
    with pytest.raises(TypeError):
        ThemeTagger(model="sgd")  # type: ignore[call-arg]  # one model ships: LinearSVC


def test_rare_labels_are_dropped_and_reported() -> None:
    labels = [list(lab) for lab in LABELS]
    labels[0] = labels[0] + ["Once"]
    tagger = ThemeTagger(calibration_folds=0, n_jobs=1, min_df=1).fit(TEXTS, labels)
    assert "Once" not in tagger.classes_
    assert tagger.dropped_labels_ == ["Once"]


def test_artifacts_of_earlier_releases_load_when_they_used_the_shipped_variant(
    tagger: ThemeTagger, tmp_path: Path
) -> None:
    path = tagger.save(tmp_path / "tagger.joblib")
    payload = joblib.load(path)
    payload["state"]["params"].update(model="svc", threshold_shrinkage=None, min_positives_to_tune=10)
    joblib.dump(payload, path)
    (tmp_path / "tagger.joblib.json").unlink()  # the checksum no longer matches the edited pickle
    old = ThemeTagger.load(path)
    np.testing.assert_array_equal(old.proba_matrix(["torture"]), tagger.proba_matrix(["torture"]))
    payload["state"]["params"]["model"] = "sgd"
    joblib.dump(payload, path)
    with pytest.raises(IncompatibleArtifactError, match="model='sgd'"):
        ThemeTagger.load(path)


def test_save_load_round_trip_gives_identical_probabilities(tagger: ThemeTagger, tmp_path: Path) -> None:
    path = tagger.save(tmp_path / "tagger.joblib")
    meta = json.loads((tmp_path / "tagger.joblib.json").read_text())
    for key in ("version", "scheme", "n_train", "data_sha256", "trained_at", "metrics", "sklearn_version"):
        assert key in meta
    assert meta["format_version"] == FORMAT_VERSION
    assert meta["n_train"] == len(TEXTS)
    loaded = ThemeTagger.load(path)
    queries = ["torture of women in detention", "schools", "ça n'a rien à voir"]
    np.testing.assert_array_equal(loaded.proba_matrix(queries), tagger.proba_matrix(queries))
    assert loaded.predict(queries) == tagger.predict(queries)
    assert loaded.classes_ == tagger.classes_
    assert loaded.metadata_["version"] == tagger.metadata_["version"]


def test_version_depends_on_data_and_params() -> None:
    a = ThemeTagger(calibration_folds=0, n_jobs=1, min_df=1).fit(TEXTS, LABELS)
    b = ThemeTagger(calibration_folds=0, n_jobs=2, min_df=1).fit(TEXTS, LABELS)
    c = ThemeTagger(calibration_folds=0, n_jobs=1, min_df=1, C=2.0).fit(TEXTS, LABELS)
    d = ThemeTagger(calibration_folds=0, n_jobs=1, min_df=1).fit(TEXTS[:-1], LABELS[:-1])
    assert a.metadata_["version"] == b.metadata_["version"]
    assert len({a.metadata_["version"], c.metadata_["version"], d.metadata_["version"]}) == 3


def test_load_missing_file(tmp_path: Path) -> None:
    with pytest.raises(TaggerArtifactError, match="no such artifact"):
        ThemeTagger.load(tmp_path / "nope.joblib")


def test_load_corrupted_artifact_is_detected_by_checksum(tagger: ThemeTagger, tmp_path: Path) -> None:
    path = tagger.save(tmp_path / "tagger.joblib")
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(TaggerArtifactError, match="checksum"):
        ThemeTagger.load(path)


def test_load_truncated_artifact_without_sidecar(tagger: ThemeTagger, tmp_path: Path) -> None:
    path = tagger.save(tmp_path / "tagger.joblib")
    (tmp_path / "tagger.joblib.json").unlink()
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(TaggerArtifactError, match="cannot read"):
        ThemeTagger.load(path)


def test_load_garbage_and_foreign_pickles(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.joblib"
    garbage.write_bytes(b"this is not a pickle")
    with pytest.raises(TaggerArtifactError):
        ThemeTagger.load(garbage)
    foreign = tmp_path / "foreign.joblib"
    joblib.dump({"something": "else"}, foreign)
    with pytest.raises(TaggerArtifactError, match="not a"):
        ThemeTagger.load(foreign)


def test_load_incompatible_format_version(tagger: ThemeTagger, tmp_path: Path) -> None:
    # in the sidecar: refused before unpickling
    path = tagger.save(tmp_path / "tagger.joblib")
    sidecar = tmp_path / "tagger.joblib.json"
    meta = json.loads(sidecar.read_text())
    meta["format_version"] = FORMAT_VERSION + 1
    sidecar.write_text(json.dumps(meta))
    with pytest.raises(IncompatibleArtifactError, match="format_version"):
        ThemeTagger.load(path)
    # in the pickle itself (no sidecar)
    sidecar.unlink()
    payload = joblib.load(path)
    payload["format_version"] = 0
    joblib.dump(payload, path)
    with pytest.raises(IncompatibleArtifactError):
        ThemeTagger.load(path)
    assert issubclass(IncompatibleArtifactError, TaggerArtifactError)
    assert issubclass(TaggerArtifactError, ValueError)


def test_multi_scheme_trains_schemes_with_enough_rows(tmp_path: Path) -> None:
    sdgs = [
        (text, ["SDG 16"] if "Torture" in labels else ["SDG 4"], group)
        for text, labels, group in zip(TEXTS, LABELS, GROUPS, strict=True)
        if "Torture" in labels or "Education" in labels
    ]
    data = {
        "upr_info_issues": Labelled(TEXTS, LABELS, GROUPS),
        "sdgs": Labelled([t for t, _, _ in sdgs], [lab for _, lab, _ in sdgs], [g for _, _, g in sdgs]),
        "uhri": Labelled(TEXTS[:5], LABELS[:5], GROUPS[:5]),
    }
    multi = MultiSchemeTagger(min_rows=20, min_positives=3, tagger_params={"n_jobs": 1, "min_df": 1}).fit(data)
    assert multi.schemes == ["upr_info_issues", "sdgs"]
    assert "uhri" in multi.skipped_
    assert multi["sdgs"].classes_ == ["SDG 16", "SDG 4"]
    assert multi.predict(["abolish the death penalty"])[0][0] == "Death penalty"
    path = multi.save(tmp_path / "multi.joblib")
    loaded = MultiSchemeTagger.load(path)
    np.testing.assert_array_equal(
        loaded.proba_matrix(["torture"], scheme="sdgs"), multi.proba_matrix(["torture"], scheme="sdgs")
    )
    with pytest.raises(KeyError):
        loaded["uhri"]
    with pytest.raises(TaggerArtifactError):
        ThemeTagger.load(path)  # a multi-scheme artifact is not a single tagger


def test_the_main_scheme_is_required() -> None:
    with pytest.raises(ValueError, match="upr_info_issues has only 5"):
        MultiSchemeTagger(min_rows=20).fit({"upr_info_issues": Labelled(TEXTS[:5], LABELS[:5], GROUPS[:5])})
