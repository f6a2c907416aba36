"""Inventory and misconfiguration (OWASP API8/API9): what the API exposes is what it documents."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from app import __version__
from app.core.config import Settings
from app.http.openapi import api_routes
from app.main import create_app

ROOT = Path(__file__).resolve().parents[2]
# The web pages' stylesheet; the pages themselves are APIRoutes left out of the schema on purpose.
UNDOCUMENTED_ALLOWED = {"/openapi.json", "/docs", "/docs/init.js", "/docs/assets", "/static"}
FORBIDDEN_PREFIXES = ("/debug", "/test", "/v0", "/admin/debug")


def test_committed_openapi_matches_generated() -> None:
    committed = json.loads((ROOT / "openapi.json").read_text(encoding="utf-8"))
    generated = json.loads(json.dumps(create_app().openapi()))
    assert committed == generated, "openapi.json is stale: run `upr-match openapi --output openapi.json`"


def test_every_route_is_documented(app: FastAPI) -> None:
    documented = set(app.openapi()["paths"])
    served = {route.path_format for route in api_routes(app)}
    assert served <= documented
    starlette_only = {getattr(r, "path", None) for r in app.routes if not hasattr(r, "original_router")}
    assert starlette_only - {None} <= UNDOCUMENTED_ALLOWED | documented


def test_every_operation_has_a_security_decision_and_an_id(app: FastAPI) -> None:
    missing = []
    for path, item in app.openapi()["paths"].items():
        for method, operation in item.items():
            if "security" not in operation or not operation.get("operationId"):
                missing.append(f"{method.upper()} {path}")
    assert missing == []


def test_every_api_operation_documents_its_problems(app: FastAPI) -> None:
    undocumented = []
    for path, item in app.openapi()["paths"].items():
        if not path.startswith("/v1/"):
            continue
        for method, operation in item.items():
            problems = [code for code in operation.get("responses", {}) if code.startswith("4")]
            content = [operation["responses"][c].get("content", {}) for c in problems]
            if not problems or not all("application/problem+json" in c for c in content):
                undocumented.append(f"{method.upper()} {path}")
    assert undocumented == []


def test_version_and_no_debug_routes(app: FastAPI) -> None:
    schema = app.openapi()
    assert schema["info"]["version"] == __version__
    assert not [p for p in schema["paths"] if p.startswith(FORBIDDEN_PREFIXES)]
    assert app.debug is False


def test_trace_is_405(client: TestClient) -> None:
    assert client.request("TRACE", "/v1/keys").status_code == 405


def test_no_cors_by_default(client: TestClient) -> None:
    response = client.options(
        "/v1/keys", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}
    )
    assert "access-control-allow-origin" not in response.headers


def test_configured_cors_never_allows_credentials_or_other_origins(settings: Settings, engine: Engine) -> None:
    configured = settings.model_copy(update={"CORS_ORIGINS": ["https://partner.example"]})
    with TestClient(create_app(configured, engine=engine)) as client:
        evil = client.options(
            "/v1/keys", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}
        )
        good = client.options(
            "/v1/keys", headers={"Origin": "https://partner.example", "Access-Control-Request-Method": "GET"}
        )
    assert evil.headers.get("access-control-allow-origin") is None
    assert good.headers["access-control-allow-origin"] == "https://partner.example"
    assert "access-control-allow-credentials" not in good.headers


def test_wildcard_cors_refused_in_production() -> None:
    with pytest.raises(ValueError, match="CORS_ORIGINS"):
        Settings(ENVIRONMENT="production", CORS_ORIGINS=["*"], _env_file=None)  # type: ignore[call-arg]


def test_every_schema_has_examples_that_validate(app: FastAPI) -> None:
    import jsonschema

    schema = app.openapi()
    components = schema["components"]["schemas"]
    registry_root = {"components": {"schemas": components}}
    missing, invalid = [], []
    for name, component in components.items():
        examples = component.get("examples")
        if not examples:
            missing.append(name)
            continue
        resolver_schema = {**component, "components": registry_root["components"]}
        validator = jsonschema.Draft202012Validator(resolver_schema)
        for example in examples:
            errors = [e.message for e in validator.iter_errors(example)]
            if errors:
                invalid.append(f"{name}: {errors[:2]}")
    assert missing == [], f"schemas without examples: {missing}"
    assert invalid == [], invalid
