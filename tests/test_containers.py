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


def test_a_worker_runs_beside_the_api_on_the_same_database_after_the_migrations() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    worker, api = services["worker"], services["api"]
    assert worker["command"] == ["upr-match", "worker"] and worker["build"] == api["build"]
    # Same database, same secret (the unsubscribe links the worker signs are checked by the API).
    assert worker["environment"]["DATABASE_URL"] == api["environment"]["DATABASE_URL"]
    assert worker["environment"]["SECRET_KEY"] == api["environment"]["SECRET_KEY"]
    assert worker["environment"]["WEBHOOK_SECRET_KEYS"] == api["environment"]["WEBHOOK_SECRET_KEYS"]
    assert "SMTP_URL" in worker["environment"] and "PUBLIC_URL" in worker["environment"]
    # The API migrates before it is healthy; the worker waits for that.
    assert worker["depends_on"]["api"]["condition"] == "service_healthy" and "healthcheck" in api
    assert "/health/live" in " ".join(api["healthcheck"]["test"])
    assert any(m.startswith("models:") and m.endswith(":ro") for m in worker["volumes"]), "alerts rank with the tagger"
    assert worker.get("restart") == "unless-stopped"


def test_make_run_starts_the_worker_beside_the_server() -> None:
    makefile = (ROOT / "Makefile").read_text()
    run = makefile[makefile.index("\nrun:") :].split("\n\n")[0]
    assert "upr-match serve" in run and "--with-worker" in run


def test_the_replicas_profile_runs_two_apis_their_workers_redis_and_a_proxy() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    profiled = {name for name, service in services.items() if "replicas" in service.get("profiles", [])}
    assert profiled == {"redis", "api-2", "worker-2", "proxy"}
    assert services["api-2"]["build"] == services["api"]["build"]
    assert services["api-2"]["environment"] == services["api"]["environment"]
    assert services["worker-2"]["command"] == services["worker"]["command"]
    assert services["redis"]["image"].startswith("redis:")
    assert services["proxy"]["image"].startswith(("nginx:", "caddy:"))
    assert "RATE_LIMIT_STORAGE_URL" in services["api"]["environment"]
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    assert "server api:8000" in conf and "server api-2:8000" in conf
    # The proxy's cache never holds an answer to a key or a session.
    assert "proxy_no_cache $http_authorization $cookie_upr_session" in conf
