"""Country names and codes resolve to ISO3, including the UN and UPR Info spellings."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from app.core.config import Settings
from app.reference.countries import normalise_name, resolve_iso3

DATA = Settings(_env_file=None).UPR_DATA_DIR  # type: ignore[call-arg]
SAMPLE = DATA / "samples" / "upr-info-export-sessions-6-9-sample.csv"
JSONL = DATA / "recommendations.jsonl"


@pytest.mark.parametrize(
    ("name", "iso3"),
    [
        ("DPR Korea", "PRK"),
        ("Democratic People’s Republic of Korea", "PRK"),
        ("Republic of Korea", "KOR"),
        ("Macedonia FYR", "MKD"),
        ("the former Yugoslav Republic of Macedonia", "MKD"),
        ("Bosnia & Herzegovina", "BIH"),
        ("St Kitts & Nevis", "KNA"),
        ("St Lucia", "LCA"),
        ("Holy See", "VAT"),
        ("State of Palestine", "PSE"),
        ("Micronesia (Federated States of)", "FSM"),
        ("Türkiye", "TUR"),
        ("Turkey", "TUR"),
        ("Netherlands (Kingdom of the)", "NLD"),
        ("Iran (Islamic Republic of)", "IRN"),
        ("Syria", "SYR"),
        ("Venezuela (Bolivarian Republic of)", "VEN"),
        ("Bolivia (Plurinational State of)", "BOL"),
        ("Côte d'Ivoire", "CIV"),
        ("Côte d’Ivoire", "CIV"),
        ("Cote d&#39;Ivoire", "CIV"),
        ("Lao PDR", "LAO"),
        ("Democratic Republic of Congo", "COD"),
        ("Republic of Congo", "COG"),
        ("Timor- Leste", "TLS"),
        ("Guinea Bissau", "GNB"),
        ("Cape Verde", "CPV"),
        ("Swaziland", "SWZ"),
        ("The Bahamas", "BHS"),
        ("France", "FRA"),
        ("FRA", "FRA"),
        ("FR", "FRA"),
        ("fra", "FRA"),
        ("  united kingdom  ", "GBR"),
    ],
)
def test_resolve_iso3_known_spellings(name: str, iso3: str) -> None:
    assert resolve_iso3(name) == iso3


@pytest.mark.parametrize("name", ["(Unknown)", "", "   ", "Atlantis", "XXX", "Congo-ish", "European Union"])
def test_resolve_iso3_unknown_is_none(name: str) -> None:
    assert resolve_iso3(name) is None


def test_normalise_name_folds_accents_ampersand_and_saint() -> None:
    assert normalise_name("St Kitts & Nevis") == normalise_name("Saint Kitts and Nevis")
    assert normalise_name("Côte d’Ivoire") == "cote d ivoire"


@pytest.mark.skipif(not SAMPLE.exists(), reason=f"UPR Info sample not found at {SAMPLE}")
def test_every_state_in_the_upr_info_sample_resolves() -> None:
    text = SAMPLE.read_bytes().decode("mac_roman")
    names: set[str] = set()
    for row in csv.DictReader(io.StringIO(text, newline="")):
        names.add(row["To"].strip())
        names.update(n.strip() for n in re.split(r"\s+-\s+", row["From"].strip()))
    unresolved = sorted(n for n in names if resolve_iso3(n) is None)
    assert unresolved == []
    assert len(names) > 100


@pytest.mark.skipif(not JSONL.exists(), reason=f"shared data not found at {JSONL}")
def test_every_name_in_the_shared_file_resolves_to_its_iso3() -> None:
    pairs: set[tuple[str, str]] = set()
    with JSONL.open(encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            pairs.add((r["state_under_review"], r["state_under_review_iso3"]))
            pairs.update(zip(r["recommending_states"], r["recommending_states_iso3"], strict=True))
    wrong = sorted((n, i, resolve_iso3(n)) for n, i in pairs if resolve_iso3(n) != i)
    assert wrong == []
