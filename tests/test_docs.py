"""/docs: Swagger UI from the installed package under a Content-Security-Policy; HSTS in production."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from app.core.config import Settings
from app.http.docs import DOCS_CSP
from app.main import create_app
from tests.conftest import migrate
from tests.dbutil import fresh_database_url
from tests.live import LiveServer


def test_docs_page_loads_only_same_origin_assets_under_a_csp(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert page.headers["content-security-policy"] == DOCS_CSP
    assert "script-src 'self';" in DOCS_CSP and "unsafe-eval" not in DOCS_CSP
    html = page.text
    references = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert references and all(ref.startswith("/") and not ref.startswith("//") for ref in references), references
    assert "<script>" not in html, "no inline script: the CSP allows same-origin files only"
    for ref in references:
        asset = client.get(ref)
        assert asset.status_code == 200, ref
    bundle = client.get("/docs/assets/swagger-ui-bundle.js")
    assert "javascript" in bundle.headers["content-type"] and len(bundle.content) > 500_000
    assert 'url: "/openapi.json"' in client.get("/docs/init.js").text


def test_hsts_only_in_production(settings: Settings, engine: Engine) -> None:
    with TestClient(create_app(settings, engine=engine)) as client:
        assert "strict-transport-security" not in client.get("/health/live").headers
    production = settings.model_copy(update={"ENVIRONMENT": "production", "SECRET_KEY": secrets.token_urlsafe(48)})
    with TestClient(create_app(production, engine=engine)) as client:
        for path in ("/health/live", "/docs", "/v1/recommendations", "/"):
            hsts = client.get(path).headers["strict-transport-security"]
            assert hsts.startswith("max-age=31536000"), path


@pytest.mark.browser
@pytest.mark.slow
def test_swagger_ui_renders_the_operations_under_its_csp(tmp_path: Path) -> None:
    from tests.web.test_browser import CHROMEDRIVER, CHROMIUM

    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip("needs Debian's headless Chromium and chromedriver")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"):
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'profile'}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    with fresh_database_url(tmp_path) as url:
        migrate(url)
        with LiveServer(env={"DATABASE_URL": url}, log=tmp_path / "server.log") as server:
            driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
            try:
                driver.get(server.url + "/docs")
                WebDriverWait(driver, 30).until(
                    EC.presence_of_element_located(
                        (By.CSS_SELECTOR, "#operations-recommendations-list_recommendations")
                    )
                )
                title = driver.find_element(By.CSS_SELECTOR, ".swagger-ui .info .title").text
                problems = [
                    entry["message"]
                    for entry in driver.get_log("browser")
                    if entry["level"] == "SEVERE" or "Content Security Policy" in entry["message"]
                ]
            finally:
                driver.quit()
    assert title.startswith("upr-match")
    assert problems == []
