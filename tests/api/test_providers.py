"""Providers: CRUD, validation, filters, contact-e-mail exposure and the self-registration flow."""

from __future__ import annotations

import contextlib
import socket
import threading

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.models.api_key import ApiKey
from tests.factories import auth, make_activity, make_key, make_provider
from tests.test_errors import assert_problem

VALID = {
    "name": "United Nations Development Programme",
    "acronym": "UNDP",
    "kind": "un_entity",
    "description": "Support to national human rights institutions, rule of law and access to justice.",
    "themes": ["Justice", "D25"],
    "sdgs": [16, 5],
    "countries": ["ken", "Fra"],
    "regions": ["africa", "global"],
    "languages": ["en", "FR"],
    "modalities": ["training", "funding"],
    "website": "https://www.undp.org/",
    "contact_email": "rol@undp.example",
}


def test_admin_creates_provider_with_normalised_fields(client: TestClient, session: Session) -> None:
    _, admin = make_key(session, "admin")
    response = client.post("/v1/providers", json=VALID, headers=auth(admin))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["countries"] == ["KEN", "FRA"] and body["languages"] == ["en", "fr"]
    assert body["version"] == 1 and body["is_demo"] is False
    assert body["contact_email"] == "rol@undp.example"
    assert response.headers["etag"] == '"1"'
    assert response.headers["location"] == f"/v1/providers/{body['id']}"


@pytest.mark.parametrize("field", ["id", "is_demo", "version", "created_at", "updated_at", "score"])
def test_create_provider_refuses_server_owned_fields(client: TestClient, session: Session, field: str) -> None:
    _, admin = make_key(session, "admin")
    problem = assert_problem(client.post("/v1/providers", json={**VALID, field: True}, headers=auth(admin)), 422)
    assert f"/body/{field}" in {e["pointer"] for e in problem["errors"]}


@pytest.mark.parametrize(
    "website",
    [
        "http://www.undp.org/",
        "file:///etc/passwd",
        "gopher://example.org/",
        "javascript:alert(1)",
        "ftp://example.org",
        "https://",
        "http://169.254.169.254/latest/meta-data/",
        "https://user:pw@example.org/",
    ],
)
def test_website_must_be_https(client: TestClient, session: Session, website: str) -> None:
    _, admin = make_key(session, "admin")
    problem = assert_problem(client.post("/v1/providers", json={**VALID, "website": website}, headers=auth(admin)), 422)
    assert "/body/website" in {e["pointer"] for e in problem["errors"]}


def test_website_is_never_fetched(client: TestClient, session: Session) -> None:
    """API7: a URL pointing at a local listener receives no connection."""
    _, admin = make_key(session, "admin")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(1.0)
    port = listener.getsockname()[1]
    hits: list[object] = []

    def accept() -> None:
        with contextlib.suppress(OSError):
            hits.append(listener.accept())

    thread = threading.Thread(target=accept)
    thread.start()
    response = client.post(
        "/v1/providers", json={**VALID, "website": f"https://127.0.0.1:{port}/"}, headers=auth(admin)
    )
    assert response.status_code == 201
    thread.join()
    listener.close()
    assert hits == []


@pytest.mark.parametrize(
    ("patch", "pointer"),
    [
        ({"description": "too short"}, "/body/description"),
        ({"description": "x" * 10_001}, "/body/description"),
        ({"kind": "club"}, "/body/kind"),
        ({"sdgs": [18]}, "/body/sdgs/0"),
        ({"countries": ["XXX"]}, "/body/countries/0"),
        ({"languages": ["xx"]}, "/body/languages/0"),
        ({"regions": ["moon"]}, "/body/regions/0"),
        ({"modalities": ["magic"]}, "/body/modalities/0"),
        ({"themes": ["t"] * 31}, "/body/themes"),
        ({"themes": ["x" * 121]}, "/body/themes/0"),
        ({"contact_email": "not-an-email"}, "/body/contact_email"),
        ({"name": ""}, "/body/name"),
    ],
)
def test_create_provider_names_the_bad_field(client: TestClient, session: Session, patch: dict, pointer: str) -> None:  # type: ignore[type-arg]
    _, admin = make_key(session, "admin")
    problem = assert_problem(client.post("/v1/providers", json={**VALID, **patch}, headers=auth(admin)), 422)
    assert pointer in {e["pointer"] for e in problem["errors"]}, problem


def test_anonymous_may_not_create_provider(client: TestClient) -> None:
    assert_problem(client.post("/v1/providers", json=VALID), 401)


def test_unbound_provider_key_registers_once_and_is_bound(client: TestClient, session: Session) -> None:
    key_row, secret = make_key(session, "provider", name="UNDP")
    assert key_row.provider_id is None
    created = client.post("/v1/providers", json=VALID, headers=auth(secret))
    assert created.status_code == 201, created.text
    provider_id = created.json()["id"]
    session.rollback()  # end the test session's read snapshot
    assert session.get(ApiKey, key_row.id).provider_id == provider_id  # type: ignore[union-attr]
    again = assert_problem(client.post("/v1/providers", json={**VALID, "name": "Second"}, headers=auth(secret)), 403)
    assert provider_id in again["detail"]
    # The key now acts for its provider: it may edit it.
    patched = client.patch(
        f"/v1/providers/{provider_id}", json={"acronym": "PNUD"}, headers={**auth(secret), "If-Match": '"1"'}
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["acronym"] == "PNUD" and patched.headers["etag"] == '"2"'


def test_bound_provider_key_may_not_create(client: TestClient, session: Session) -> None:
    provider = make_provider(session)
    _, secret = make_key(session, "provider", provider_id=provider.id)
    assert_problem(client.post("/v1/providers", json=VALID, headers=auth(secret)), 403)


def test_state_key_may_not_create_provider(client: TestClient, session: Session) -> None:
    _, secret = make_key(session, "state", state="FRA")
    assert_problem(client.post("/v1/providers", json=VALID, headers=auth(secret)), 403)


def test_admin_issues_unbound_provider_key_over_the_api(client: TestClient, session: Session) -> None:
    _, admin = make_key(session, "admin")
    response = client.post("/v1/keys", json={"name": "UNDP", "role": "provider"}, headers=auth(admin))
    assert response.status_code == 201, response.text
    assert response.json()["provider_id"] is None
    provider = make_provider(session)
    bound = client.post(
        "/v1/keys", json={"name": "NGO", "role": "provider", "provider_id": provider.id}, headers=auth(admin)
    )
    assert bound.status_code == 201 and bound.json()["provider_id"] == provider.id


def test_contact_email_only_for_authenticated_callers(client: TestClient, session: Session) -> None:
    provider = make_provider(session, contact_email="secret@ngo.example")
    _, state = make_key(session, "state", state="KEN")
    anon = client.get(f"/v1/providers/{provider.id}")
    assert anon.status_code == 200 and "contact_email" not in anon.json()
    assert "secret@ngo.example" not in anon.text
    assert anon.headers["etag"] == '"1.public"' and "Authorization" in anon.headers["vary"]
    authed = client.get(f"/v1/providers/{provider.id}", headers=auth(state))
    assert authed.json()["contact_email"] == "secret@ngo.example" and authed.headers["etag"] == '"1"'


def test_openapi_documents_both_provider_shapes(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    shapes = schema["paths"]["/v1/providers/{provider_id}"]["get"]["responses"]["200"]["content"]["application/json"]
    refs = {item["$ref"].rsplit("/", 1)[1] for item in shapes["schema"]["anyOf"]}
    assert refs == {"ProviderPublic", "ProviderPrivate"}
    components = schema["components"]["schemas"]
    assert "contact_email" not in components["ProviderPublic"]["properties"]
    assert "contact_email" in components["ProviderPrivate"]["properties"]


def test_list_providers_filters(client: TestClient, session: Session) -> None:
    undp = make_provider(
        session,
        name="UN Development Programme",
        acronym="UNDP",
        kind="un_entity",
        themes=["Justice"],
        languages=["en"],
        modalities=["funding"],
        regions=["africa"],
        countries=["KEN"],
    )
    ngo = make_provider(
        session,
        name="Prison Reform Int'l",
        kind="ngo",
        themes=["Torture and other CID treatment"],
        languages=["fr"],
        modalities=["training"],
        regions=["global"],
        countries=["FRA"],
    )

    def ids(**params: str) -> list[str]:
        response = client.get("/v1/providers", params=params)
        assert response.status_code == 200, response.text
        return [p["id"] for p in response.json()["items"]]

    assert ids() == [undp.id, ngo.id]
    assert ids(kind="ngo") == [ngo.id]
    assert ids(theme="justice") == [undp.id]
    assert ids(theme="TORTURE AND OTHER CID TREATMENT") == [ngo.id]
    assert ids(language="FR") == [ngo.id]
    assert ids(modality="funding") == [undp.id]
    assert ids(region="global") == [ngo.id]
    assert ids(country="ken") == [undp.id]
    assert ids(q="undp") == [undp.id]
    assert ids(q="development") == [undp.id]
    assert ids(q="%") == []
    assert ids(q="int'l") == [ngo.id]
    assert ids(kind="ngo", country="KEN") == []
    page = client.get("/v1/providers", params={"limit": 1, "offset": 1}).json()
    assert page["total"] == 2 and [p["id"] for p in page["items"]] == [ngo.id]


def test_list_provider_bad_filter_is_422(client: TestClient) -> None:
    assert_problem(client.get("/v1/providers", params={"kind": "club"}), 422)
    assert_problem(client.get("/v1/providers", params={"limit": 1000}), 422)


def test_get_missing_provider_is_404(client: TestClient, session: Session) -> None:
    assert_problem(client.get("/v1/providers/nope"), 404)


def test_patch_provider_fields_and_refuse_nulls(client: TestClient, session: Session) -> None:
    provider = make_provider(session)
    _, admin = make_key(session, "admin")
    headers = {**auth(admin), "If-Match": '"1"'}
    problem = assert_problem(client.patch(f"/v1/providers/{provider.id}", json={"name": None}, headers=headers), 422)
    assert problem["errors"][0]["pointer"] == "/body/name"
    assert_problem(client.patch(f"/v1/providers/{provider.id}", json={"version": 9}, headers=headers), 422)
    response = client.patch(
        f"/v1/providers/{provider.id}", json={"website": None, "themes": ["Right to water"]}, headers=headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["website"] is None
    assert [p["id"] for p in client.get("/v1/providers", params={"theme": "E26"}).json()["items"]] == [provider.id]
    assert client.get("/v1/providers", params={"theme": "Torture and other CID treatment"}).json()["total"] == 0


def test_themes_come_from_the_controlled_list(client: TestClient, session: Session) -> None:
    """A free-text theme is refused with a 422 naming it and offering the accepted codes and labels."""
    _, admin = make_key(session, "admin")
    body = {**VALID, "slug": "free-text", "themes": ["Justice", "foo bar theme"]}
    problem = assert_problem(client.post("/v1/providers", json=body, headers=auth(admin)), 422)
    assert [e["pointer"] for e in problem["errors"]] == ["/body/themes/1"]
    assert "'foo bar theme' is not a theme of the controlled list" in problem["errors"][0]["detail"]
    assert {"code": "D25", "label": "Prohibition of torture & cruel, inhuman or degrading treatment"} in problem[
        "accepted"
    ]
    created = client.post("/v1/providers", json={**body, "themes": ["Justice", "d25"]}, headers=auth(admin))
    assert created.status_code == 201, created.text
    # A label a profile already had stays acceptable, so saving it unchanged is never refused.
    legacy = make_provider(session, slug="legacy", themes=["Our own label"])
    headers = {**auth(admin), "If-Match": '"1"'}
    kept = client.patch(f"/v1/providers/{legacy.id}", json={"themes": ["Our own label", "D25"]}, headers=headers)
    assert kept.status_code == 200, kept.text
    assert_problem(
        client.patch(
            f"/v1/providers/{legacy.id}", json={"themes": ["Another"]}, headers={**headers, "If-Match": '"2"'}
        ),
        422,
    )


def test_slug_is_unique(client: TestClient, session: Session) -> None:
    make_provider(session, slug="undp")
    _, admin = make_key(session, "admin")
    problem = assert_problem(client.post("/v1/providers", json={**VALID, "slug": "undp"}, headers=auth(admin)), 409)
    assert "undp" in problem["detail"]


def test_delete_provider_with_activities_is_409_naming_count(client: TestClient, session: Session) -> None:
    provider = make_provider(session)
    make_activity(session, provider)
    make_activity(session, provider)
    _, admin = make_key(session, "admin")
    problem = assert_problem(
        client.delete(f"/v1/providers/{provider.id}", headers={**auth(admin), "If-Match": '"1"'}), 409
    )
    assert "2 cooperation activities" in problem["detail"] and problem["dependent_activities"] == 2
    assert client.get(f"/v1/providers/{provider.id}").status_code == 200


def test_provider_deletes_itself_and_its_key_is_revoked(client: TestClient, session: Session) -> None:
    provider = make_provider(session)
    _, secret = make_key(session, "provider", provider_id=provider.id)
    response = client.delete(f"/v1/providers/{provider.id}", headers={**auth(secret), "If-Match": '"1"'})
    assert response.status_code == 204 and response.content == b""
    assert_problem(client.get(f"/v1/providers/{provider.id}"), 404)
    assert_problem(client.get("/v1/providers", headers=auth(secret)), 401)


def test_is_demo_is_set_only_server_side_and_shown(client: TestClient, session: Session) -> None:
    from app.core.identity import Principal
    from app.models.provider import ProviderCreate
    from app.services import providers as provider_service

    row = provider_service.create_provider(
        session, principal=Principal(role="admin"), data=ProviderCreate(**VALID), is_demo=True
    )
    assert client.get(f"/v1/providers/{row.id}").json()["is_demo"] is True
