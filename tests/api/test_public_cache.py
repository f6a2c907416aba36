"""Public reads: ETag from the data version, 304 without the query, Cache-Control per family.

Anonymous answers are shared (public, an ETag from the database's data version, 304 on a match);
anything a key or a session sees is `private, no-store`, and never answered from a public ETag.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

from app.http.public_cache import PRIVATE, Rendered, RenderedAnswers, read_data_version
from app.models.data_version import UNVERSIONED_TABLES
from tests.factories import auth, make_activity, make_key, make_need, make_provider, make_recommendation

pytestmark = pytest.mark.db


@pytest.fixture
def data(session: Session) -> dict[str, Any]:
    recommendation = make_recommendation(session)
    provider = make_provider(session)
    need = make_need(session, [recommendation])
    activity = make_activity(session, provider)
    _, key = make_key(session, role="admin")
    return {"rec": recommendation.id, "provider": provider.id, "need": need.id, "activity": activity.id, "key": key}


# One path per family of public reads: lists, items, facets, coverage, analytics, matches, pages.
FAMILIES = {
    "recommendation list": "/v1/recommendations?limit=20",
    "recommendation search": "/v1/recommendations?q=torture",
    "recommendation item": "/v1/recommendations/{rec}",
    "facets": "/v1/recommendations/facets",
    "coverage": "/v1/coverage",
    "provider list": "/v1/providers",
    "need list": "/v1/needs",
    "need matches": "/v1/needs/{need}/matches",
    "activity list": "/v1/activities",
    "analytics": "/v1/analytics/supply-demand",
    "home page": "/",
    "search page": "/recommendations",
    "provider page": "/providers/{provider}",
}


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(args[2])

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


@pytest.mark.parametrize("family", FAMILIES)
def test_anonymous_answer_is_public_and_revalidates_with_304(
    client: TestClient, data: dict[str, Any], family: str
) -> None:
    path = FAMILIES[family].format(**data)
    first = client.get(path)
    assert first.status_code == 200, first.text
    etag = first.headers["etag"]
    assert etag.startswith('"d') and etag.endswith('"')
    assert first.headers["cache-control"].startswith("public, max-age=")
    assert "stale-while-revalidate=" in first.headers["cache-control"]
    assert "Accept-Language" in first.headers["vary"]
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag


@pytest.mark.parametrize("family", FAMILIES)
def test_a_key_sees_private_answers_never_a_public_304(client: TestClient, data: dict[str, Any], family: str) -> None:
    path = FAMILIES[family].format(**data)
    public_etag = client.get(path).headers["etag"]
    answer = client.get(path, headers={**auth(data["key"]), "If-None-Match": public_etag})
    assert answer.status_code == 200, "a public ETag must not answer a keyed request"
    assert answer.headers["cache-control"] == PRIVATE
    assert answer.headers.get("etag") != public_etag
    assert not answer.headers.get("etag", "").startswith('"d')


def test_the_items_own_etag_is_kept_for_writes(client: TestClient, data: dict[str, Any]) -> None:
    anonymous = client.get(f"/v1/providers/{data['provider']}")
    assert anonymous.headers["etag"] == '"1.public"'
    assert anonymous.headers["cache-control"].startswith("public, ")
    keyed = client.get(f"/v1/providers/{data['provider']}", headers=auth(data["key"]))
    assert keyed.headers["etag"] == '"1"'
    assert keyed.headers["cache-control"] == PRIVATE


def test_304_runs_no_query_but_the_version(client: TestClient, engine: Engine, data: dict[str, Any]) -> None:
    path = f"/v1/needs/{data['need']}/matches"
    etag = client.get(path).headers["etag"]
    with statements(engine) as seen:
        assert client.get(path, headers={"If-None-Match": etag}).status_code == 304
    with statements(engine) as unconditional:
        client.get(path + "?limit=5")  # not rendered yet
    assert unconditional, "the check above would see the route's queries"
    # The route's queries would all pass here; the version is read on the raw driver connection.
    assert seen == []
    fresh = client.get(path)
    assert fresh.status_code == 200 and fresh.headers["etag"] == etag


def test_a_write_changes_every_public_etag(client: TestClient, data: dict[str, Any]) -> None:
    paths = ["/v1/recommendations?limit=20", f"/v1/needs/{data['need']}/matches", "/v1/providers", "/"]
    before = {p: client.get(p).headers["etag"] for p in paths}
    created = client.post(
        "/v1/providers",
        json={"name": "Another provider", "kind": "ngo", "description": "Torture prevention support"},
        headers=auth(data["key"]),
    )
    assert created.status_code == 201, created.text
    for path, etag in before.items():
        answer = client.get(path, headers={"If-None-Match": etag})
        assert answer.status_code == 200, path
        assert answer.headers["etag"] != etag


def test_the_language_is_part_of_the_etag(client: TestClient, data: dict[str, Any]) -> None:
    english = client.get("/v1/recommendations/facets").headers["etag"]
    french = client.get("/v1/recommendations/facets", headers={"Accept-Language": "fr"})
    assert french.headers["etag"] != english
    stale = {"Accept-Language": "fr", "If-None-Match": english}
    assert client.get("/v1/recommendations/facets", headers=stale).status_code == 200
    page = client.get("/recommendations").headers["etag"]
    cookie_page = client.get("/recommendations", cookies={"upr_lang": "es"})
    assert cookie_page.headers["etag"] != page
    assert {"Accept-Language", "Cookie"} <= {v.strip() for v in cookie_page.headers["vary"].split(",")}
    assert client.get("/recommendations?lang=fr").headers["etag"] != page


def test_a_session_or_a_cookie_setting_answer_is_private(client: TestClient, data: dict[str, Any]) -> None:
    form = client.get("/needs/new")  # carries a CSRF token: starts a session
    assert "set-cookie" in form.headers
    assert form.headers["cache-control"] == PRIVATE
    assert "etag" not in form.headers
    client.cookies.set("upr_session", "v1.forged.mac")
    answer = client.get("/recommendations")
    assert answer.headers["cache-control"] == PRIVATE
    assert not answer.headers.get("etag", "").startswith('"d')


def test_private_families_are_never_public(client: TestClient, data: dict[str, Any]) -> None:
    for path in ("/v1/keys", "/v1/inbox", "/v1/audit", "/health/live", "/v1/webhooks"):
        for headers in ({}, auth(data["key"])):
            answer = client.get(path, headers=headers)
            assert not answer.headers.get("cache-control", "").startswith("public"), path
            assert not answer.headers.get("etag", "").startswith('"d'), path


def test_every_versioned_table_moves_the_version_whoever_writes(engine: Engine, data: dict[str, Any]) -> None:
    """Triggers, so the CLI, the sync and the worker move it too (here: plain SQL, no ORM)."""
    before = read_data_version(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE provider SET name = name || ' (renamed)'"))
    middle = read_data_version(engine)
    assert middle > before
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM need_recommendation"))
    assert read_data_version(engine) > middle
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM idempotency_record"))
        conn.execute(text("DELETE FROM web_session"))
    assert read_data_version(engine) == read_data_version(engine)


def test_every_table_but_the_private_ones_has_its_trigger(engine: Engine) -> None:
    tables = {t.name for t in SQLModel.metadata.sorted_tables}
    assert tables >= UNVERSIONED_TABLES
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            query = (
                "SELECT DISTINCT event_object_table FROM information_schema.triggers "
                "WHERE trigger_name LIKE '%data_version'"
            )
        else:
            query = "SELECT DISTINCT tbl_name FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%data_version'"
        triggered = {row[0] for row in conn.execute(text(query))}
    assert triggered == tables - UNVERSIONED_TABLES


def test_a_repeated_read_is_sent_from_memory_until_the_data_changes(
    client: TestClient, engine: Engine, data: dict[str, Any]
) -> None:
    path = f"/v1/needs/{data['need']}/matches"
    first = client.get(path)
    with statements(engine) as seen:
        again = client.get(path)
    assert seen == []  # no route ran: the answer kept by its ETag
    assert (again.status_code, again.content, again.headers["etag"]) == (200, first.content, first.headers["etag"])
    assert again.headers["x-request-id"] != first.headers["x-request-id"]  # per-request headers stay fresh
    with engine.begin() as conn:
        conn.execute(text("UPDATE provider SET name = 'Renamed provider'"))
    with statements(engine) as seen:
        fresh = client.get(path)
    assert seen, "after a write the route runs again"
    assert fresh.headers["etag"] != first.headers["etag"]


def test_kept_answers_are_bounded_in_entries_and_bytes() -> None:
    kept = RenderedAnswers(entries=3, max_bytes=100)
    for i in range(5):
        kept.put(f'"d{i}"'.encode(), Rendered(200, [], b"x" * 30))
    assert [kept.get(f'"d{i}"'.encode()) is not None for i in range(5)] == [False, False, True, True, True]
    assert kept.size == 90
    kept.put(b'"big"', Rendered(200, [], b"x" * 101))  # larger than the whole budget: not kept
    assert kept.get(b'"big"') is None
    kept.put(b'"d5"', Rendered(200, [], b"x" * 60))  # evicts the oldest until it fits
    assert kept.size <= 100 and kept.get(b'"d5"') is not None
    assert RenderedAnswers(entries=0, max_bytes=100).get(b'"d0"') is None
