"""The analytics API: the slice as query parameters, pages, exports, problems; numbers from the fixture."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlmodel import Session

from app.models.common import utcnow
from app.services.analytics import cache
from tests.analytics.fixture import EDUCATION, build
from tests.factories import auth, make_key


def setup_function() -> None:
    cache.clear()


def test_pipeline_with_several_values_per_parameter_and_a_page(client: TestClient, session: Session) -> None:
    build(session)
    # MEX or HTI, cycle 3: m1 (requested), m2 (under way), h1 (requested), h2 (not started).
    answer = client.get("/v1/analytics/pipeline?state=MEX&state=HTI&cycle=3&by=state&limit=1")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["totals"] | {"label": ""} == {
        "key": "all",
        "label": "",
        "supported": 4,
        "not_started": 1,
        "requested": 2,
        "under_way": 1,
        "done": 0,
    }
    assert (body["total"], body["limit"], body["offset"], [r["key"] for r in body["items"]]) == (2, 1, 0, ["HTI"])
    # HTI and MEX both have 2: by label, Haiti first.
    second = client.get("/v1/analytics/pipeline?state=MEX&state=HTI&cycle=3&by=state&limit=1&offset=1").json()
    assert [r["key"] for r in second["items"]] == ["MEX"]


def test_the_caller_sees_what_it_may(client: TestClient, session: Session) -> None:
    build(session)
    _, mexico = make_key(session, role="state", state="MEX")
    anonymous = client.get("/v1/analytics/pipeline?state=MEX").json()["totals"]
    own = client.get("/v1/analytics/pipeline?state=MEX", headers=auth(mexico)).json()["totals"]
    # Mexico's own state_only need ND moves m4 from not started to requested.
    assert (anonymous["not_started"], anonymous["requested"]) == (1, 1)
    assert (own["not_started"], own["requested"]) == (0, 2)


def test_unserved_supply_and_funding_answer_the_service_numbers(client: TestClient, session: Session) -> None:
    build(session)
    unserved = client.get("/v1/analytics/unserved-needs?by=region").json()
    assert (unserved["open_needs"], unserved["unserved_needs"], unserved["strong_threshold"]) == (3, 2, 0.35)
    supply = client.get("/v1/analytics/supply-demand?region=asia_pacific").json()
    assert [(r["theme"], r["providers"]) for r in supply["items"]] == [("G3", 0)]
    funding = client.get("/v1/analytics/funding?state=MEX&sdg=16").json()
    assert [(r["sdg"], r["gap"]) for r in funding["items"]] == [(16, 60.0)]
    assert "UN INFO" in funding["source"]
    ldc = client.get("/v1/analytics/pipeline?group=ldc&theme=" + EDUCATION).json()
    assert ldc["totals"]["supported"] == 1  # n1 (NPL)


def test_exports_as_csv_and_xlsx(client: TestClient, session: Session) -> None:
    build(session)
    answer = client.get("/v1/analytics/pipeline/export?format=csv&state=MEX")
    assert answer.status_code == 200
    day = f"{utcnow():%Y-%m-%d}"
    assert answer.headers["content-disposition"] == f'attachment; filename="pipeline_by-theme_MEX_{day}.csv"'
    assert answer.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(answer.text.removeprefix("\ufeff"))))
    assert rows[0] == ["theme", "label", "supported", "not_started", "requested", "under_way", "done"]
    by_key = {r[0]: r[2:] for r in rows[1:-1]}
    # MEX: Torture m1 (requested) m2 (under way); totals m1-m4: 4 = 1 not started, 1, 1, 1.
    assert by_key["D25"] == ["2", "0", "1", "1", "0"]  # by controlled theme
    assert by_key["all"] == ["4", "1", "1", "1", "1"]
    assert rows[-1][0].startswith("Slice: State MEX.")
    xlsx = client.get("/v1/analytics/funding/export?format=xlsx&state=MEX")
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert values[0][:3] == ["sdg", "label", "usd_required"]
    assert values[1][:5] == [16, "SDG 16: Peace, justice and strong institutions", 100, 40, 60]
    for path in ("unserved-needs", "supply-demand"):
        assert client.get(f"/v1/analytics/{path}/export?format=csv").status_code == 200


def test_bad_parameters_are_problems_naming_the_field(client: TestClient) -> None:
    for query, field in (
        ("group=g20", "group"),
        ("sdg=18", "sdg"),
        ("region=mars", "region"),
        ("by=colour", "by"),
        ("state=MEXICO", "state"),
        ("colour=red", "colour"),
    ):
        answer = client.get(f"/v1/analytics/pipeline?{query}")
        assert answer.status_code == 422, query
        assert answer.headers["content-type"] == "application/problem+json"
        assert field in answer.text, query
    assert client.get("/v1/analytics/funding/export?format=pdf").status_code == 422
