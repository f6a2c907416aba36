"""An integrator's view: generate a Python client from the live /openapi.json and use it.

openapi-python-client (a standard generator) builds the client; the test files a
need as a State and reads its ranked providers through it, against a real server.
"""

from __future__ import annotations

import importlib
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine
from sqlmodel import Session

from tests.conftest import migrate
from tests.dbutil import fresh_database_url
from tests.factories import make_key, make_provider, make_recommendation
from tests.live import LiveServer

pytestmark = [pytest.mark.slow]

GENERATOR = shutil.which("openapi-python-client") or str(Path(sys.executable).parent / "openapi-python-client")


@pytest.mark.skipif(not Path(GENERATOR).exists(), reason="openapi-python-client is not installed (test extra)")
def test_generated_client_files_a_need_and_reads_matches(tmp_path: Path) -> None:
    with fresh_database_url(tmp_path) as url:
        migrate(url)
        engine = create_engine(url)
        with Session(engine) as session:
            rec = make_recommendation(
                session,
                state_under_review="MEX",
                text="Establish a national preventive mechanism in line with the Optional Protocol against torture",
            )
            provider = make_provider(
                session,
                name="Torture prevention advisers",
                description="Support to national preventive mechanisms against torture.",
            )
            _, mexico = make_key(session, "state", state="MEX")
            rec_id, provider_id = rec.id, provider.id
        engine.dispose()

        with LiveServer(env={"DATABASE_URL": url}) as server:
            spec = tmp_path / "openapi.json"
            spec.write_text(httpx.get(server.url + "/openapi.json").text, encoding="utf-8")
            out = tmp_path / "gen"
            out.mkdir()
            result = subprocess.run(
                [
                    GENERATOR,
                    "generate",
                    "--path",
                    str(spec),
                    "--meta",
                    "none",
                    "--output-path",
                    str(out / "upr_client"),
                ],
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert (out / "upr_client" / "client.py").exists(), result.stdout + result.stderr
            sys.path.insert(0, str(out))
            try:
                client_mod = importlib.import_module("upr_client")
                create_need = importlib.import_module("upr_client.api.needs.create_need")
                get_need_matches = importlib.import_module("upr_client.api.matching.get_need_matches")
                list_recommendations = importlib.import_module("upr_client.api.recommendations.list_recommendations")
                need_create = importlib.import_module("upr_client.models.need_create")

                client = client_mod.AuthenticatedClient(base_url=server.url, token=mexico)
                page = list_recommendations.sync(client=client, state="MEX", response="supported")
                assert [item.id for item in page.items] == [rec_id]

                filed = create_need.sync_detailed(
                    client=client,
                    body=need_create.NeedCreate(title="National preventive mechanism", recommendation_ids=[rec_id]),
                )
                assert filed.status_code == 201, filed.content
                need = filed.parsed
                assert need.state == "MEX"

                matches = get_need_matches.sync(client=client, need_id=need.id)
                assert [m.provider.id for m in matches.items] == [provider_id]
                assert matches.items[0].explanation.summary.startswith("shares:")
            finally:
                sys.path.remove(str(out))
                for name in [m for m in sys.modules if m == "upr_client" or m.startswith("upr_client.")]:
                    del sys.modules[name]
