"""Bad input on every write operation with a JSON body: never a 5xx, always problem+json naming what is wrong.

The operations and their valid bodies come from the OpenAPI document (each request schema's
own example), so a new write operation is covered without touching this file. Mutations:
a wrong type for each field, an unknown field, a string far over any limit, a NUL
character, bytes that are not UTF-8, a body that is not JSON, and the wrong content type.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.main import create_app
from tests.factories import auth, make_key

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _operations() -> list[tuple[str, str, str, dict[str, Any]]]:
    schema = create_app().openapi()
    components = schema["components"]["schemas"]
    found = []
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            if body and "$ref" not in body:  # an optional body: anyOf [{$ref}, null]
                body = next((alt for alt in body.get("anyOf", []) if "$ref" in alt), None)
            if not body:
                continue
            name = body["$ref"].rsplit("/", 1)[-1]
            found.append((method.upper(), _PLACEHOLDER.sub("x-missing", path), name, components[name]))
    return found


OPERATIONS = _operations()


def _wrong_type(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return [{"x": 1}]
    if isinstance(value, (int, float)):
        return "not a number"
    if isinstance(value, str):
        return {"not": "a string"}
    if isinstance(value, list):
        return "not a list"
    return ["not", "an", "object"]


def _send(client: TestClient, method: str, path: str, content: bytes, key: str, ctype: str = "application/json"):  # type: ignore[no-untyped-def]
    return client.request(
        method, path, content=content, headers={**auth(key), "Content-Type": ctype, "If-Match": '"1"'}
    )


def _assert_problem(response: Any, case: str) -> dict[str, Any]:
    assert response.status_code < 500, f"{case}: {response.status_code} {response.text[:300]}"
    assert 400 <= response.status_code < 500, f"{case}: accepted with {response.status_code}"
    assert response.headers["content-type"].startswith("application/problem+json"), case
    return response.json()  # type: ignore[no-any-return]


def test_every_write_with_a_json_body_is_covered() -> None:
    assert len(OPERATIONS) >= 10, [op[:2] for op in OPERATIONS]


@pytest.mark.parametrize(
    ("method", "path", "name", "schema"), OPERATIONS, ids=[f"{m} {p}" for m, p, _, _ in OPERATIONS]
)
def test_bad_input_never_breaks_the_service(
    client: TestClient, session: Session, method: str, path: str, name: str, schema: dict[str, Any]
) -> None:
    _, admin = make_key(session, "admin")
    valid = schema["examples"][0]
    for field, value in valid.items():
        body = {**valid, field: _wrong_type(value)}
        problem = _assert_problem(
            _send(client, method, path, json.dumps(body).encode(), admin), f"{name}.{field} wrong type"
        )
        if problem["status"] == 422 and "errors" in problem:
            assert any(
                e["field"].split(".")[0] == field or e["pointer"].startswith(f"/body/{field}")
                for e in problem["errors"]
            ), f"{name}.{field}: the 422 does not name the field: {problem['errors']}"

    problem = _assert_problem(
        _send(client, method, path, json.dumps({**valid, "zz_unknown": 1}).encode(), admin), f"{name} unknown field"
    )
    assert problem["status"] == 422 and any(e["pointer"] == "/body/zz_unknown" for e in problem["errors"])

    for field, value in valid.items():
        if isinstance(value, str):
            huge = json.dumps({**valid, field: "x" * 200_000}).encode()
            problem = _assert_problem(_send(client, method, path, huge, admin), f"{name}.{field} huge")
            assert problem["status"] == 422 and any(e["pointer"] == f"/body/{field}" for e in problem["errors"]), (
                problem
            )
            nul = json.dumps({**valid, field: "a\u0000b"}).encode()
            problem = _assert_problem(_send(client, method, path, nul, admin), f"{name}.{field} NUL")
            assert "NUL" in problem["detail"] or any(
                e["pointer"] == f"/body/{field}" for e in problem.get("errors", [])
            )

    problem = _assert_problem(_send(client, method, path, b'{"name": "\xff\xfe"}', admin), f"{name} invalid UTF-8")
    assert problem["status"] in (400, 422)
    problem = _assert_problem(_send(client, method, path, b"{not json", admin), f"{name} malformed JSON")
    assert problem["status"] == 400 and problem["code"] == "MALFORMED_JSON"
    problem = _assert_problem(
        _send(client, method, path, json.dumps(valid).encode(), admin, ctype="text/plain"), f"{name} wrong content type"
    )
    assert problem["status"] in (400, 415, 422)


def test_app_fixture_is_the_documented_app(app: FastAPI) -> None:
    assert {(m, p) for m, p, _, _ in OPERATIONS} <= {
        (m.upper(), _PLACEHOLDER.sub("x-missing", p)) for p, item in app.openapi()["paths"].items() for m in item
    }
