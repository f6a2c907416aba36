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


def test_trained_model_lives_on_a_named_volume_and_is_trained_once_before_the_api() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    dockerfile = (ROOT / "Dockerfile").read_text()
    model_dir = next(
        part.split("=", 1)[1]
        for line in dockerfile.splitlines()
        if line.startswith("ENV")
        for part in line.split()
        if part.startswith("MODEL_DIR=")
    )
    for name in ("api", "train"):
        mounts = {m.split(":")[1]: m.split(":")[0] for m in services[name]["volumes"]}
        assert model_dir in mounts, f"{name} does not mount MODEL_DIR"
        assert mounts[model_dir] in compose["volumes"], f"{name}: MODEL_DIR must be a named volume"
    train = services["train"]
    assert train["command"][:2] == ["sh", "-c"] and train["command"][2].startswith("upr-match train --if-missing ||")
    assert any(m.endswith(":/data/upr:ro") for m in train["volumes"]), "training reads the shared data, read-only"
    assert train.get("restart") == "no"
    assert services["api"]["depends_on"]["train"]["condition"] == "service_completed_successfully"
    # The mount point exists in the image and belongs to the service user, so the new volume is writable.
    build_steps = dockerfile[: dockerfile.index("USER upr")]
    assert f"mkdir -p {model_dir}" in build_steps and "chown -R upr /srv/upr-match/var" in build_steps


def test_compose_documents_the_trusted_proxies() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert "FORWARDED_ALLOW_IPS" in compose["services"]["api"]["environment"]
