"""/v1/recommendations: list, filters, search, facets, get, export and the admin import."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session

from app.core.config import get_settings
from tests.factories import auth, make_key
from tests.test_errors import assert_problem
from tests.test_importer import rec

JSONL = {"Content-Type": "application/x-ndjson"}


def body(records: list[Any]) -> bytes:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records).encode()


@pytest.fixture
def admin(session: Session) -> dict[str, str]:
    _row, key = make_key(session, role="admin")
    return auth(key)


def seed(client: TestClient, admin: dict[str, str]) -> None:
    records = [
        rec(1),
        rec(
            2,
            text="Abolish the death penalty.",
            themes=["Death penalty"],
            response="noted",
            response_raw="noted",
            upr_info_action_category=[5],
        ),
        rec(
            3,
            id="test-c1-s6-ALB-0003",
            cycle=1,
            session=6,
            state_under_review="Albania",
            state_under_review_iso3="ALB",
            text="Ratify the Convention on the Rights of Persons with Disabilities.",
            themes=["Disabilities"],
            recommending_states=["Chile", "Norway"],
            recommending_states_iso3=["CHL", "NOR"],
            sdgs=[10],
            response=None,
            response_raw=None,
            upr_info_action_category=[],
        ),
        rec(
            4,
            id="test-c1-s6-ALB-0004",
            cycle=1,
            session=6,
            state_under_review="Albania",
            state_under_review_iso3="ALB",
            text='=HYPERLINK("http://evil.example","Combat torture")',
            upr_info_action_category=[2],
        ),
    ]
    r = client.post("/v1/recommendations/import", content=body(records), headers={**admin, **JSONL})
    assert r.status_code == 201, r.text


# --- import -------------------------------------------------------------------------------------


def test_import_returns_201_then_200_with_the_summary(client: TestClient, admin: dict[str, str]) -> None:
    payload = body([rec(1), rec(2)])
    first = client.post("/v1/recommendations/import", content=payload, headers={**admin, **JSONL})
    assert first.status_code == 201
    assert first.json() | {} == {
        "format": "jsonl",
        "dry_run": False,
        "rows_read": 2,
        "records": 2,
        "inserted": 2,
        "updated": 0,
        "unchanged": 0,
        "rejected": 0,
        "skipped": 0,
        "skipped_reasons": {},
        "unrecorded_recommenders": 0,
        "linked": 0,
        "themes_predicted": 0,
    }
    second = client.post(
        "/v1/recommendations/import", content=payload, headers={**admin, "Content-Type": "application/jsonl"}
    )
    assert second.status_code == 200
    assert (second.json()["inserted"], second.json()["updated"], second.json()["unchanged"]) == (0, 0, 2)


def test_import_needs_an_admin_key(client: TestClient, session: Session) -> None:
    assert_problem(client.post("/v1/recommendations/import", content=body([rec(1)]), headers=JSONL), 401)
    _row, key = make_key(session, role="state", state="FRA")
    assert_problem(
        client.post("/v1/recommendations/import", content=body([rec(1)]), headers={**auth(key), **JSONL}), 403
    )
    assert client.get("/v1/recommendations").json()["total"] == 0


def test_import_bad_rows_is_422_listing_each_and_writes_nothing(client: TestClient, admin: dict[str, str]) -> None:
    payload = body(
        [rec(1), rec(2, state_under_review="Atlantis", state_under_review_iso3=None), "{not json", rec(4, text="")]
    )
    r = client.post("/v1/recommendations/import", content=payload, headers={**admin, **JSONL})
    problem = assert_problem(r, 422)
    assert problem["total_errors"] == 3
    assert [(e["line"], e["field"]) for e in problem["errors"]] == [(2, "state_under_review"), (3, "row"), (4, "text")]
    assert all(e["reason"] for e in problem["errors"])
    assert client.get("/v1/recommendations").json()["total"] == 0


def test_import_unsupported_content_type_is_422(client: TestClient, admin: dict[str, str]) -> None:
    r = client.post("/v1/recommendations/import", content=b"x", headers={**admin, "Content-Type": "image/png"})
    problem = assert_problem(r, 422)
    assert problem["errors"][0]["loc"] == ["header", "content-type"]
    # A PDF is a matrix of recommendations now: a broken one is refused for what it is.
    r = client.post("/v1/recommendations/import", content=b"x", headers={**admin, "Content-Type": "application/pdf"})
    problem = assert_problem(r, 422)
    assert problem["errors"][0]["field"] == "file" and "not a readable PDF" in problem["errors"][0]["reason"]


def test_import_over_the_row_limit_is_413_and_writes_nothing(
    app: FastAPI, client: TestClient, admin: dict[str, str], settings: Any
) -> None:
    app.dependency_overrides[get_settings] = lambda: settings.model_copy(update={"MAX_IMPORT_ROWS": 2})
    r = client.post("/v1/recommendations/import", content=body([rec(1), rec(2), rec(3)]), headers={**admin, **JSONL})
    assert_problem(r, 413)
    assert client.get("/v1/recommendations").json()["total"] == 0


def test_import_dry_run_writes_nothing(client: TestClient, admin: dict[str, str]) -> None:
    r = client.post("/v1/recommendations/import?dry_run=true", content=body([rec(1)]), headers={**admin, **JSONL})
    assert r.status_code == 201 and r.json()["dry_run"] is True
    assert client.get("/v1/recommendations").json()["total"] == 0


def test_import_real_upr_info_sample_over_http(client: TestClient, admin: dict[str, str], settings: Any) -> None:
    sample = Path(settings.UPR_DATA_DIR) / "samples" / "upr-info-export-sessions-6-9-sample.csv"
    if not sample.exists():
        pytest.skip(f"UPR Info sample not found at {sample}")
    r = client.post(
        "/v1/recommendations/import", content=sample.read_bytes(), headers={**admin, "Content-Type": "text/csv"}
    )
    assert r.status_code == 201, r.text
    assert (r.json()["rows_read"], r.json()["records"], r.json()["format"]) == (2000, 1966, "csv-upr-info")


# --- read ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "ids"),
    [
        ("", ["test-c1-s6-ALB-0003", "test-c1-s6-ALB-0004", "test-c2-s15-FRA-0001", "test-c2-s15-FRA-0002"]),
        ("state=alb", ["test-c1-s6-ALB-0003", "test-c1-s6-ALB-0004"]),
        ("recommending_state=NOR", ["test-c1-s6-ALB-0003"]),
        ("cycle=2", ["test-c2-s15-FRA-0001", "test-c2-s15-FRA-0002"]),
        ("session=6&response=pending", ["test-c1-s6-ALB-0003"]),
        ("response=noted", ["test-c2-s15-FRA-0002"]),
        ("theme=Death penalty", ["test-c2-s15-FRA-0002"]),
        ("sdg=10", ["test-c1-s6-ALB-0003"]),
        ("action_category=2", ["test-c1-s6-ALB-0004"]),
        ("q=disability rights", ["test-c1-s6-ALB-0003"]),
        ("q=tortures&state=FRA", ["test-c2-s15-FRA-0001"]),
    ],
)
def test_list_filters(client: TestClient, admin: dict[str, str], query: str, ids: list[str]) -> None:
    seed(client, admin)
    r = client.get(f"/v1/recommendations?{query}")
    assert r.status_code == 200, r.text
    page = r.json()
    assert [item["id"] for item in page["items"]] == ids
    assert page["total"] == len(ids)


def test_list_pagination_is_stable(client: TestClient, admin: dict[str, str]) -> None:
    seed(client, admin)
    seen = []
    for offset in range(4):
        page = client.get(f"/v1/recommendations?limit=1&offset={offset}").json()
        assert page["total"] == 4 and page["limit"] == 1
        seen += [i["id"] for i in page["items"]]
    assert seen == [i["id"] for i in client.get("/v1/recommendations").json()["items"]]


def test_search_ranks_the_best_match_first(client: TestClient, admin: dict[str, str]) -> None:
    seed(client, admin)
    items = client.get("/v1/recommendations?q=torture optional protocol").json()["items"]
    assert items[0]["id"] == "test-c2-s15-FRA-0001"


def test_newest_review_first(client: TestClient, admin: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    from app.services import recommendations as service

    seed(client, admin)

    def ids(query: str) -> list[str]:
        response = client.get(f"/v1/recommendations?{query}")
        assert response.status_code == 200, response.text
        return [i["id"] for i in response.json()["items"]]

    fra = ["test-c2-s15-FRA-0001", "test-c2-s15-FRA-0002"]
    alb = ["test-c1-s6-ALB-0003", "test-c1-s6-ALB-0004"]
    assert ids("") == ids("sort=relevance") == alb + fra  # review order, oldest first
    assert ids("sort=newest") == fra + alb
    assert ids("sort=newest&q=torture") == ["test-c2-s15-FRA-0001", "test-c1-s6-ALB-0004"]
    assert ids("sort=newest&limit=1&offset=2") == alb[:1]
    monkeypatch.setattr(service, "DENSE_MATCHES", 0)  # the plan that walks the index gives the same order
    assert ids("sort=newest") == fra + alb
    problem = assert_problem(client.get("/v1/recommendations?sort=oldest"), 422)
    assert problem["errors"][0]["field"] == "sort"


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("response=maybe", "response"),
        ("cycle=0", "cycle"),
        ("cycle=99", "cycle"),
        ("session=abc", "session"),
        ("state=XXX", "state"),
        ("state=FR", "state"),
        ("recommending_state=ZZZ", "recommending_state"),
        ("sdg=18", "sdg"),
        ("action_category=6", "action_category"),
        ("q=", "q"),
        ("q=" + "x" * 201, "q"),
        ("q=the of -torture", "q"),
        ("limit=0", "limit"),
    ],
)
def test_invalid_filters_are_422_naming_the_parameter(client: TestClient, query: str, param: str) -> None:
    for path in ("/v1/recommendations", "/v1/recommendations/facets", "/v1/recommendations/export"):
        if param == "limit" and path != "/v1/recommendations":
            continue
        problem = assert_problem(client.get(f"{path}?{query}"), 422)
        # Filters take several values: the location names the parameter, then the value's position.
        assert any(e["loc"][1] == param and e["field"] == param for e in problem["errors"]), problem


def test_get_recommendation_and_404(client: TestClient, admin: dict[str, str]) -> None:
    seed(client, admin)
    r = client.get("/v1/recommendations/test-c1-s6-ALB-0003")
    assert r.status_code == 200
    assert r.json()["recommending_states"] == ["CHL", "NOR"]
    assert r.json()["response"] == "pending" and r.json()["response_raw"] is None
    assert "content_hash" not in r.json() and "seq" not in r.json()
    assert_problem(client.get("/v1/recommendations/nope"), 404)


def test_facets_count_with_the_same_filters(client: TestClient, admin: dict[str, str]) -> None:
    seed(client, admin)
    facets = client.get("/v1/recommendations/facets").json()
    assert facets["total"] == 4
    assert facets["states"] == [{"value": "ALB", "count": 2}, {"value": "FRA", "count": 2}]
    assert facets["cycles"] == [{"value": 1, "count": 2}, {"value": 2, "count": 2}]
    assert {f["value"]: f["count"] for f in facets["responses"]} == {"supported": 2, "noted": 1, "pending": 1}
    # Themes are counted per controlled theme (UHRI code and label), whatever the source called them.
    torture = {"value": "D25", "label": "Prohibition of torture & cruel, inhuman or degrading treatment"}
    assert facets["themes"][0] == {**torture, "count": 2}
    filtered = client.get("/v1/recommendations/facets?state=FRA&q=torture").json()
    assert filtered["total"] == 1
    assert filtered["themes"] == [{**torture, "count": 1}]


# --- export -------------------------------------------------------------------------------------


def test_export_csv_neutralises_formulas_and_filters(client: TestClient, admin: dict[str, str]) -> None:
    seed(client, admin)
    r = client.get("/v1/recommendations/export?format=csv&state=ALB")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert r.text.startswith("\ufeff")  # the UTF-8 mark spreadsheets need for accents
    rows = list(csv.DictReader(io.StringIO(r.text.removeprefix("\ufeff"))))
    assert [row["id"] for row in rows] == ["test-c1-s6-ALB-0003", "test-c1-s6-ALB-0004"]
    assert rows[1]["text"].startswith("'=HYPERLINK")


@pytest.mark.parametrize(("fmt", "content_type"), [("csv", "text/csv"), ("jsonl", "application/x-ndjson")])
def test_export_import_export_is_byte_identical(
    client: TestClient, admin: dict[str, str], engine: Any, fmt: str, content_type: str
) -> None:
    seed(client, admin)
    first = client.get(f"/v1/recommendations/export?format={fmt}").content
    # Into an empty table (index tables follow by cascade): the same bytes come back.
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM recommendation"))
    assert client.get("/v1/recommendations").json()["total"] == 0
    r = client.post("/v1/recommendations/import", content=first, headers={**admin, "Content-Type": content_type})
    assert r.status_code == 201, r.text
    assert r.json()["inserted"] == 4
    second = client.get(f"/v1/recommendations/export?format={fmt}").content
    assert second == first
    # And into the same database again: nothing changes.
    again = client.post("/v1/recommendations/import", content=second, headers={**admin, "Content-Type": content_type})
    assert (again.status_code, again.json()["unchanged"]) == (200, 4)


def test_openapi_documents_operations_problems_and_examples(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    ops = {
        op["operationId"]: op
        for path, item in spec["paths"].items()
        if path.startswith("/v1/recommendations")
        for op in item.values()
    }
    assert set(ops) == {
        "list_recommendations",
        "get_recommendation",
        "get_recommendation_facets",
        "export_recommendations",
        "import_recommendations",
        "import_recommendation_translations",
        "related_recommendations",
        "get_related_recommendations",
    }
    for op in ops.values():
        assert any(code.startswith("4") for code in op["responses"]), op["operationId"]
    schemas = spec["components"]["schemas"]
    for name in (
        "RecommendationPublic",
        "RecommendationFacets",
        "ImportSummary",
        "TranslationImportSummary",
        "RelatedQuery",
        "RelatedRecommendations",
    ):
        assert schemas[name].get("examples"), name


def test_dense_and_sparse_query_plans_agree(
    client: TestClient, admin: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.services import recommendations as service

    seed(client, admin)
    queries = [
        "theme=Death penalty",
        "recommending_state=NOR",
        "sdg=10",
        "theme=Torture and other CID treatment&cycle=1",
        "response=supported&action_category=5",
    ]
    sparse = [client.get(f"/v1/recommendations?{q}").json() for q in queries]
    monkeypatch.setattr(service, "DENSE_MATCHES", 0)
    dense = [client.get(f"/v1/recommendations?{q}").json() for q in queries]
    assert dense == sparse
    assert all(page["total"] >= 1 for page in dense)
