"""Browser tests: headless Chromium (Debian's) drives the real server on a seeded SQLite database.

Needs `apt-get install -y chromium chromium-driver` and `pip install selenium`;
skips with the reason otherwise. Selenium Manager is never asked for anything:
the driver and the browser are given by path and SE_OFFLINE is set. Screenshots
of the main pages land in artifacts/screenshots/.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session

from app.config import Settings
from app.db import create_db_engine
from tests.conftest import migrate
from tests.live import ROOT, LiveServer
from tests.web.seed import Seed, seed

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOTS = ROOT / "artifacts" / "screenshots"

pytestmark = [pytest.mark.browser, pytest.mark.slow]

if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
    pytest.skip(
        f"needs Debian's headless Chromium: {CHROMIUM} and {CHROMEDRIVER} "
        "(apt-get install -y chromium chromium-driver)",
        allow_module_level=True,
    )
webdriver = pytest.importorskip("selenium.webdriver", reason="needs selenium (pip install selenium)")

from selenium.common.exceptions import NoSuchElementException  # noqa: E402 (after the module-level skip)
from selenium.webdriver.chrome.service import Service  # noqa: E402 (after the module-level skip)
from selenium.webdriver.common.by import By  # noqa: E402 (after the module-level skip)
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402 (after the module-level skip)
from selenium.webdriver.remote.webelement import WebElement  # noqa: E402 (after the module-level skip)
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402 (after the module-level skip)
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402 (after the module-level skip)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, Seed]]:
    """The real server (`upr-match serve`) on its own migrated and seeded SQLite file."""
    folder = tmp_path_factory.mktemp("browser")
    url = f"sqlite:///{folder / 'site.db'}"
    migrate(url)
    engine = create_db_engine(Settings(DATABASE_URL=url, _env_file=None))  # type: ignore[call-arg]
    with Session(engine) as session:
        data = seed(session)
        # Load every seeded row, then detach it, so the tests can read ids after the session closes.
        for row in [*data.recs.values(), *data.providers.values(), *data.needs.values()]:
            if row in session:
                session.refresh(row)
        session.expunge_all()
    engine.dispose()
    env = {
        "DATABASE_URL": url,
        "ENVIRONMENT": "test",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "MODEL_DIR": str(folder / "models"),
    }
    with LiveServer(env=env, log=folder / "server.log") as server:
        yield server, data


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must not download a driver or a browser
    profile = tmp_path_factory.mktemp("chromium-profile")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--window-size=1280,1000",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def shot(driver: WebDriver, name: str) -> Path:
    """Save a full-height screenshot of the current page."""
    height = driver.execute_script("return document.documentElement.scrollHeight")
    width = driver.get_window_size()["width"]
    driver.set_window_size(width, min(max(int(height) + 120, 600), 4000))
    path = SCREENSHOTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path


def follow(driver: WebDriver, element: WebElement, url_part: str) -> None:
    """Click a link or button and wait for the next page, so no assertion reads the old one."""
    element.click()
    WebDriverWait(driver, 15).until(EC.url_contains(url_part))
    WebDriverWait(driver, 15).until(lambda d: d.execute_script("return document.readyState") == "complete")


def h1(driver: WebDriver) -> str:
    return driver.find_element(By.TAG_NAME, "h1").text


def sign_in(driver: WebDriver, base: str, key: str) -> None:
    driver.delete_all_cookies()
    driver.get(base + "/signin")
    driver.find_element(By.ID, "api_key").send_keys(key)
    driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    WebDriverWait(driver, 10).until(EC.presence_of_element_located((By.CLASS_NAME, "who")))


def test_search_a_recommendation(browser: WebDriver, site: tuple[LiveServer, Seed]) -> None:
    server = site[0]
    browser.get(server.url + "/")
    assert h1(browser) == "Technical cooperation for UPR recommendations"
    shot(browser, "home")
    browser.get(server.url + "/recommendations")
    box = browser.find_element(By.ID, "q")
    box.send_keys("overcrowding")
    box.submit()
    WebDriverWait(browser, 10).until(EC.url_contains("q=overcrowding"))
    results = browser.find_elements(By.CSS_SELECTOR, ".results > li")
    assert len(results) == 1 and "prison overcrowding" in results[0].text
    browser.get(server.url + "/recommendations?state=FRA")
    shot(browser, "recommendations")
    follow(browser, browser.find_element(By.PARTIAL_LINK_TEXT, "Ratify the Optional Protocol"), "/recommendations/")
    assert h1(browser) == "Recommendation to France"
    assert "Train prison staff on torture prevention" in browser.page_source
    shot(browser, "recommendation")


def test_open_a_state(browser: WebDriver, site: tuple[LiveServer, Seed]) -> None:
    server, _ = site
    browser.get(server.url + "/recommendations?q=overcrowding")
    follow(browser, browser.find_element(By.CSS_SELECTOR, ".results .meta a[href='/states/FRA']"), "/states/FRA")
    assert h1(browser).startswith("France")
    chart = browser.find_element(By.CSS_SELECTOR, "svg[role=img]")
    assert chart.get_attribute("aria-labelledby") == "coverage-title"
    assert len(chart.find_elements(By.CSS_SELECTOR, "rect.chart-covered")) >= 3
    shot(browser, "state")
    browser.set_window_size(390, 844)  # a phone
    browser.get(server.url + "/states/FRA")
    overflow = browser.execute_script("return document.documentElement.scrollWidth > window.innerWidth + 1")
    assert not overflow, "the State page scrolls sideways on a phone"
    shot(browser, "state-phone")
    browser.set_window_size(1280, 1000)


def test_open_a_need_and_read_its_partners(browser: WebDriver, site: tuple[LiveServer, Seed]) -> None:
    server = site[0]
    browser.get(server.url + "/states/FRA")
    follow(browser, browser.find_element(By.LINK_TEXT, "Train prison staff on torture prevention"), "/needs/")
    assert h1(browser) == "Train prison staff on torture prevention"
    heading = browser.find_element(By.XPATH, "//h2[normalize-space()='Ranked partners']")
    partners = browser.find_elements(By.CSS_SELECTOR, "ol.partners > li")
    if partners:
        first = partners[0].text
        assert "Why:" in first
    else:
        assert heading.find_element(By.XPATH, "following-sibling::p[1]").text
    shot(browser, "need")


def test_a_state_signs_in_and_files_a_need(browser: WebDriver, site: tuple[LiveServer, Seed]) -> None:
    server, data = site
    sign_in(browser, server.url, data.keys["fra"][1])
    assert "France mission" in browser.find_element(By.CLASS_NAME, "who").text
    browser.get(server.url + "/needs/new")
    select = browser.find_element(By.ID, "theme-choice")
    select.find_element(By.XPATH, 'option[starts-with(., "Women\'s rights")]').click()
    follow(browser, browser.find_element(By.CSS_SELECTOR, "form[method=get] button[type=submit]"), "theme=Women")
    box = browser.find_element(By.CSS_SELECTOR, f"input[value='{data.recs['women'].id}']")
    if not box.is_selected():
        box.click()
    title = browser.find_element(By.ID, "need-title")
    title.clear()
    title.send_keys("Draft a law on violence against women")
    shot(browser, "need-form")
    browser.find_element(By.XPATH, "//button[normalize-space()='File the need']").click()
    WebDriverWait(browser, 10).until(EC.url_matches(r"/needs/[0-9a-f-]{36}$"))
    assert h1(browser) == "Draft a law on violence against women"
    assert "violence against women" in browser.find_element(By.TAG_NAME, "main").text
    shot(browser, "need-filed")


def test_another_state_is_refused(browser: WebDriver, site: tuple[LiveServer, Seed]) -> None:
    server, data = site
    sign_in(browser, server.url, data.keys["deu"][1])
    browser.get(server.url + "/needs/new?state=FRA")
    assert h1(browser) == "Forbidden"
    assert "may not file needs for FRA" in browser.find_element(By.TAG_NAME, "main").text
    shot(browser, "refused")
    with pytest.raises(NoSuchElementException):
        browser.find_element(By.ID, "need-title")


def test_directory_pages(browser: WebDriver, site: tuple[LiveServer, Seed]) -> None:
    server = site[0]
    browser.delete_all_cookies()
    browser.get(server.url + "/providers")
    assert h1(browser) == "Providers of technical cooperation"
    assert "secret-contact@" not in browser.page_source
    shot(browser, "providers")
    follow(browser, browser.find_element(By.LINK_TEXT, "Prison Reform Helpers"), "/providers/")
    assert h1(browser) == "Prison Reform Helpers"
    shot(browser, "provider")
    browser.get(server.url + "/activities")
    assert "40 prison directors trained" in browser.page_source
    shot(browser, "activities")
