"""On the pages, a provider and a State see the themes the tagger read and confirm or correct them.

After registration the profile page shows the themes read in the description, ticked; saving declares
the ticked ones (as `PATCH themes` does). A need's page does the same with the themes read in its
recommendations, for its own State only; everyone else sees them as read, without a form.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.core.config import Settings
from app.main import create_app
from app.models.need import Need
from app.models.provider import Provider
from app.services import themes as theme_service
from tests.factories import make_key, make_recommendation
from tests.tagging import TORTURE, WOMEN, write_tiny_tagger
from tests.web.browserlike import form_fields, with_changes
from tests.web.conftest import csrf_from, sign_in

DESCRIPTION = "We organise independent monitoring of places of deprivation of liberty and visit them unannounced."


@pytest.fixture
def tagged_web(settings: Settings, engine: Engine, tmp_path: Path) -> Iterator[TestClient]:
    own = settings.model_copy(update={"MODEL_DIR": tmp_path / "models"})
    write_tiny_tagger(theme_service.artifact_path(own))
    app = create_app(own, engine=engine)
    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False, follow_redirects=False) as c:
        yield c


def _post(web: TestClient, action: str, fields: list[tuple[str, str]]):  # type: ignore[no-untyped-def]
    grouped: dict[str, list[str]] = {}
    for k, v in fields:
        grouped.setdefault(k, []).append(v)
    return web.post(action, data=grouped)


def test_a_new_profile_shows_the_themes_read_and_confirms_them(tagged_web: TestClient, session: Session) -> None:
    _, key = make_key(session, role="provider", name="Detention Watch")
    sign_in(tagged_web, key)
    form = tagged_web.get("/providers/new")
    fields = with_changes(form_fields(form.text, "/providers/new"), set_={"kind": "ngo", "description": DESCRIPTION})
    created = _post(tagged_web, "/providers/new", fields)
    assert created.status_code == 303, created.text
    page_url = created.headers["location"]
    page = tagged_web.get(page_url).text
    assert "Check the themes" in page and "Until you confirm, the matching uses what it read." in page
    assert f'value="{TORTURE}" checked' in page  # what was read comes ticked
    provider_id = page_url.rsplit("/", 1)[1]
    session.rollback()
    row = session.get(Provider, provider_id)
    assert row is not None and row.themes == [] and row.themes_predicted == [TORTURE]
    confirmed = tagged_web.post(
        f"/providers/{provider_id}/themes",
        data={"csrf_token": csrf_from(page), "version": str(row.version), "themes": [TORTURE]},
    )
    assert confirmed.status_code == 303, confirmed.text
    session.rollback()
    session.refresh(row)
    assert row.themes == [TORTURE] and row.version == 2
    after = tagged_web.get(page_url).text
    assert "Check the themes" not in after and "Themes read in the description" in after
    stale = tagged_web.post(
        f"/providers/{provider_id}/themes",
        data={"csrf_token": csrf_from(after), "version": "1", "themes": [WOMEN]},
    )
    assert stale.status_code == 409  # someone saved meanwhile: nothing overwritten
    session.rollback()
    session.refresh(row)
    assert row.themes == [TORTURE]


def test_a_state_confirms_its_needs_themes_and_others_only_see_them(
    tagged_web: TestClient, session: Session, other_tagged_web: TestClient
) -> None:
    _, mex = make_key(session, role="state", state="MEX")
    recs = [
        make_recommendation(session, state_under_review="MEX", text=t, themes=[], theme_scheme=None).id
        for t in ("Ratify OPCAT", "Shelters for survivors of domestic violence")
    ]
    sign_in(tagged_web, mex)
    form = tagged_web.get("/needs/new")
    token = csrf_from(form.text)
    filed = tagged_web.post(
        "/v1/needs",  # filed through the API by the same State, then confirmed on the page
        json={"title": "Prisons and shelters", "recommendation_ids": recs},
        headers={"Authorization": f"Bearer {mex}"},
    )
    assert filed.status_code == 201, filed.text
    need_id = filed.json()["id"]
    page = tagged_web.get(f"/needs/{need_id}").text
    assert "Check the themes" in page
    women = WOMEN.replace("'", "&#39;")  # as the page escapes it
    assert f'value="{TORTURE}" checked' in page and f'value="{women}" checked' in page
    untick = tagged_web.post(f"/needs/{need_id}/themes", data={"csrf_token": token, "version": "1", "themes": [WOMEN]})
    assert untick.status_code == 303, untick.text
    session.rollback()
    row = session.get(Need, need_id)
    assert row is not None
    session.refresh(row)
    assert row.themes == [WOMEN] and set(row.themes_predicted) == {TORTURE, WOMEN}
    anonymous = other_tagged_web.get(f"/needs/{need_id}").text
    assert "Themes read in its recommendations" in anonymous and "Confirm these themes" not in anonymous
    refused = other_tagged_web.post(f"/needs/{need_id}/themes", data={"version": "2", "themes": [TORTURE]})
    assert refused.status_code in (302, 303, 401, 403)
    session.rollback()
    session.refresh(row)
    assert row.themes == [WOMEN]


@pytest.fixture
def other_tagged_web(tagged_web: TestClient) -> Iterator[TestClient]:
    """A second browser on the same app, with its own cookies."""
    with TestClient(
        tagged_web.app, base_url="https://testserver", raise_server_exceptions=False, follow_redirects=False
    ) as client:
        yield client
