"""A client cannot forge log lines: control characters in a request path are escaped in every log."""

from __future__ import annotations

import logging

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.core.logtext import escape_control

FORGED = "/v1/needs/x%0d%0a2026-12-01 12:00:00 INFO app.access: GET /v1/keys 200%1b[2J%e2%80%a8"


def _messages(caplog: pytest.LogCaptureFixture, logger: str) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == logger]


def test_access_log_escapes_control_characters_of_the_path(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="app.access"):
        client.get(FORGED)
    [line] = _messages(caplog, "app.access")
    assert "\n" not in line and "\r" not in line and "\x1b" not in line and "\u2028" not in line
    assert "x\\r\\n2026-12-01 12:00:00 INFO app.access: GET /v1/keys 200\\x1b[2J\\u2028" in line


def test_error_log_escapes_control_characters_of_the_path(
    client: TestClient, app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    @app.get("/v1/_fail/{anything}")
    def fail(anything: str) -> None:
        raise RuntimeError("boom")

    with caplog.at_level(logging.ERROR, logger="app.errors"):
        assert client.get("/v1/_fail/a%1b[2J%e2%80%a8FORGED%20line").status_code == 500
    [message] = _messages(caplog, "app.errors")
    assert message == "unhandled error on GET /v1/_fail/a\\x1b[2J\\u2028FORGED line"


@pytest.mark.parametrize(
    ("text", "escaped"),
    [("plain /path é", "plain /path é"), ("a\nb", "a\\nb"), ("\x00\x7f\x85", "\\x00\\x7f\\x85"), ("\u2029", "\\u2029")],
)
def test_escape_control(text: str, escaped: str) -> None:
    assert escape_control(text) == escaped
