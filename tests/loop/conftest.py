"""Fixtures of the cooperation-loop tests: an app and settings that allow local receivers, short retries."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from app.core.config import Settings, get_settings
from app.main import create_app


@pytest.fixture
def loop_settings(settings: Settings) -> Settings:
    """Local http receivers allowed (WEBHOOK_ALLOW_PRIVATE), retries after 50 ms, 1 s timeout."""
    return settings.model_copy(
        update={
            "WEBHOOK_ALLOW_PRIVATE": True,
            "WEBHOOK_RETRY_SCHEDULE": [0.05, 0.05, 0.05],
            "WEBHOOK_TIMEOUT_S": 1.0,
            "WORKER_LEASE_S": 2.0,
            "WORKER_CONCURRENCY": 4,
        }
    )


@pytest.fixture
def lclient(loop_settings: Settings, engine: Engine) -> Iterator[TestClient]:
    """The API with `loop_settings`."""
    app = create_app(loop_settings, engine=engine)
    app.dependency_overrides[get_settings] = lambda: loop_settings
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client
