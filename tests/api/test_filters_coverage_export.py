"""Several values per filter, the new filters and facets, 422 on unknown parameters, coverage, CSV and .xlsx."""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import text
from sqlmodel import Session

from tests.factories import auth, make_key
from tests.test_errors import assert_problem

JSON = {"Content-Type": "application/json"}


def uhri(n: int, country: str, session: str, **overrides: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "AnnotationId": f"aaaaaaaa-0000-4000-8000-{n:012d}",
        "AnnotationType": "- Recommendations",
        "Body": "- UPR",
        "Countries": [country],
        "UprSession": [session],
        "UprCycle": None,
        "UprPositions": ["Supported"],
        "UprRecommendingCountry": ["Norway"],
        "Text": f"{n}.1 Recommendation number {n} on equality (Norway);",
        "Themes": ["Equality & non-discrimination"],
        "Sdgs": [],
        "AffectedPersons": [],
        "Symbol": "A/HRC/55/9",
        "PublicationDate": "2024-03-12T00:00:00",
    }
    record.update(overrides)
    return record


RECORDS = [
    uhri(1, "Mexico", "45", AffectedPersons=["Women & girls"], Sdgs=["5.2 - End violence against women"]),
    uhri(
        2, "Guatemala", "42", AffectedPersons=["Children"], Sdgs=["16.2 - Protect children"], Symbol="A/HRC/53/8/Add.1"
    ),
    uhri(3, "Peru", "42", UprRecommendingCountry=["Kenya"], Text="3.1 Ratify the OP-CAT (Kenya);", Symbol="A/HRC/53/9"),
    uhri(4, "Mexico", "31", UprPositions=["Noted"], PublicationDate="2018-11-20T00:00:00", Symbol="A/HRC/40/8"),
    uhri(5, "Guatemala", "42", Text=r"5.1 Cells like =SUM(A1) stay text; really (Norway);", Themes=["A; B", "C"]),
]


@pytest.fixture
def admin(session: Session) -> dict[str, str]:
    _row, key = make_key(session, role="admin")
    session.commit()
    return auth(key)


@pytest.fixture
def loaded(client: TestClient, admin: dict[str, str]) -> TestClient:
    r = client.post("/v1/recommendations/import", content=json.dumps(RECORDS).encode(), headers={**admin, **JSON})
    assert r.status_code == 201, r.text
    return client


def ids(client: TestClient, query: str) -> set[str]:
    r = client.get(f"/v1/recommendations?{query}&limit=100")
    assert r.status_code == 200, r.text
    return {item["id"][-1] for item in r.json()["items"]}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("state=MEX&state=GTM", {"1", "2", "4", "5"}),
        ("state=mex&state=per", {"1", "3", "4"}),
        ("session=42&session=31", {"2", "3", "4", "5"}),
        ("cycle=3&cycle=4", {"1", "2", "3", "4", "5"}),
        ("response=noted", {"4"}),
        ("affected_group=Women %26 girls&affected_group=Children", {"1", "2"}),
        ("sdg=5&sdg=16", {"1", "2"}),
        ("sdg_target=16.2", {"2"}),
        ("source_document=A/HRC/53/8", {"2"}),
        ("source_document=A/HRC/53/9&source_document=A/HRC/40/8", {"3", "4"}),
        ("recommending_region=africa", {"3"}),
        ("recommending_region=western_europe_others&state=PER", set()),
        ("published_from=2020-01-01", {"1", "2", "3", "5"}),
        ("published_to=2019-01-01", {"4"}),
        ("published_from=2018-01-01&published_to=2018-12-31", {"4"}),
        ("source=ohchr_uhri&theme=C", {"5"}),
        ("state=MEX&response=supported&response=noted&session=45", {"1"}),
    ],
)
def test_every_filter_takes_several_values(loaded: TestClient, query: str, expected: set[str]) -> None:
    assert ids(loaded, query) == expected
    facets = loaded.get(f"/v1/recommendations/facets?{query}").json()
    assert facets["total"] == len(expected)


def test_facets_count_sdgs_affected_groups_and_sources(loaded: TestClient) -> None:
    facets = loaded.get("/v1/recommendations/facets").json()
    assert facets["sdgs"] == [{"value": 5, "count": 1}, {"value": 16, "count": 1}]
    # "Women & girls" is two groups of the controlled list.
    assert {f["value"]: f["count"] for f in facets["affected_groups"]} == {"Women": 1, "Girls": 1, "Children": 1}
    assert facets["sources"] == [{"value": "ohchr_uhri", "count": 5}]


@pytest.mark.parametrize(
    ("path", "query", "names"),
    [
        ("/v1/recommendations", "affected_groups=women", ["affected_groups"]),
        ("/v1/recommendations/facets", "State=MEX&limit=3&foo=1", ["State", "foo", "limit"]),
        ("/v1/recommendations/export", "sdgs=5", ["sdgs"]),
        ("/v1/coverage", "states=USA", ["states"]),
        ("/v1/needs", "State=KEN", ["State"]),
        ("/v1/providers", "themes=torture", ["themes"]),
    ],
)
def test_unknown_query_parameters_are_422_naming_them(
    loaded: TestClient, path: str, query: str, names: list[str]
) -> None:
    problem = assert_problem(loaded.get(f"{path}?{query}"), 422)
    assert [e["loc"] for e in problem["errors"]] == [["query", n] for n in names]
    assert all("unknown query parameter" in e["detail"] for e in problem["errors"])


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("sdg_target=16", "sdg_target"),
        ("sdg_target=18.1", "sdg_target"),
        ("recommending_region=europe", "recommending_region"),
        ("published_from=yesterday", "published_from"),
        ("published_from=2024-02-01&published_to=2024-01-01", "published_from"),
        ("state=MEX&state=XXX", "state"),
        ("include_linked=maybe", "include_linked"),
        ("&".join(["state=MEX"] * 51), "state"),
    ],
)
def test_bad_filter_values_are_422_naming_the_parameter(loaded: TestClient, query: str, param: str) -> None:
    problem = assert_problem(loaded.get(f"/v1/recommendations?{query}"), 422)
    assert any(e["loc"][1] == param for e in problem["errors"]), problem


def test_the_openapi_documents_the_filters_and_the_422(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    params = {p["name"]: p for p in spec["paths"]["/v1/recommendations"]["get"]["parameters"]}
    for name in ("state", "affected_group", "sdg_target", "source_document", "recommending_region", "sdg", "theme"):
        assert params[name]["schema"]["anyOf"][0]["type"] == "array", name
    assert {"published_from", "published_to", "include_linked"} <= set(params)
    facets = spec["components"]["schemas"]["RecommendationFacets"]["properties"]
    assert {"sdgs", "affected_groups", "sources"} <= set(facets)
    for path, item in spec["paths"].items():
        if path.startswith("/v1/"):
            for method, op in item.items():
                assert "does not take" in op["responses"]["422"]["description"], (path, method)
    assert "/v1/coverage" in spec["paths"]


# --- coverage ------------------------------------------------------------------------------------


def test_coverage_per_source_and_for_a_state(loaded: TestClient) -> None:
    body = loaded.get("/v1/coverage").json()
    assert (body["recommendations"], body["records"], body["states"]) == (5, 5, 3)
    assert (body["sessions"], body["cycles"], body["first_year"], body["last_year"]) == (
        [31, 42, 45],
        [3, 4],
        2018,
        2024,
    )
    (source,) = body["sources"]
    assert (source["source"], source["label"], source["records"], source["states"]) == (
        "ohchr_uhri",
        "OHCHR Universal Human Rights Index",
        5,
        3,
    )
    assert (source["first_published"], source["last_published"]) == ("2018-11-20", "2024-03-12")
    assert source["last_imported_at"] is not None
    assert "sessions 31, 42 and 45 (2018-2024)" in body["summary"]
    usa = loaded.get("/v1/coverage?state=usa").json()["state"]
    assert (usa["state"], usa["recommendations"]) == ("USA", 0)
    assert usa["summary"].startswith("Not in the data loaded: no recommendation to United States is recorded.")
    assert "sessions 31, 42 and 45" in usa["summary"]
    mexico = loaded.get("/v1/coverage?state=MEX").json()["state"]
    assert (mexico["recommendations"], mexico["sessions"], mexico["sources"]) == (2, [31, 45], ["ohchr_uhri"])
    assert_problem(loaded.get("/v1/coverage?state=XXX"), 404)


def test_coverage_of_an_empty_repository_says_so(client: TestClient) -> None:
    body = client.get("/v1/coverage?state=MEX").json()
    assert (body["recommendations"], body["sources"], body["last_imported_at"]) == (0, [], None)
    assert body["state"]["summary"].startswith("Not in the data loaded")


# --- export -------------------------------------------------------------------------------------


def test_csv_lists_are_plain_text_and_round_trip(loaded: TestClient, admin: dict[str, str], engine: Any) -> None:
    first = loaded.get("/v1/recommendations/export?format=csv&state=GTM").content
    assert first.startswith("\ufeff".encode())  # the UTF-8 mark: Excel reads the accents right
    rows = {r["id"][-1]: r for r in csv.DictReader(io.StringIO(first.decode("utf-8-sig")))}
    assert rows["2"]["affected_groups"] == "Children" and rows["2"]["sdg_targets"] == "16.2"
    assert rows["5"]["themes"] == '"A; B"; C'  # an item holding ";" is quoted
    assert rows["5"]["text"].startswith("Cells like")
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM recommendation"))
    r = loaded.post("/v1/recommendations/import", content=first, headers={**admin, "Content-Type": "text/csv"})
    assert (r.status_code, r.json()["inserted"]) == (201, 2), r.text
    assert loaded.get("/v1/recommendations/export?format=csv&state=GTM").content == first


def test_xlsx_export_is_a_workbook_with_text_cells(loaded: TestClient) -> None:
    r = loaded.get("/v1/recommendations/export?format=xlsx&state=GTM&state=PER")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    # Named after the filters and the day, so two downloads never overwrite each other.
    assert re.search(r'filename="recommendations_GTM_PER_\d{4}-\d\d-\d\d\.xlsx"', r.headers["content-disposition"])
    sheet = load_workbook(io.BytesIO(r.content), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    header, data = rows[0], rows[1:]
    assert header[:3] == ("id", "source", "cycle") and len(data) == 3
    by_id = {row[0][-1]: dict(zip(header, row, strict=True)) for row in data}
    assert by_id["2"]["affected_groups"] == "Children" and by_id["2"]["cycle"] == 4
    assert by_id["5"]["themes"] == '"A; B"; C'
    assert by_id["3"]["recommending_states"] == "KEN"


def test_an_xlsx_formula_is_stored_as_text(client: TestClient, admin: dict[str, str]) -> None:
    record = uhri(9, "Chile", "45", Text='9.1 =HYPERLINK("http://evil.example","x") (Norway);')
    r = client.post("/v1/recommendations/import", content=json.dumps([record]).encode(), headers={**admin, **JSON})
    assert r.status_code == 201, r.text
    content = client.get("/v1/recommendations/export?format=xlsx").content
    sheet = load_workbook(io.BytesIO(content)).active
    cell = sheet.cell(row=2, column=9)
    assert cell.value.startswith("=HYPERLINK") and cell.data_type == "s"
