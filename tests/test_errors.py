"""Every error path renders RFC 9457 application/problem+json."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel, ConfigDict, Field

from app.core.errors import NotFound, Problem


def assert_problem(response, status: int) -> dict:  # type: ignore[no-untyped-def, type-arg]
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    assert isinstance(body["type"], str) and body["type"]
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    return body


class Probe(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=10)
    count: int = Field(ge=0)


@pytest.fixture
def probe_app(app: FastAPI) -> FastAPI:
    @app.get("/v1/_boom")
    def boom() -> None:
        raise RuntimeError("secret /etc/passwd SELECT * FROM key")

    @app.post("/v1/_probe")
    def probe(body: Probe) -> Probe:
        return body

    @app.get("/v1/_missing")
    def missing() -> None:
        raise NotFound("Need 42 does not exist.")

    return app


def test_unknown_route_is_problem_json(client: TestClient) -> None:
    body = assert_problem(client.post("/v1/anything", content=b"{bad"), 404)
    assert body["type"] == "about:blank"
    assert body["title"] == "Not Found"


def test_method_not_allowed_is_problem_json(client: TestClient) -> None:
    body = assert_problem(client.request("TRACE", "/health/live"), 405)
    assert "TRACE" in body["detail"]


def test_forced_exception_gives_500_without_traceback(client: TestClient, probe_app: FastAPI) -> None:
    response = client.get("/v1/_boom")
    body = assert_problem(response, 500)
    assert body["type"] == Problem.type_uri()
    text = response.text
    for leak in ("Traceback", "/etc/passwd", "SELECT", "RuntimeError", ".py"):
        assert leak not in text


def test_malformed_json_is_400(client: TestClient, probe_app: FastAPI) -> None:
    response = client.post("/v1/_probe", content=b'{"name": "x",', headers={"content-type": "application/json"})
    body = assert_problem(response, 400)
    assert body["code"] == "MALFORMED_JSON"


def test_validation_lists_every_bad_field(client: TestClient, probe_app: FastAPI) -> None:
    response = client.post("/v1/_probe", json={"name": "", "count": -1})
    body = assert_problem(response, 422)
    pointers = {e["pointer"] for e in body["errors"]}
    assert pointers == {"/body/name", "/body/count"}
    assert all(e["detail"] for e in body["errors"])


def test_unknown_field_is_rejected(client: TestClient, probe_app: FastAPI) -> None:
    response = client.post("/v1/_probe", json={"name": "a", "count": 1, "id": "x"})
    body = assert_problem(response, 422)
    assert body["errors"][0]["pointer"] == "/body/id"
    assert "unknown field" in body["errors"][0]["detail"]


def test_body_over_limit_is_413(client: TestClient, probe_app: FastAPI) -> None:
    huge = b'{"name": "' + b"a" * (2 * 1024 * 1024) + b'", "count": 1}'
    response = client.post("/v1/_probe", content=huge, headers={"content-type": "application/json"})
    assert_problem(response, 413)


def test_chunked_body_over_limit_is_413(client: TestClient, probe_app: FastAPI) -> None:
    def chunks():  # type: ignore[no-untyped-def]
        yield b'{"name": "'
        for _ in range(40):
            yield b"a" * 65536
        yield b'", "count": 1}'

    response = client.post("/v1/_probe", content=chunks(), headers={"content-type": "application/json"})
    assert_problem(response, 413)


def test_problem_subclass_renders_its_status(client: TestClient, probe_app: FastAPI) -> None:
    body = assert_problem(client.get("/v1/_missing"), 404)
    assert body["type"] == "/problems/not-found"
    assert body["code"] == "NOT_FOUND"
    assert body["detail"] == "Need 42 does not exist."
    assert body["instance"] == "/v1/_missing"


def test_security_headers_on_every_response(client: TestClient) -> None:
    response = client.get("/health/live")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-request-id"]
    assert "server" not in {
        k.lower() for k in response.headers if k.lower() == "server" and "uvicorn" in response.headers[k]
    }


def test_nul_in_json_body_is_422(client: TestClient, probe_app: FastAPI) -> None:
    response = client.post(
        "/v1/_probe", content=b'{"name": "a\\u0000b", "count": 1}', headers={"content-type": "application/json"}
    )
    body = assert_problem(response, 422)
    assert "NUL" in body["detail"]


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json; x=ndjson",
        "application/json;charset=utf-8; profile=jsonl",
        "application/x-ndjson+json",
        "text/json",
    ],
)
def test_nul_guard_covers_every_media_type_parsed_as_json(
    client: TestClient, probe_app: FastAPI, content_type: str
) -> None:
    # The body parser reads all of these as JSON, so the guard must too (the import types alone are exempt).
    response = client.post(
        "/v1/_probe", content=b'{"name": "a\\u0000b", "count": 1}', headers={"content-type": content_type}
    )
    body = assert_problem(response, 422)
    assert "NUL" in body["detail"]


def test_nul_in_query_is_422_naming_the_parameter(client: TestClient) -> None:
    body = assert_problem(client.get("/v1/recommendations?state=%00FR"), 422)
    assert body["errors"][0]["pointer"] == "/query/state"


def test_exhausted_connection_pool_is_503_not_500(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from sqlmodel import Session

    from app.core.db import create_db_engine
    from app.main import create_app
    from tests.factories import auth, make_key

    engine = create_db_engine(settings, pool_size=1, max_overflow=0, pool_timeout=0.2)
    with Session(engine) as session:
        _, admin = make_key(session, "admin")
    with TestClient(create_app(settings, engine=engine), raise_server_exceptions=False) as client:
        held = engine.connect()  # the only connection, taken
        try:
            response = client.get("/v1/keys", headers=auth(admin))
        finally:
            held.close()
        body = assert_problem(response, 503)
        assert response.headers["retry-after"] == "2" and "busy" in body["detail"]
        assert client.get("/v1/keys", headers=auth(admin)).status_code == 200
    engine.dispose()
