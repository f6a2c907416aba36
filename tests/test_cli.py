"""The `upr-match` command line."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, inspect
from typer.testing import CliRunner

from app.cli import cli, ready_banner
from app.core.config import get_settings
from tests.conftest import migrate
from tests.live import ROOT, free_port

runner = CliRunner()


def test_help_lists_commands() -> None:
    result = runner.invoke(cli, ["--help"])
    assert result.exit_code == 0
    for command in ("serve", "migrate"):
        assert command in result.output


def test_migrate_creates_schema_on_sqlite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        result = runner.invoke(cli, ["migrate"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "database at head" in result.output
    engine = create_engine(url)
    assert "recommendation" in inspect(engine).get_table_names()
    engine.dispose()


def test_serve_rejects_zero_workers() -> None:
    result = runner.invoke(cli, ["serve", "--workers", "0"])
    assert result.exit_code == 2


def test_keys_create_prints_key_alone_on_last_line_then_list_and_revoke(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'keys.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        assert runner.invoke(cli, ["migrate"]).exit_code == 0
        created = runner.invoke(cli, ["keys", "create", "--role", "state", "--state", "ken", "--name", "Kenya"])
        assert created.exit_code == 0, created.output
        key = created.stdout.strip().splitlines()[-1]
        assert key.startswith("upr_") and " " not in key
        listed = runner.invoke(cli, ["keys", "list"])
        assert "KEN" in listed.stdout and key not in listed.stdout
        key_id = [line.split()[0] for line in listed.stdout.splitlines() if "KEN" in line][0]
        revoked = runner.invoke(cli, ["keys", "revoke", key_id])
        assert revoked.exit_code == 0 and "revoked" in revoked.stdout
        bad = runner.invoke(cli, ["keys", "create", "--role", "state", "--state", "XXX", "--name", "n"])
        assert bad.exit_code == 1 and "We don't know a country with the code XXX" in bad.stderr
    finally:
        get_settings.cache_clear()


def test_keys_create_unbound_provider_key_and_refuse_unknown_provider(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'providers.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        assert runner.invoke(cli, ["migrate"]).exit_code == 0
        created = runner.invoke(cli, ["keys", "create", "--role", "provider", "--name", "UNDP"])
        assert created.exit_code == 0, created.output
        assert created.stdout.strip().splitlines()[-1].startswith("upr_")
        assert "owner=-" in created.stderr
        bad = runner.invoke(cli, ["keys", "create", "--role", "provider", "--name", "X", "--provider", "nope"])
        assert bad.exit_code == 1 and "does not exist" in bad.stderr
    finally:
        get_settings.cache_clear()


def test_ready_banner_names_the_address_served() -> None:
    assert ready_banner("127.0.0.1", 8123).startswith("upr-match is serving at http://127.0.0.1:8123  (pages:")
    everywhere = ready_banner("0.0.0.0", 8124)
    assert "http://0.0.0.0:8124" in everywhere and "open http://127.0.0.1:8124/" in everywhere


@pytest.mark.slow
def test_serve_prints_its_real_address_once_it_answers(tmp_path: Path) -> None:
    """The banner appears only when /health/live answers, and names the host and port really served."""
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    migrate(url)
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "ENVIRONMENT": "test",
        "LOG_LEVEL": "WARNING",
        "SECRET_KEY_FILE": str(tmp_path / "secret"),
        "MODEL_DIR": str(tmp_path / "models"),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # blocks until the banner (or the end of the output)
        assert line.startswith(f"upr-match is serving at http://127.0.0.1:{port}"), line
        assert httpx.get(f"http://127.0.0.1:{port}/health/live", timeout=5).status_code == 200
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(15)
