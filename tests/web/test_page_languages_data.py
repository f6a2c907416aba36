"""The words built in Python on the State page and /gaps follow the page language: the data's coverage, the
funding source, the SDGs' titles (the UN's own), and the States' and UN regional groups' names."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlmodel import Session

from app.models.analytics import FundingResource
from app.models.sync import SyncRun
from app.services.analytics import cache
from tests.analytics.fixture import build
from tests.web.seed import rec

NNBSP = "\u202f"  # CLDR's French group separator


def _france(session: Session) -> None:
    for text in ("Ratify the Optional Protocol.", "Strengthen the national human rights institution."):
        rec(session, state_under_review="FRA", state_under_review_name="France", text=text)
    session.add(FundingResource(state="FRA", sdg=16, required=90, available=30, country_name="France", source="t"))
    session.commit()


def test_the_state_page_in_french_says_its_data_funding_and_goals_in_french(web: TestClient, session: Session) -> None:
    cache.clear()
    _france(session)
    page = web.get("/states/FRA?lang=fr").text
    assert "2 recommandations adressées à France dans les données : session 15 (2013), de test." in page
    assert "Toutes les données : 1 États examinés, session 15 (2013), de 1 source ; dernière importation le" in page
    assert "UN INFO : ressources nécessaires et disponibles" in page and "(1er février 2026)" in page
    assert "16. Paix, justice et institutions efficaces" in page
    assert "Financement disponible et déficit par ODD pour France, en USD" in page  # the chart's title
    for english in (
        "recommendations to France in the data",
        "States under review",
        "Reviews of other sessions",
        "UN INFO: resources required",
        "several years, not one",
        "Peace, justice and strong institutions",
        "gap per SDG in France",
    ):
        assert english not in page, english


def test_the_api_keeps_its_english_words_when_no_language_is_asked(web: TestClient, session: Session) -> None:
    _france(session)
    words = web.get("/v1/coverage", params={"state": "FRA"}).json()
    assert words["state"]["summary"] == (
        "2 recommendations to France in the data: session 15 (2013), from test. "
        "Reviews of other sessions are not in the data loaded."
    )
    assert words["summary"].startswith("1 States under review, session 15 (2013), from 1 source; last import ")
    # A page in French in between leaves the cached English words alone.
    web.get("/states/FRA?lang=fr")
    assert web.get("/v1/coverage", params={"state": "FRA"}).json() == words


def test_gaps_in_spanish_names_states_groups_and_goals_in_spanish(web: TestClient, session: Session) -> None:
    cache.clear()
    build(session)
    page = web.get("/gaps?lang=es").text
    assert ">México<" in page and ">Haití<" in page  # the pipeline by State: CLDR's names
    assert ">Estados de América Latina y el Caribe<" in page  # the regions table
    assert "16. Paz, justicia e instituciones sólidas" in page  # the funding table
    assert "ODS 16: Paz, justicia e instituciones sólidas" in page  # the funding chart
    assert "UN INFO: recursos necesarios y disponibles" in page
    for english in (">Haiti<", "Latin American and Caribbean States", "Peace, justice", "resources required"):
        assert english not in page, english
    by_sdg = web.get("/gaps?lang=es&by=sdg").text
    assert "ODS 16: Paz, justicia e instituciones sólidas" in by_sdg and "SDG 16: Peace" not in by_sdg


def test_the_last_sync_is_told_in_the_page_language_and_in_english_to_the_api(
    web: TestClient, session: Session
) -> None:
    _france(session)
    moment = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
    session.add(
        SyncRun(
            source_url="https://uhri.ohchr.org/",
            outcome="imported",
            started_at=moment,
            finished_at=moment,
            inserted=1234,
            updated=2,
        )
    )
    session.commit()
    page = web.get("/states/FRA?lang=fr").text
    assert f"Dernière synchronisation avec le HCDH le 7 décembre 2026 à 09:30 UTC : 1{NNBSP}234 nouvelles" in page
    assert "Last synced" not in page
    api = web.get("/v1/coverage").json()["last_sync"]["summary"]
    assert api == (
        "Last synced from OHCHR on 7 December 2026 at 09:30 UTC: 1234 new, 2 updated, 0 unchanged, 0 withdrawn."
    )


def test_the_totals_row_is_in_each_answers_language_though_the_figures_are_cached(
    web: TestClient, session: Session
) -> None:
    cache.clear()
    build(session)
    assert "Todo (todos los Estados)" in web.get("/gaps?lang=es").text
    assert "Tout (tous les États)" in web.get("/gaps?lang=fr").text  # the same cached figures
    assert web.get("/v1/analytics/pipeline").json()["totals"]["label"] == "every State"
