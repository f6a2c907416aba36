"""Who may use the pages of activity reports, keys, registrations, good practices, feeds and downloads.

Every such page route x every kind of visitor: signed out, the two parties of an activity (France
and the provider), a stranger State (Germany) and an administrator. `test_every_new_page_route_is_here`
fails when one of these pages' routes has no row.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.models.registration import ProviderRegistration
from tests.factories import make_activity
from tests.web.conftest import csrf_from, sign_in
from tests.web.seed import Seed, seed

VISITORS = ("anonymous", "fra", "ngo", "deu", "admin")
SIGN_IN = 303  # signed out: sent to the sign-in page
# (method, path, expected status per visitor in VISITORS' order). {activity}: an ongoing confirmed activity of
# the provider in France; {key}: a State key; {registration}: a pending request; {token}: a request's link.
ROUTES: list[tuple[str, str, tuple[int, ...]]] = [
    ("GET", "/activities/{activity}/report", (SIGN_IN, 200, 200, 403, 200)),
    ("POST", "/activities/{activity}/report", (SIGN_IN, 303, 303, 403, 303)),
    ("POST", "/activities/{activity}/start", (SIGN_IN, 303, 303, 403, 303)),
    ("GET", "/admin/keys", (SIGN_IN, 403, 403, 403, 200)),
    ("POST", "/admin/keys", (SIGN_IN, 403, 403, 403, 201)),
    ("POST", "/admin/keys/{key}/revoke", (SIGN_IN, 403, 403, 403, 303)),
    ("GET", "/admin/registrations", (SIGN_IN, 403, 403, 403, 200)),
    ("POST", "/admin/registrations/{registration}/{verb}", (SIGN_IN, 403, 403, 403, 303)),
    ("GET", "/register", (200, 200, 200, 200, 200)),
    ("POST", "/register", (201, 201, 201, 201, 201)),
    ("GET", "/register/status", (200, 200, 200, 200, 200)),
    ("POST", "/register/status", (200, 200, 200, 200, 200)),
    ("GET", "/practices", (200, 200, 200, 200, 200)),
    ("GET", "/practices/{activity_id}", (200, 200, 200, 200, 200)),
    ("GET", "/feeds/practices.atom", (200, 200, 200, 200, 200)),
    ("GET", "/feeds/needs.atom", (200, 200, 200, 200, 200)),
    ("GET", "/data", (200, 200, 200, 200, 200)),
    ("GET", "/data/{name}", (200, 200, 200, 200, 200)),
]
BODIES = {
    "/activities/{activity}/report": {"status": "ongoing", "outcomes": "Twenty judges trained.", "version": "1"},
    "/activities/{activity}/start": {"version": "1"},
    "/admin/keys": {"role": "state", "state": "KEN", "name": "Kenya mission"},
    "/register": {
        "organisation": "Rights Lab",
        "kind": "ngo",
        "contact_name": "Ana Ruiz",
        "contact_email": "ana@lab.example.org",
    },
}


@pytest.fixture
def data(session: Session) -> Seed:
    return seed(session)


@pytest.fixture
def visitor_client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False, follow_redirects=False) as c:
        yield c


def test_every_new_page_route_is_here(app: FastAPI) -> None:
    modules = {"activity_report", "admin_pages", "registration_pages", "practice_pages"}
    served = {
        (method, str(context.path_format))
        for context in iter_route_contexts(app.routes)
        if isinstance(context.original_route, APIRoute)
        and context.original_route.endpoint.__module__.rsplit(".", 1)[-1] in modules
        for method in context.methods or ()
        if method != "HEAD"
    }
    listed = {(method, re.sub(r"\{(activity|key|registration)\}", r"{\1_id}", path)) for method, path, _ in ROUTES}
    assert served == listed, (sorted(served - listed), sorted(listed - served))


@pytest.mark.parametrize(("method", "path", "expected"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_page_matrix(
    visitor_client: TestClient,
    session: Session,
    data: Seed,
    method: str,
    path: str,
    expected: tuple[int, ...],
) -> None:
    from app.models.registration import RegistrationCreate
    from app.services import registrations

    activity = make_activity(session, data.providers["ngo"], status="ongoing")
    request, token = registrations.request_registration(
        session,
        data=RegistrationCreate(organisation="Lab", kind="ngo", contact_name="Al", contact_email="al@lab.example.org"),
        admin_address=None,
        status_url="https://testserver/register/status?token=",
    )
    values = {
        "activity": activity.id,
        "activity_id": data.activities["workshop"].id,
        "key": data.keys["deu"][0].id,
        "registration": request.id,
        "verb": "approve",
        "name": "needs.csv",
    }
    results = []
    for visitor, status in zip(VISITORS, expected, strict=True):
        visitor_client.cookies.clear()
        if visitor == "admin":
            sign_in(visitor_client, data.keys.setdefault("admin", _admin(session))[1])
        elif visitor != "anonymous":
            sign_in(visitor_client, data.keys[visitor][1])
        url = path.format(**values)
        if method == "GET":
            response = visitor_client.get(url, params={"token": token} if path == "/register/status" else None)
        else:
            body = {**BODIES.get(path, {}), "csrf_token": csrf_from(visitor_client.get("/signin").text)}
            if path == "/register/status":
                body["token"] = token
            response = visitor_client.post(url, data=body)
        results.append((visitor, response.status_code, status))
        session.rollback()
        if method == "POST" and response.status_code in (201, 303) and "admin/registrations" in path:
            session.get(ProviderRegistration, request.id).status = "pending"  # type: ignore[union-attr]
            session.commit()
        if method == "POST" and response.status_code == 303 and "/activities/" in path:
            activity = make_activity(session, data.providers["ngo"], status="ongoing")
            values["activity"] = activity.id
    assert [(v, got) for v, got, _ in results] == [(v, want) for v, _, want in results]


def _admin(session: Session) -> tuple[object, str]:
    from tests.factories import make_key

    return make_key(session, "admin")
