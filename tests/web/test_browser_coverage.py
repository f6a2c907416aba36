"""Browser: the search page's filters and export, and the coverage notices, on the real data at 1280 and 375 px.

The server runs on a SQLite file loaded with the shared recommendations and the UHRI
sample (from UPR_DATA_DIR; skipped, saying so, without them). Each page goes through
`check()` of tests/web/test_browser.py at both widths: it fits the width, every target
is at least 24 px, axe-core finds nothing serious or critical, and a screenshot lands
in artifacts/screenshots/ (`search-*`, `state-svn-*`, `state-usa-*`).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from sqlmodel import Session

from app.core.config import Settings
from app.core.db import create_db_engine
from app.services import recommendations as recommendation_service
from tests.conftest import migrate
from tests.live import LiveServer
from tests.web.test_browser import browser, check, open_page, set_width  # noqa: F401  (browser: the fixture)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402

WIDTHS = (1280, 375)


@pytest.fixture(scope="module")
def real_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data = Settings(_env_file=None).UPR_DATA_DIR  # type: ignore[call-arg]
    files = [data / "recommendations.jsonl", data / "samples" / "uhri-export-sample.json"]
    if not all(f.is_file() for f in files):
        pytest.skip(f"needs the shared data and the UHRI sample under {data} (UPR_DATA_DIR)")
    folder = tmp_path_factory.mktemp("browser-coverage")
    url = f"sqlite:///{folder / 'site.db'}"
    migrate(url)
    engine = create_db_engine(Settings(DATABASE_URL=url, _env_file=None))  # type: ignore[call-arg]
    with Session(engine) as session:
        for path in files:
            recommendation_service.import_recommendations(session, file=path, fmt="auto", max_rows=10**6)
    engine.dispose()
    env = {"DATABASE_URL": url, "ENVIRONMENT": "test", "SECRET_KEY": secrets.token_urlsafe(48)}
    with LiveServer(env=env, log=folder / "server.log") as server:
        yield server


def at_widths(driver: WebDriver, url: str, name: str) -> None:
    """Open the page at each width and `check()` it; the page is left open at 1280 px."""
    for width in (*WIDTHS[1:], WIDTHS[0]):
        set_width(driver, width)
        open_page(driver, url)
        check(driver, name, width)


def test_search_page_filters_export_and_coverage(browser: WebDriver, real_site: LiveServer) -> None:  # noqa: F811
    at_widths(browser, real_site.url + "/recommendations?state=SVN&state=MEX&cycle=2&cycle=4", "search")
    main = browser.find_element(By.TAG_NAME, "main").text
    assert "What the data covers" in main and "last import" in main
    assert "State under review: Slovenia" in main and "State under review: Mexico" in main
    # textContent: Selenium calls the filters of a wide screen hidden, as they sit in a disclosure a phone folds.
    ticked = browser.find_elements(By.CSS_SELECTOR, "#f-state input[type=checkbox]:checked")
    labels = [browser.find_element(By.CSS_SELECTOR, f"label[for='{box.get_attribute('id')}']") for box in ticked]
    chosen = [label.get_attribute("textContent") for label in labels]
    assert chosen == ["Mexico", "Slovenia"]
    excel = browser.find_element(By.PARTIAL_LINK_TEXT, "Excel")
    assert excel.get_attribute("href").endswith(
        "/v1/recommendations/export?state=SVN&state=MEX&cycle=2&cycle=4&format=xlsx"
    )


def test_state_pages_say_what_the_data_holds(browser: WebDriver, real_site: LiveServer) -> None:  # noqa: F811
    at_widths(browser, real_site.url + "/states/SVN", "state-svn")
    assert "recommendations to Slovenia in the data: sessions 7, 20, 34 and 48" in browser.page_source
    at_widths(browser, real_site.url + "/states/USA", "state-usa")
    main = browser.find_element(By.TAG_NAME, "main").text
    assert "Not in the data loaded: no recommendation to United States is recorded." in main
    assert "recommendations received" not in main
