"""Explanations a diplomat can read: phrases, ticks and bands, from the match service's structured explanation."""

from __future__ import annotations

import pytest

from app.reference.languages import language_code
from app.web.labels import first_sentence, label, state_name, theme_markup, theme_text
from app.web.reasons import GOOD, STRONG, band_of, meaningful_phrases, reasons

NEED_TEXT = (
    "Investigating torture complaints independently. Training and legal advice for an independent complaints "
    "mechanism. Set up a system for receiving and investigating torture or ill-treatment complaints, in accordance "
    "with the United Nations Convention against Torture. Ratify international instruments. Torture must be "
    "prevented; the authority accused creates a prompt review."
)
# Terms as the engine gives them on the demo data for this need (strongest first): the fragments of the issue.
ENGINE_TERMS = [
    "torture",
    "torture or ill",
    "ill",
    "instruments. torture",
    "nations",
    "authority",
    "creates",
    "prompt",
    "convention against torture",
    "complaints mechanism",
    "independent complaints",
    "ill-treatment",
]


def test_fragments_and_sentence_spanning_terms_are_dropped() -> None:
    shown = meaningful_phrases(ENGINE_TERMS, source=NEED_TEXT)
    for bad in ("torture or ill", "ill", "instruments. torture", "nations", "authority", "creates", "prompt"):
        assert bad not in shown
    assert len(shown) <= 3
    assert shown[0] == "convention against torture"  # replaces the shorter "torture" it contains


def test_no_phrase_shown_is_contained_in_another_or_in_a_theme() -> None:
    themes = ["Torture and other CID treatment"]
    shown = meaningful_phrases(ENGINE_TERMS, source=NEED_TEXT, themes=themes)
    assert "torture" not in shown
    for a in shown:
        assert not any(a != b and a in b for b in shown)
        assert a not in themes[0].lower()


def test_whole_words_only() -> None:
    assert meaningful_phrases(["ill"], source="Prevent ill-treatment.") == []
    assert meaningful_phrases(["treatment"], source="Prevent ill-treatment.") == []
    assert meaningful_phrases(["detention"], source="Monitor places of detention.") == ["detention"]


def test_phrases_with_a_stop_word_or_a_too_general_word_at_an_end_are_dropped() -> None:
    text = "Rights of the child. National human rights institution. Violence against women."
    shown = meaningful_phrases(["rights of the", "national human", "violence against women"], source=text)
    assert shown == ["violence against women"]


@pytest.mark.parametrize(
    ("score", "band"),
    [(0.9, "strong"), (STRONG, "strong"), (STRONG - 0.001, "good"), (GOOD, "good"), (0.1, "possible")],
)
def test_bands(score: float, band: str) -> None:
    assert band_of(score).name == band


def test_ticks_are_separate_and_in_words() -> None:
    r = reasons(
        score=0.42,
        themes=["Torture and other CID treatment"],
        terms=ENGINE_TERMS,
        signals={"text": 0.3, "theme": 0.5, "presence": 0.6, "language": 1.0, "modality": 0.5, "history": 1.0},
        source=NEED_TEXT,
        state="MEX",
        wanted_languages=["es", "en"],
        offered_languages=["es", "fr"],
        wanted_modalities=["training", "legal_review"],
        offered_modalities=["training"],
    )
    assert r.ticks == (
        "works in Mexico's region (Latin America and the Caribbean)",
        "works in Spanish",
        "offers training",
        "has cooperated with Mexico",
    )
    assert r.band.name == "strong" and r.band.label == "Strong match"


def test_a_signal_at_zero_gives_no_tick() -> None:
    r = reasons(
        score=0.1,
        themes=[],
        terms=[],
        signals={"presence": 0.0, "language": 0.0, "modality": 0.0},
        source="",
        state="MEX",
        wanted_languages=["es"],
        offered_languages=["fr"],
    )
    assert r.ticks == () and r.band.name == "possible"


def test_names_not_codes() -> None:
    assert state_name("MEX") == "Mexico"
    assert state_name("COD") == "Democratic Republic of the Congo"
    assert state_name("FSM") == "Federated States of Micronesia"
    assert language_code("Spanish") == "es" and language_code("sw") == "sw" and language_code("Klingon") is None
    assert label("international_organization") == "International organisation outside the UN"
    assert label("legal_review") == "Review of laws and policies"


def test_abbreviations_are_spelled_out_on_first_use() -> None:
    seen: set[str] = set()
    first = theme_markup("Torture and other CID treatment", seen)
    again = theme_markup("Torture and other CID treatment", seen)
    assert str(first) == "Torture and other cruel, inhuman or degrading (CID) treatment"
    assert str(again) == 'Torture and other <abbr title="cruel, inhuman or degrading">CID</abbr> treatment'
    assert theme_text("NHRI") == "National human rights institution (NHRI)"
    assert theme_text("National Human Rights Institution (NHRI)") == "National Human Rights Institution (NHRI)"


def test_first_sentence_of_a_description() -> None:
    text = "Trains judges on torture prevention. Also reviews laws."
    assert first_sentence(text) == "Trains judges on torture prevention."
    assert first_sentence("word " * 100).endswith("…") and len(first_sentence("word " * 100)) <= 241
