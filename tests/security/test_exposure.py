"""Excessive data exposure (OWASP API3): contact e-mails never reach anonymous callers.

Every GET under /v1/providers, /v1/needs and /v1/activities in the OpenAPI is called,
so a new read endpoint is covered without editing this file.
"""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import Session

from app.models.api_key import ApiKey
from app.models.common import utcnow
from tests.factories import auth, make_activity, make_key, make_need, make_provider

PROBE = "leak-probe@provider.example"
PREFIXES = ("/v1/providers", "/v1/needs", "/v1/activities")


def _get_paths(app: FastAPI) -> list[str]:
    """The reads under PREFIXES that anonymous callers may make (their security allows no key)."""
    return sorted(
        path
        for path, item in app.openapi()["paths"].items()
        if "get" in item and path.startswith(PREFIXES) and {} in item["get"].get("security", [{}])
    )


def test_the_reads_for_keys_only_refuse_anonymous_callers(
    client: TestClient, app: FastAPI, world: dict[str, str]
) -> None:
    """Those left out above (an activity's proposals and versions) answer 401 without a key, and name no one."""
    spec = app.openapi()["paths"]
    keyed = [p for p, item in spec.items() if "get" in item and p.startswith(PREFIXES) and p not in _get_paths(app)]
    assert "/v1/activities/{activity_id}/versions" in keyed
    for path in keyed:
        response = client.get(re.sub(r"\{(\w+)\}", lambda m: world.get(m.group(1), "x-missing"), path))
        assert response.status_code == 401 and PROBE not in response.text, path


@pytest.fixture
def world(session: Session) -> dict[str, str]:
    provider = make_provider(session, contact_email=PROBE)
    need = make_need(session)
    activity = make_activity(session, provider, need_id=need.id)
    return {"provider_id": provider.id, "need_id": need.id, "activity_id": activity.id}


def _urls(app: FastAPI, world: dict[str, str]) -> list[str]:
    urls = []
    spec = app.openapi()["paths"]
    probes = {"provider_id": world["provider_id"], "q": "provider", "limit": "100"}
    for path in _get_paths(app):
        url = re.sub(r"\{(\w+)\}", lambda m: world[m.group(1)], path)
        urls.append(url)
        # Each list with the filters it takes (an undeclared query parameter is a 422).
        declared = {p["name"] for p in spec[path]["get"].get("parameters", []) if p["in"] == "query"}
        query = "&".join(f"{name}={value}" for name, value in probes.items() if name in declared)
        if "{" not in path and query:
            urls.append(f"{url}?{query}")
    return urls


def test_every_read_path_is_exercised(app: FastAPI) -> None:
    assert set(_get_paths(app)) >= {
        "/v1/providers",
        "/v1/providers/{provider_id}",
        "/v1/needs",
        "/v1/needs/{need_id}",
        "/v1/activities",
        "/v1/activities/{activity_id}",
    }


def test_anonymous_responses_never_carry_contact_email(client: TestClient, app: FastAPI, world: dict[str, str]) -> None:
    for url in _urls(app, world):
        response = client.get(url)
        assert response.status_code == 200, (url, response.text)
        assert PROBE not in response.text, url
        assert '"contact_email"' not in response.text, url


def test_anonymous_cached_and_filtered_reads_carry_no_email(client: TestClient, world: dict[str, str]) -> None:
    url = f"/v1/providers/{world['provider_id']}"
    etag = client.get(url).headers["etag"]
    cached = client.get(url, headers={"If-None-Match": etag})
    assert cached.status_code == 304 and cached.content == b""
    for params in ({"theme": "torture and other cid treatment"}, {"language": "en"}, {"kind": "ngo"}):
        text = client.get("/v1/providers", params=params).text
        assert PROBE not in text and '"contact_email"' not in text


@pytest.mark.parametrize("role", ["admin", "state", "provider", "other_provider"])
def test_authenticated_callers_see_contact_email(
    client: TestClient, app: FastAPI, session: Session, world: dict[str, str], role: str
) -> None:
    if role == "state":
        _, secret = make_key(session, "state", state="KEN")
    elif role == "provider":
        _, secret = make_key(session, "provider", provider_id=world["provider_id"])
    elif role == "other_provider":
        other = make_provider(session)
        _, secret = make_key(session, "provider", provider_id=other.id)
    else:
        _, secret = make_key(session, "admin")
    listed = client.get("/v1/providers", headers=auth(secret)).json()
    assert PROBE in [p["contact_email"] for p in listed["items"]]
    one = client.get(f"/v1/providers/{world['provider_id']}", headers=auth(secret)).json()
    assert one["contact_email"] == PROBE


def test_revoked_key_gets_401_not_public_data(client: TestClient, session: Session, world: dict[str, str]) -> None:
    row, secret = make_key(session, "admin")
    session.exec(update(ApiKey).where(ApiKey.id == row.id).values(revoked_at=utcnow()))  # type: ignore[call-overload]
    session.commit()
    response = client.get("/v1/providers", headers=auth(secret))
    assert response.status_code == 401 and PROBE not in response.text
