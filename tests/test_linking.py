"""Copies of one recommendation from several sources: linked, and counted once in lists, coverage, needs, drafts."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import Session

from app.models.recommendation import Recommendation
from app.services import linking
from app.services import recommendations as service
from matching.linking import LinkInput, link_group
from tests.factories import auth, make_key

ROOT = Path(__file__).resolve().parent.parent
RANK = {"ohchr_uhri": 0, "thematic": 1, "upr_info": 2}.__getitem__


def decide(*records: LinkInput) -> dict[str, tuple[str | None, str | None]]:
    return {d.id: (d.canonical_id, d.method) for d in link_group(records, RANK)}


# --- the decision (pure) -----------------------------------------------------------------------


def test_exact_texts_link_to_the_preferred_source() -> None:
    got = decide(
        LinkInput("info", "upr_info", "Ratify the “OP-CAT”.", ("FRA",)),
        LinkInput("uhri", "ohchr_uhri", "ratify the OP CAT", ("FRA",)),
    )
    assert got == {"info": ("uhri", "exact"), "uhri": (None, None)}


def test_a_merged_entry_is_canonical_for_each_of_its_parts() -> None:
    merged = "Continue efforts against trafficking in persons; prosecute the perpetrators of trafficking"
    got = decide(
        LinkInput("thematic", "thematic", merged, ("ARM", "CRI")),
        LinkInput("a", "upr_info", "Continue efforts against trafficking in persons", ("ARM",)),
        LinkInput("b", "upr_info", "Prosecute the perpetrators of trafficking", ("CRI",)),
    )
    assert got == {"thematic": (None, None), "a": ("thematic", "part"), "b": ("thematic", "part")}


def test_near_duplicates_link_and_different_recommendations_do_not() -> None:
    got = decide(
        LinkInput("uhri", "ohchr_uhri", "Ratify the International Convention on Migrant Workers (ICRMW)", ("IRN",)),
        LinkInput("info", "upr_info", "Ratify the International Convention on Migrant Workers", ("IRN",)),
        LinkInput("other", "upr_info", "Abolish the death penalty in law and in practice", ("IRN",)),
    )
    assert got["info"][0] == "uhri" and got["info"][1] == "similar"
    assert got["other"] == (None, None)


def test_disjoint_recommending_states_and_one_source_never_link() -> None:
    got = decide(
        LinkInput("uhri-fr", "ohchr_uhri", "Ratify the OP-CAT", ("FRA",)),
        LinkInput("uhri-es", "ohchr_uhri", "Ratify the OP-CAT", ("ESP",)),
        LinkInput("info-it", "upr_info", "Ratify the OP-CAT", ("ITA",)),
    )
    assert got == {"uhri-fr": (None, None), "uhri-es": (None, None), "info-it": (None, None)}


def test_each_record_is_claimed_once_and_states_pick_the_right_copy() -> None:
    got = decide(
        LinkInput("uhri-fr", "ohchr_uhri", "Ratify the OP-CAT", ("FRA",)),
        LinkInput("uhri-es", "ohchr_uhri", "Ratify the OP-CAT", ("ESP",)),
        LinkInput("info-es", "upr_info", "Ratify the OP-CAT", ("ESP",)),
        LinkInput("info-fr", "upr_info", "Ratify the OP-CAT", ("FRA",)),
        LinkInput("info-xx", "upr_info", "Ratify the OP-CAT", ()),
    )
    assert got["info-es"] == ("uhri-es", "exact") and got["info-fr"] == ("uhri-fr", "exact")
    assert got["info-xx"] == (None, None)  # both UHRI records are taken


def test_a_copy_of_a_copy_points_at_the_canonical_record() -> None:
    got = decide(
        LinkInput("info", "upr_info", "Adopt a law on domestic violence", ("NOR",)),
        LinkInput("thematic", "thematic", "Adopt a law on domestic violence", ("NOR",)),
        LinkInput("uhri", "ohchr_uhri", "Adopt a law on domestic violence", ("NOR",)),
    )
    assert got == {"uhri": (None, None), "thematic": ("uhri", "exact"), "info": ("uhri", "exact")}


# --- in the database ----------------------------------------------------------------------------


def rec(rid: str, source: str, text: str, **extra: Any) -> dict[str, Any]:
    base = {
        "id": rid,
        "source": source,
        "cycle": 2,
        "session": 20,
        "state_under_review": "Slovenia",
        "state_under_review_iso3": "SVN",
        "recommending_states": ["Norway"],
        "recommending_states_iso3": ["NOR"],
        "text": text,
        "response": "supported",
        "themes": ["Women's rights"],
        "theme_scheme": "upr_info_issues",
    }
    base.update(extra)
    return base


def load(session: Session, tmp_path: Path, name: str, records: list[dict[str, Any]]) -> Any:
    path = tmp_path / name
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return service.import_recommendations(session, file=path, fmt="jsonl", max_rows=1000)


@pytest.fixture
def linked(session: Session, tmp_path: Path) -> Session:
    """UPR Info records, then the same recommendations from the UHRI: linked, not duplicated."""
    load(
        session,
        tmp_path,
        "info.jsonl",
        [
            rec("info-1", "upr_info_via_terman", "Adopt a law on domestic violence"),
            rec("info-2", "upr_info_via_terman", "Ratify the Istanbul Convention"),
            rec("info-3", "upr_info_via_terman", "Abolish the death penalty", response="noted"),
        ],
    )
    summary = load(
        session,
        tmp_path,
        "uhri.jsonl",
        [
            rec("uhri-1", "ohchr_uhri", "Adopt a law on domestic violence.", theme_scheme="uhri"),
            rec("uhri-2", "ohchr_uhri", "Ratify the Istanbul Convention", theme_scheme="uhri"),
        ],
    )
    assert (summary.inserted, summary.linked) == (2, 2)
    return session


def canonical(session: Session) -> dict[str, str | None]:
    session.rollback()
    return {rid: c for rid, c in session.execute(select(Recommendation.id, Recommendation.canonical_id))}


def test_import_links_and_reimport_changes_nothing(linked: Session, tmp_path: Path) -> None:
    assert canonical(linked) == {
        "info-1": "uhri-1",
        "info-2": "uhri-2",
        "info-3": None,
        "uhri-1": None,
        "uhri-2": None,
    }
    again = load(
        linked, tmp_path, "again.jsonl", [rec("info-1", "upr_info_via_terman", "Adopt a law on domestic violence")]
    )
    assert (again.inserted, again.updated, again.unchanged, again.linked) == (0, 0, 1, 0)
    assert linking.relink_all(linked) == 2
    assert canonical(linked)["info-1"] == "uhri-1"


def test_a_changed_text_unlinks(linked: Session, tmp_path: Path) -> None:
    load(linked, tmp_path, "changed.jsonl", [rec("uhri-2", "ohchr_uhri", "Ratify the OP-CAT", theme_scheme="uhri")])
    assert canonical(linked)["info-2"] is None


def test_lists_and_facets_show_each_recommendation_once(client: TestClient, linked: Session) -> None:
    page = client.get("/v1/recommendations?state=SVN").json()
    assert page["total"] == 3
    by_id = {item["id"]: item for item in page["items"]}
    assert set(by_id) == {"uhri-1", "uhri-2", "info-3"}
    assert (by_id["uhri-1"]["linked_ids"], by_id["uhri-1"]["linked_sources"]) == (["info-1"], ["upr_info_via_terman"])
    every = client.get("/v1/recommendations?state=SVN&include_linked=true").json()
    assert every["total"] == 5
    copy = next(i for i in every["items"] if i["id"] == "info-1")
    assert (copy["canonical_id"], copy["link_method"]) == ("uhri-1", "exact")
    assert client.get("/v1/recommendations/facets?state=SVN").json()["total"] == 3
    assert client.get("/v1/recommendations/info-1").json()["canonical_id"] == "uhri-1"


def test_needs_coverage_and_drafts_count_a_recommendation_once(client: TestClient, linked: Session) -> None:
    _row, key = make_key(linked, role="state", state="SVN")
    headers = auth(key)
    need = {"title": "Domestic violence law", "description": "Drafting support.", "recommendation_ids": []}
    both = client.post("/v1/needs", json={**need, "recommendation_ids": ["uhri-1", "info-1"]}, headers=headers)
    assert both.status_code == 422
    assert "same recommendation as uhri-1" in both.json()["errors"][0]["detail"]
    # A need may cite either copy; it covers the recommendation that counts.
    filed = client.post("/v1/needs", json={**need, "recommendation_ids": ["info-1"]}, headers=headers)
    assert filed.status_code == 201, filed.text
    drafts = client.post("/v1/states/SVN/needs/draft", json={"suggestions": 0}, headers=headers).json()
    assert drafts["uncovered_recommendations"] == 1  # uhri-2 only: info-2 is its copy, uhri-1 is covered
    assert [i for d in drafts["items"] for i in d["recommendation_ids"]] == ["uhri-2"]
    page = client.get("/states/SVN").text
    assert "<strong>2</strong> supported" in page and "<strong>1</strong> requested in a need" in page


# --- the known pairs of the shared data ---------------------------------------------------------


def _quality() -> Any:
    spec = importlib.util.spec_from_file_location("linking_quality", ROOT / "benchmarks" / "linking_quality.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_precision_and_recall_on_the_known_pairs(settings: Any) -> None:
    data = Path(settings.UPR_DATA_DIR)
    if not (data / "samples" / "uhri-export-sample.json").exists():
        pytest.skip(f"shared data and UHRI sample not found under {data} (UPR_DATA_DIR)")
    quality = _quality()
    shared, uhri = quality.load(data)
    truth = quality.truth(shared, uhri)
    pairs = {row.split(",")[0] for row in (ROOT / "tests" / "data" / "svn_s20_pairs.csv").read_text().splitlines()[1:]}
    assert len(pairs) == 168
    alone = quality.decide(shared, linking_threshold())
    linked_count, correct, expected = quality.score(alone, truth, pairs)
    assert (linked_count, correct, expected) == (168, 168, 168)  # precision 1.0, recall 1.0
    others = [r["id"] for r in shared if r["id"] not in pairs]
    assert quality.score(alone, truth, others)[0] == 0  # no link where there is no pair
    both = quality.decide(shared + uhri, linking_threshold())
    linked_count, correct, expected = quality.score(both, truth, [r["id"] for r in shared + uhri])
    assert correct / linked_count >= 0.99 and correct / expected >= 0.99, (linked_count, correct, expected)


def linking_threshold() -> float:
    from matching.linking import SIMILAR_THRESHOLD

    return SIMILAR_THRESHOLD


@pytest.mark.slow
def test_the_sample_on_top_of_the_shared_file_links_instead_of_duplicating(session: Session, settings: Any) -> None:
    data = Path(settings.UPR_DATA_DIR)
    sample = data / "samples" / "uhri-export-sample.json"
    if not sample.exists():
        pytest.skip(f"UHRI sample not found at {sample} (UPR_DATA_DIR)")
    shared = service.import_recommendations(session, file=data / "recommendations.jsonl", fmt="auto", max_rows=10**6)
    assert (shared.inserted, shared.linked) == (30_456, 168)  # Slovenia s20: UPR Info and the thematic list
    uhri = service.import_recommendations(session, file=sample, fmt="auto", max_rows=10**6)
    # Every UHRI record is a recommendation the shared file has: the shared copies now point at it.
    assert (uhri.inserted, uhri.skipped, uhri.linked) == (2289, 3, 2457)
    session.rollback()
    rows = session.execute(select(Recommendation.source, Recommendation.canonical_id)).all()
    assert len(rows) == 30_456 + 2289
    assert sum(1 for _, c in rows if c is None) == 30_456 - 168  # as many recommendations as before
    assert all(c is None for s, c in rows if s == "ohchr_uhri")


def test_two_records_of_one_source_stay_two_even_when_another_source_merged_them(
    client: TestClient, session: Session, tmp_path: Path
) -> None:
    merged = "Combat trafficking in persons; prosecute the perpetrators of trafficking"
    load(
        session,
        tmp_path,
        "merged.jsonl",
        [
            rec(
                "thematic-1",
                "ohchr_thematic_list_slovenia",
                merged,
                recommending_states=["Norway", "Chile"],
                recommending_states_iso3=["NOR", "CHL"],
            ),
            rec("info-a", "upr_info_via_terman", "Combat trafficking in persons"),
            rec(
                "info-b",
                "upr_info_via_terman",
                "Prosecute the perpetrators of trafficking",
                recommending_states=["Chile"],
                recommending_states_iso3=["CHL"],
            ),
        ],
    )
    assert canonical(session) == {"thematic-1": None, "info-a": "thematic-1", "info-b": "thematic-1"}
    _row, key = make_key(session, role="state", state="SVN")
    need = {"title": "Trafficking", "description": "Support.", "recommendation_ids": ["info-a", "info-b"]}
    assert client.post("/v1/needs", json=need, headers=auth(key)).status_code == 201
    need = {**need, "title": "Trafficking again", "recommendation_ids": ["info-a", "thematic-1"]}
    refused = client.post("/v1/needs", json=need, headers=auth(key))
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["loc"] == ["body", "recommendation_ids", 1]
