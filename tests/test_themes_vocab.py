"""The controlled vocabulary of themes and affected persons (app/reference/themes.json) and its check script."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from app.reference import themes as vocab
from app.reference.themes import label_key

ROOT = Path(__file__).resolve().parent.parent
UPR_INFO_ISSUES = 54


def _data() -> dict[str, object]:
    return json.loads(vocab.THEMES_FILE.read_text(encoding="utf-8"))


def assert_no_near_duplicates(labels: list[str], where: str) -> None:
    """No two labels of a list people see differ only by case, "&"/"and", punctuation or spacing."""
    seen: dict[str, str] = {}
    for label in labels:
        key = label_key(label)
        assert key not in seen or seen[key] == label, f"{where}: {seen.get(key)!r} and {label!r} only spelled apart"
        seen[key] = label
    assert len(set(labels)) == len(labels), f"{where}: a label is listed twice"


def test_the_controlled_lists_have_one_spelling_per_label() -> None:
    assert_no_near_duplicates([t.label for t in vocab.controlled_themes()], "controlled themes")
    assert_no_near_duplicates(list(vocab.affected_persons()), "affected persons")


def test_every_code_of_the_mapping_is_in_the_controlled_list_and_every_row_says_how() -> None:
    data = _data()
    codes = {t.code for t in vocab.controlled_themes()}
    for row in data["mapping"]:  # type: ignore[attr-defined]
        assert row["codes"] and set(row["codes"]) <= codes, row
        assert row["method"] in ("code in the OHCHR matrix", "same subject", "judgement"), row
        assert row["method"] != "judgement" or row.get("note"), f"a judgement says why: {row}"
    for theme in vocab.controlled_themes():
        assert theme.source in ("matrix", "uhri") and theme.group.startswith(theme.code[0])
    assert set(vocab.affected_persons()) >= {g for r in data["affected_persons_mapping"] for g in r["to"]}  # type: ignore[attr-defined]


def test_each_upr_info_issue_maps_to_controlled_codes() -> None:
    issues = [r for r in _data()["mapping"] if r["scheme"] == "upr_info_issues"]  # type: ignore[attr-defined]
    assert len(issues) == UPR_INFO_ISSUES
    assert vocab.theme_codes("International instruments") == ("A12",)
    assert "D25" in vocab.theme_codes("Torture and other CID treatment")


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("Budget &resources (for human rights implementation)", "Budget & resources (for human rights implementation)"),
        ("Constitutional and legislative framework", "Constitutional & legislative framework"),
        ("  Equality   & non-discrimination ", "Equality & non-discrimination"),
        # The ranking scheme's labels (the tagger's classes) keep their spelling.
        ("Freedom of opinion and expression", "Freedom of opinion and expression"),
        ("NHRI", "NHRI"),
        ("Something new  &else", "Something new & else"),
        # A matrix prints the code first: stored as that code's controlled label.
        ("A12 Acceptance of international norms", "Acceptance of international norms"),
        ("D51 Administration of justice & fair trial", "Administration of justice & fair trial"),
        # A code the list does not have is not a code: the label stays.
        ("Z9 Not a code", "Z9 Not a code"),
    ],
)
def test_labels_are_stored_in_one_spelling(given: str, stored: str) -> None:
    assert vocab.theme_label(given) == stored


def test_filter_values_resolve_to_codes_whatever_the_spelling() -> None:
    assert vocab.resolve_theme("a12") == ("A12",)
    assert vocab.resolve_theme("Acceptance of international norms") == ("A12",)
    assert vocab.resolve_theme("international INSTRUMENTS") == ("A12",)
    assert vocab.resolve_theme("Budget and resources (for human rights implementation)") == ("A63",)
    assert vocab.resolve_theme("Not a theme") == ("Not a theme",)
    assert vocab.resolve_theme("A12 Acceptance of international norms") == ("A12",)
    assert vocab.resolve_theme("F31 Children: definition; general principles; protection") == ("F31",)
    assert vocab.shown_themes(["NHRI", "National Human Rights Institution (NHRI)"]) == [
        "National Human Rights Institution (NHRI)"
    ]


def test_affected_persons_collapse_their_variants() -> None:
    assert vocab.affected_groups(["Women", "women", "Women & girls"]) == ["Women", "Girls"]
    assert vocab.affected_groups(["minorities/ racial, ethnic, linguistic, religious or descent-based groups"]) == [
        "Minorities / racial, ethnic, linguistic, religious or descent-based groups"
    ]
    assert vocab.affected_groups(["judges, lawyers and prosecutors"]) == ["Judges, lawyers & prosecutors"]
    assert vocab.affected_groups(["new group"]) == ["New group"]


def _row(rid: str, source: str, text: str, themes: list[str], **extra: object) -> str:
    record = {
        "id": rid,
        "source": source,
        "state_under_review_iso3": "SVN",
        "session": 20,
        "text": text,
        "themes": themes,
        "theme_scheme": "upr_info_issues" if source.startswith("upr_info") else "uhri_legacy_coded",
        "affected_groups": extra.pop("groups", []),
        "overlaps_other_source": source.startswith("upr_info"),
    }
    return json.dumps(record)


def test_the_check_script_reports_counts_and_agreement_on_a_slice(tmp_path: Path) -> None:
    lines = [
        _row("u1", "upr_info_via_terman", "Ratify the OP-CAT", ["International instruments"]),
        _row("o1", "ohchr_thematic_list_slovenia", "Ratify the OP-CAT.", ["Acceptance of international norms"]),
        _row("u2", "upr_info_via_terman", "Abolish the death penalty", ["Other"]),
        _row("o2", "ohchr_thematic_list_slovenia", "Abolish the Death penalty", ["Right to life"], groups=["women"]),
        _row("u3", "upr_info_via_terman", "Train the police", ["Human rights education and training"]),
        _row(
            "o3",
            "ohchr_thematic_list_slovenia",
            "Train the police",
            ["Human rights education - General"],
            groups=["Women"],
        ),
        _row("u4", "upr_info_via_terman", "A recommendation without a twin", ["Justice"]),
    ]
    data = tmp_path / "slice.jsonl"
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks/theme_mapping.py"), "--file", str(data)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    # 7 labels as spelled -> A12 (twice), A42, D21, A5/A51/A53/A54 (A51 twice), D51: 8 controlled.
    assert "theme labels: 7 distinct as the sources spell them -> 8 controlled" in out
    assert "affected persons: 2 distinct as the sources spell them -> 1 controlled" in out
    assert "4 UPR Info records flagged, 3 paired with their OHCHR twin" in out
    assert "share a code:    2 of 3 (67%)" in out
    assert "share a heading: 2 of 3 (67%)" in out
    assert "UPR Info 'Other' ['A42'] vs OHCHR 'Right to life' ['D21']" in out
