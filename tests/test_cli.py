"""The `upr-match` command line."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect
from typer.testing import CliRunner

from app.cli import cli
from app.config import get_settings

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
