"""Fixtures of the cooperation-loop tests: an app and settings that allow local receivers, short retries."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from app.core.config import Settings
from tests.apputil import app_for


@pytest.fixture
def loop_settings(settings: Settings) -> Settings:
    """Local http receivers allowed (WEBHOOK_ALLOW_PRIVATE), retries after 50 ms, a 10 s timeout.

    The timeout is generous so that a loaded CI machine cannot turn a slow answer into a failed delivery;
    the tests about hanging receivers set their own short timeout.
    """
    return settings.model_copy(
        update={
            "WEBHOOK_ALLOW_PRIVATE": True,
            "WEBHOOK_RETRY_SCHEDULE": [0.05, 0.05, 0.05],
            "WEBHOOK_TIMEOUT_S": 10.0,
            "WORKER_LEASE_S": 2.0,
            "WORKER_CONCURRENCY": 4,
        }
    )


@pytest.fixture
def lclient(loop_settings: Settings, engine: Engine) -> Iterator[TestClient]:
    """The API with `loop_settings`."""
    with TestClient(app_for(loop_settings, engine), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def smtp() -> Iterator[Any]:
    """A real SMTP server (aiosmtpd) on a free loopback port, keeping what it receives."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    class Keep(Message):
        def __init__(self) -> None:
            super().__init__()
            self.messages: list[Any] = []

        def handle_message(self, message: Any) -> None:
            self.messages.append(message)

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    handler = Keep()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, f"smtp://127.0.0.1:{port}"
    finally:
        controller.stop()
