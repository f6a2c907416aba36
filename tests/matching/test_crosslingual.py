"""French and Spanish read in English (matching/crosslingual.py): English untouched, the lexicon's file, the ranking."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from evaluation.quality import ServiceRanking
from matching.crosslingual import CrossLingual, Lexicon, LexiconError, detect_language
from matching.theme_space import ThemeSpace, service_space
from tests.tagging import write_tiny_tagger

LEXICON = Lexicon(
    {
        "es": {
            "tortura": "torture",
            "prevencion": "prevention",
            "lugares": "places",
            "privacion": "deprivation",
            "libertad": "liberty",
            "mujeres": "women",
            "violencia": "violence",
            "contra": "against",
        },
        "fr": {"torture": "torture", "femmes": "women", "violence": "violence", "lieux": "places"},
    }
)

ENGLISH = [
    "Establish a juvenile judiciary",  # the detector's closest call on the shared data (Spanish at 0.65)
    "Ratify the Optional Protocol to the Convention against Torture and establish a national preventive mechanism",
    "Adopt a law on violence against women and girls and open shelters for survivors of domestic violence",
    "Guarantee birth registration for all children, including refugees",
    "Ratify OPCAT",
]


@pytest.mark.parametrize("text", ENGLISH)
def test_english_is_read_exactly_as_written(text: str) -> None:
    assert CrossLingual(LEXICON).english(text) == text


def test_spanish_and_french_words_become_english_and_unknown_words_stay() -> None:
    reader = CrossLingual(LEXICON)
    language, english = reader.read("Prevención de la tortura en los lugares de privación de libertad (OPCAT)")
    assert language == "es"
    assert english == "prevention de la torture en los places de deprivation de liberty (OPCAT)"
    assert reader.origin(english) == "es"
    assert reader.read("La violence contre les femmes dans les lieux de détention")[1].split()[1:5] == [
        "violence",
        "contre",
        "les",
        "women",
    ]


def test_a_form_the_lexicon_lacks_is_found_by_its_stem() -> None:
    assert LEXICON.translate("es", "torturas y violencias") == "torture y violence"


def test_detection_needs_three_words() -> None:
    assert detect_language("Tortura") is None
    assert detect_language("Prevención de la tortura") == "es"


def test_the_lexicon_file_round_trips_and_a_bad_one_names_itself(tmp_path: Path) -> None:
    path = LEXICON.save(tmp_path / "lexicon.json.gz")
    assert Lexicon.load(path).words == LEXICON.words
    assert Lexicon.load(path).digest == LEXICON.digest
    bad = tmp_path / "bad.json.gz"
    bad.write_bytes(gzip.compress(b'{"words": {"es": {"tortura": 1}}}'))
    with pytest.raises(LexiconError, match="bad.json.gz"):
        Lexicon.load(bad)
    (tmp_path / "torn.json.gz").write_bytes(b"not gzip")
    with pytest.raises(LexiconError, match="torn.json.gz"):
        Lexicon.load(tmp_path / "torn.json.gz")


def test_the_recipe_names_the_lexicon_only_when_there_is_one() -> None:
    assert ThemeSpace().recipe == ThemeSpace(reader=None).recipe
    assert ThemeSpace(reader=CrossLingual(LEXICON)).recipe.endswith(f";lexicon={LEXICON.digest}")


def test_a_spanish_query_ranks_as_its_english_original(tmp_path: Path) -> None:
    model = write_tiny_tagger(tmp_path / "tagger.joblib")["upr_info_issues"]
    ids = ["apt", "women"]
    texts = ["Prevention of torture in places of deprivation of liberty", "Ending violence against women"]
    plain = ServiceRanking(ids, texts, model, space=service_space(model))
    read = ServiceRanking(ids, texts, model, space=service_space(model, reader=CrossLingual(LEXICON)))
    spanish = "Prevención de la tortura en los lugares de privación de libertad"
    english = "Prevention of torture in places of deprivation of liberty"
    assert [r.id for r in read.rank(spanish)][0] == "apt"
    as_written = max((r.score for r in plain.rank(spanish) if r.id == "apt"), default=0.0)
    assert read.rank(spanish)[0].score > as_written  # read in English, the torture body fits better
    assert [(r.id, r.score) for r in read.rank(english)] == [(r.id, r.score) for r in plain.rank(english)]
