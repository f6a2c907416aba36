"""Fixtures for the page tests: an HTTPS test client (the session cookie is `Secure`) and a CSRF helper."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives a headless Chromium against a live server")


@pytest.fixture
def web(app: FastAPI) -> Iterator[TestClient]:
    """A browser-like client: https (so `Secure` cookies come back), no redirects followed."""
    with TestClient(
        app, base_url="https://testserver", raise_server_exceptions=False, follow_redirects=False
    ) as client:
        yield client


@pytest.fixture
def other_web(app: FastAPI) -> Iterator[TestClient]:
    """A second browser, with its own cookies."""
    with TestClient(
        app, base_url="https://testserver", raise_server_exceptions=False, follow_redirects=False
    ) as client:
        yield client


CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    found = CSRF_RE.search(html)
    assert found, "page has no CSRF field"
    return found.group(1)


def sign_in(client: TestClient, key: str) -> None:
    token = csrf_from(client.get("/signin").text)
    response = client.post("/signin", data={"api_key": key, "csrf_token": token, "next": "/"})
    assert response.status_code == 303, response.text


def fresh(session: Session) -> Session:
    """End the test's read snapshot (SQLite WAL) so it sees what the app committed."""
    session.rollback()
    session.expire_all()
    return session
