"""Schemathesis over every operation of /openapi.json, as each role: no 5xx, and every answer matches the document.

Checks: not_a_server_error, status_code_conformance, content_type_conformance,
response_schema_conformance, response_headers_conformance (schemathesis defaults
for `call_and_validate`). Runs on SQLite and, in CI, PostgreSQL.

As admin, every phase: the schema's examples, schemathesis' coverage phase (each parameter's
boundary and invalid values) and generated cases; as the other roles, the examples and generated
cases (see `role_schema`).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis import checks as st_checks
from schemathesis.config import SchemathesisConfig
from sqlmodel import Session

from app.core.config import Settings
from app.core.db import create_db_engine
from app.main import create_app
from app.services import themes as theme_service
from tests.conftest import migrate
from tests.dbutil import create_database, drop_database, new_database_url
from tests.factories import auth, make_activity, make_key, make_need, make_provider, make_recommendation
from tests.tagging import write_tiny_tagger

pytestmark = [pytest.mark.db, pytest.mark.slow]

# Cases per operation: more as admin (every operation reachable), fewer per other role,
# to keep CI (SQLite and PostgreSQL) within its budget; the bench run uses 200.
ADMIN_EXAMPLES = 12
ROLE_EXAMPLES = 5


# The app exists at import (schemathesis reads its schema while collecting); its database
# is created and seeded by the module fixture before the app's lifespan opens it.
FUZZ_DIR = Path(tempfile.mkdtemp(prefix="upr-fuzz-"))
FUZZ_URL = new_database_url(FUZZ_DIR)
FUZZ_SETTINGS = Settings(
    DATABASE_URL=FUZZ_URL,
    MODEL_DIR=FUZZ_DIR / "models",
    ENVIRONMENT="test",
    RATE_LIMIT_PER_MINUTE=10**7,
    WRITE_QUOTA_PER_HOUR=10**7,
    AUTH_FAILURES_PER_MINUTE=10**7,
    _env_file=None,  # type: ignore[call-arg]
)
APP = create_app(FUZZ_SETTINGS)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)
# The coverage phase (each parameter's boundary and invalid values, 50-100 cases an operation) tries the
# request validation, which is the same whoever calls: it runs as admin, who reaches every operation.
# The other roles keep the examples and generated cases. Sent again as each role, the same coverage
# cases cost most of this file's CPU time (as State: 63 CPU-s with them, 23 without).
role_schema = schemathesis.openapi.from_asgi(
    "/openapi.json", APP, config=SchemathesisConfig.from_dict({"phases": {"coverage": {"enabled": False}}})
)


@pytest.fixture(scope="module")
def fuzz_env() -> Iterator[dict[str, Any]]:
    create_database(FUZZ_URL)
    try:
        migrate(FUZZ_URL)
        write_tiny_tagger(theme_service.artifact_path(FUZZ_SETTINGS))  # so /v1/classify answers, not 503
        engine = create_db_engine(FUZZ_SETTINGS)
        with Session(engine) as session:
            rec = make_recommendation(session, state_under_review="FRA")
            provider = make_provider(session, contact_email="desk@provider.example")
            make_need(session, recommendations=[rec], state="FRA")
            make_activity(session, provider, recommendations=[rec], status="completed")
            keys = {
                "admin": make_key(session, "admin")[1],
                "state": make_key(session, "state", state="FRA")[1],
                "provider": make_key(session, "provider", provider_id=provider.id)[1],
            }
        engine.dispose()
        with TestClient(APP):  # runs the lifespan: engine, matching index
            yield {"keys": keys}
    finally:
        drop_database(FUZZ_URL)


FUZZ_ADMIN = settings(
    max_examples=ADMIN_EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
)
FUZZ = settings(max_examples=ROLE_EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))


# The contract checks: every answer documented, valid against its schema, no 5xx (CONTRIBUTING.md, "Tests").
# A longer schemathesis run by hand can add the data-acceptance, Allow-header and stateful checks.
CHECKS = [
    getattr(st_checks, name)
    for name in (
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "response_headers_conformance",
    )
]


def _call(case: Any, fuzz_env: dict[str, Any], role: str) -> None:
    headers = auth(fuzz_env["keys"][role]) if role != "anonymous" else {}
    case.call_and_validate(headers=headers, checks=CHECKS)


# One test per role (schemathesis' lazy schemas take no parametrized fixtures).
@schema.parametrize()
@FUZZ_ADMIN
def test_contract_as_admin(case: Any, fuzz_env: dict[str, Any]) -> None:
    _call(case, fuzz_env, "admin")


@role_schema.parametrize()
@FUZZ
def test_contract_as_state(case: Any, fuzz_env: dict[str, Any]) -> None:
    _call(case, fuzz_env, "state")


@role_schema.parametrize()
@FUZZ
def test_contract_as_provider(case: Any, fuzz_env: dict[str, Any]) -> None:
    _call(case, fuzz_env, "provider")


@role_schema.parametrize()
@FUZZ
def test_contract_as_anonymous(case: Any, fuzz_env: dict[str, Any]) -> None:
    _call(case, fuzz_env, "anonymous")
