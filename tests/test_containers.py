"""The container files parse and describe the api + PostgreSQL deployment (no Docker engine runs here)."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def test_compose_names_api_and_database_with_healthcheck() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) >= {"api", "db"}
    assert services["db"]["image"].startswith("postgres")
    assert "healthcheck" in services["db"]
    assert services["api"]["depends_on"]["db"]["condition"] == "service_healthy"
    assert services["api"]["environment"]["DATABASE_URL"].startswith("postgresql+psycopg://")
    volume = services["db"]["volumes"][0].split(":")[0]
    assert volume in compose["volumes"], "database data must live in a named volume"


def test_dockerfile_runs_as_non_root_and_migrates_first() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert "USER upr" in text
    assert text.index("COPY pyproject.toml") < text.index("COPY app"), "dependencies get their own layer"
    cmd = [line for line in text.splitlines() if line.startswith("CMD")][0]
    assert cmd.index("upr-match migrate") < cmd.index("upr-match serve")
