"""Tests for :mod:`matching.preprocessing`."""

from __future__ import annotations

import pytest

from matching.preprocessing import (
    ENGLISH_STOP_WORDS,
    UPR_BOILERPLATE,
    Analyzer,
    fold_accents,
    resolve_stop_words,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ratify the OPCAT", ["ratifi", "opcat"]),
        ("CEDAW and ICERD", ["cedaw", "icerd"]),
        ("Strengthen NHRIs in line with the Paris Principles", ["nhri", "pari", "principl"]),
        ("tortured torture torturing", ["tortur", "tortur", "tortur"]),
        ("Security Council resolution 1325 (2000)", ["secur", "council", "resolut", "1325", "2000"]),
        ("reach 2.5 per cent and 1,000 teachers", ["reach", "2.5", "cent", "1,000", "teacher"]),
        ("women's rights", ["women", "right"]),
        ("non-discrimination", ["non", "discrimin"]),
        ("COVID-19 response", ["covid", "19", "respons"]),
        ("", []),
        ("   ", []),
    ],
)
def test_analyze(text: str, expected: list[str]) -> None:
    assert Analyzer().analyze(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Continue its efforts to take all necessary measures to ensure further steps",
        "Consider intensifying efforts, including appropriate steps, in the State",
        "Pursue and strengthen the measures adopted by the country",
    ],
)
def test_boilerplate_only_text_has_no_terms(text: str) -> None:
    assert Analyzer().analyze(text) == []


def test_boilerplate_keeps_content_words_sharing_a_stem() -> None:
    # "adopt" is boilerplate, "adoption" (of children) is content
    assert Analyzer().analyze("adopt adoption measures measurement") == ["adopt", "measur"]


@pytest.mark.parametrize(("a", "b"), [("Côte d'Ivoire", "cote d'ivoire"), ("Türkiye", "turkiye")])
def test_accent_folding(a: str, b: str) -> None:
    assert Analyzer().analyze(a) == Analyzer().analyze(b)


def test_accents_kept_when_disabled() -> None:
    assert Analyzer(strip_accents=False, stem=False).analyze("Côte") == ["côte"]


def test_fold_accents() -> None:
    assert fold_accents("Åland, São Tomé") == "Aland, Sao Tome"


def test_no_stemming() -> None:
    assert Analyzer(stem=False).analyze("tortured girls") == ["tortured", "girls"]


@pytest.mark.parametrize(
    ("stop_words", "kept"),
    [("upr", []), ("english", ["continu"]), (None, ["continu", "the"]), (["continue"], ["the"])],
)
def test_stop_word_options(stop_words: object, kept: list[str]) -> None:
    assert Analyzer(stop_words=stop_words).analyze("continue the") == kept  # type: ignore[arg-type]


def test_unknown_stop_words_name() -> None:
    with pytest.raises(ValueError, match="stop_words must be 'upr', 'english'.*got 'french'"):
        resolve_stop_words("french")


def test_spans_point_into_normalized_text() -> None:
    norm, spans = Analyzer().analyze_spans("Prévenir la torture")
    assert [norm[s:e] for _, s, e in spans] == ["Prevenir", "la", "torture"]


def test_boilerplate_is_not_in_english_list_only() -> None:
    assert "continue" in UPR_BOILERPLATE and "continue" not in ENGLISH_STOP_WORDS
    assert "system" not in ENGLISH_STOP_WORDS  # content word kept (unlike scikit-learn)
