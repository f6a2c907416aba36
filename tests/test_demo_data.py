"""Checks on the demo reference data: provider profiles and the UN regional group map.

Run from the repository root:  python -m pytest tests/test_demo_data.py -q
"""

import csv
import json
import re
from collections import Counter
from pathlib import Path

import pycountry
import pytest

ROOT = Path(__file__).resolve().parents[1]
PROVIDERS = ROOT / "app" / "demo" / "providers.json"
REGIONAL_GROUPS = ROOT / "app" / "reference" / "un_regional_groups.json"
UN_ENTITIES_CSV = ROOT.parent / "shared" / "data" / "upr" / "un_entities.csv"

# The 54 UPR Info "issues", spelled exactly as in the UPR Info database.
UPR_INFO_LABELS = [
    "Asylum-seekers - refugees",
    "CP rights - general",
    "Civil society",
    "Corruption",
    "Counter-terrorism",
    "Death penalty",
    "Detention",
    "Development",
    "Disabilities",
    "ESC rights - general",
    "Elections",
    "Enforced disappearances",
    "Environment",
    "Extrajudicial executions",
    "Freedom of association and peaceful assembly",
    "Freedom of movement",
    "Freedom of opinion and expression",
    "Freedom of religion and belief",
    "Freedom of the press",
    "General",
    "HIV - Aids",
    "Human rights defenders",
    "Human rights education and training",
    "Human rights violations by state agents",
    "Impunity",
    "Indigenous peoples",
    "Internally displaced persons",
    "International humanitarian law",
    "International instruments",
    "Justice",
    "Labour",
    "Migrants",
    "Minorities",
    "NHRI",
    "National plan of action",
    "Other",
    "Poverty",
    "Public security",
    "Racial discrimination",
    "Right to education",
    "Right to food",
    "Right to health",
    "Right to housing",
    "Right to land",
    "Right to water",
    "Rights of the Child",
    "Sexual Orientation and Gender Identity",
    "Special procedures",
    "Technical assistance and cooperation",
    "Torture and other CID treatment",
    "Trafficking",
    "Treaty bodies",
    "UPR process",
    "Women's rights",
]
LABELS = set(UPR_INFO_LABELS)

KINDS = {
    "un_entity",
    "state",
    "regional_organization",
    "international_organization",
    "nhri",
    "ngo",
    "academic",
    "private",
    "other",
}
MODALITIES = {
    "training",
    "legal_review",
    "expert_deployment",
    "funding",
    "data_systems",
    "peer_exchange",
    "equipment",
    "other",
}
REGIONS = {"global", "africa", "asia_pacific", "eastern_europe", "latin_america_caribbean", "western_europe_others"}
GROUP_SLUGS = REGIONS - {"global"}

FIELDS = {
    "slug": str,
    "name": str,
    "acronym": (str, type(None)),
    "kind": str,
    "description": str,
    "themes": list,
    "sdgs": list,
    "countries": list,
    "regions": list,
    "languages": list,
    "modalities": list,
    "website": str,
    "relevance": dict,
}

SHARED_RUN = 12  # words


@pytest.fixture(scope="module")
def providers():
    with PROVIDERS.open(encoding="utf-8") as fh:
        data = json.load(fh)
    assert isinstance(data, list)
    return data


@pytest.fixture(scope="module")
def groups():
    with REGIONAL_GROUPS.open(encoding="utf-8") as fh:
        data = json.load(fh)
    assert isinstance(data, dict)
    return data


def test_label_list_is_complete():
    assert len(UPR_INFO_LABELS) == 54
    assert len(LABELS) == 54


def test_enough_providers(providers):
    assert len(providers) >= 45


def test_unique_slugs(providers):
    slugs = [p["slug"] for p in providers]
    dupes = [s for s, n in Counter(slugs).items() if n > 1]
    assert not dupes, dupes
    for s in slugs:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", s), s


def test_fields_and_types(providers):
    for p in providers:
        assert set(p) == set(FIELDS), (p.get("slug"), set(p) ^ set(FIELDS))
        for key, typ in FIELDS.items():
            assert isinstance(p[key], typ), (p["slug"], key)
        assert p["name"].strip()
        if p["acronym"] is not None:
            assert p["acronym"].strip()
        assert set(p["relevance"]) == {"core", "secondary"}, p["slug"]
        assert all(isinstance(x, str) for x in p["relevance"]["core"] + p["relevance"]["secondary"])
        for key in ("themes", "countries", "regions", "languages", "modalities"):
            assert all(isinstance(x, str) for x in p[key]), (p["slug"], key)
            assert len(set(p[key])) == len(p[key]), (p["slug"], key, "duplicates")


def test_vocabularies(providers):
    for p in providers:
        slug = p["slug"]
        assert p["kind"] in KINDS, slug
        assert p["modalities"] and set(p["modalities"]) <= MODALITIES, slug
        assert p["regions"] and set(p["regions"]) <= REGIONS, slug
        if "global" in p["regions"]:
            assert p["regions"] == ["global"], slug
        assert p["languages"], slug
        for lang in p["languages"]:
            assert len(lang) == 2 and pycountry.languages.get(alpha_2=lang) is not None, (slug, lang)
        assert p["sdgs"], slug
        for g in p["sdgs"]:
            assert type(g) is int and 1 <= g <= 17, (slug, g)
        for c in p["countries"]:
            assert pycountry.countries.get(alpha_3=c) is not None, (slug, c)


def test_state_agencies_have_no_countries(providers):
    for p in providers:
        if p["kind"] == "state":
            assert p["countries"] == [], p["slug"]


def test_description_length(providers):
    for p in providers:
        n = len(p["description"])
        assert 350 <= n <= 1200, (p["slug"], n)


def test_theme_and_relevance_labels(providers):
    for p in providers:
        slug = p["slug"]
        assert 3 <= len(p["themes"]) <= 10, slug
        assert set(p["themes"]) <= LABELS, (slug, set(p["themes"]) - LABELS)
        core, sec = p["relevance"]["core"], p["relevance"]["secondary"]
        assert 1 <= len(core) <= 5, slug
        assert len(sec) <= 8, slug
        assert set(core) <= LABELS and set(sec) <= LABELS, (slug, (set(core) | set(sec)) - LABELS)
        assert not set(core) & set(sec), (slug, "label both core and secondary")


def test_websites_https(providers):
    for p in providers:
        assert p["website"].startswith("https://"), p["slug"]
        assert " " not in p["website"], p["slug"]


def test_every_label_is_core_somewhere(providers):
    core = Counter(label for p in providers for label in p["relevance"]["core"])
    missing = sorted(LABELS - {"Other", "General"} - set(core))
    assert not missing, missing


def test_no_keyword_stuffing(providers):
    """A multi-word UPR Info label must not appear verbatim in a description (case-insensitive)."""
    multi = [label for label in UPR_INFO_LABELS if len(label.split()) > 1]
    hits = []
    for p in providers:
        text = p["description"].lower()
        hits += [(p["slug"], label) for label in multi if label.lower() in text]
    assert not hits, hits


def _words(text):
    return re.findall(r"[a-z0-9]+", text.lower())


def _ngrams(words, n):
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def test_no_shared_runs_with_un_entity_texts(providers):
    if not UN_ENTITIES_CSV.exists():
        pytest.skip(f"{UN_ENTITIES_CSV} not present")
    reference = set()
    with UN_ENTITIES_CSV.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            for col in ("entity_description", "foundational_mandate"):
                reference |= _ngrams(_words(row.get(col) or ""), SHARED_RUN)
    hits = []
    for p in providers:
        shared = _ngrams(_words(p["description"]), SHARED_RUN) & reference
        if shared:
            hits.append((p["slug"], " ".join(sorted(shared)[0])))
    assert not hits, hits


def test_regional_groups(groups):
    assert len(groups) == 195
    for code, group in groups.items():
        assert pycountry.countries.get(alpha_3=code) is not None, code
        assert group in GROUP_SLUGS, (code, group)
    # conventions the HRC and UPR use
    assert groups["ISR"] == "western_europe_others"
    assert groups["TUR"] == "western_europe_others"
    assert groups["USA"] == "western_europe_others"
    assert groups["CYP"] == "asia_pacific"
    assert groups["KIR"] == "asia_pacific"
    assert groups["EST"] == "eastern_europe"
    assert {"PSE", "VAT"} <= set(groups)
