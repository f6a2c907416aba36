"""Browser tests: headless Chromium (Debian's) drives the real server on a seeded SQLite database.

Every page kind is visited at 1280 px and at 375 px (a phone), signed out and
signed in: axe-core 4.x (the npm package `make axe-core` fetches; WCAG 2.2 A and AA rules) must
report no serious or critical violation, the page must not scroll sideways, and a
screenshot lands in artifacts/screenshots/<page>-<width>.png. The tasks of the
issue are then performed at both widths: an agency registers its profile; a
State files a need citing recommendations from two themes and two pages (and the
need cites exactly those), edits it and closes it.

Needs `apt-get install -y chromium chromium-driver`, the test extra (selenium) and `make axe-core`
(npm); skips with the reason otherwise. Selenium Manager is never
asked for anything: the driver and the browser are given by path and SE_OFFLINE is set.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlmodel import Session

from app.core.config import Settings
from app.core.db import create_db_engine
from tests.conftest import migrate
from tests.factories import make_activity, make_key
from tests.live import ROOT, LiveServer
from tests.web import axe
from tests.web.seed import Seed, rec, seed

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
WIDTHS = (1280, 375)

pytestmark = [pytest.mark.browser, pytest.mark.slow]
T = TypeVar("T")

if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
    pytest.skip(
        f"needs Debian's headless Chromium: {CHROMIUM} and {CHROMEDRIVER} "
        "(apt-get install -y chromium chromium-driver)",
        allow_module_level=True,
    )
webdriver = pytest.importorskip("selenium.webdriver", reason="needs selenium (pip install selenium)")
if axe.missing_reason():
    pytest.skip(str(axe.missing_reason()), allow_module_level=True)

from selenium.common.exceptions import WebDriverException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402
from selenium.webdriver.remote.webelement import WebElement  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


@dataclass
class Site:
    server: LiveServer
    data: Seed
    unbound_keys: list[str]

    @property
    def url(self) -> str:
        return self.server.url


@contextmanager
def seeded_server(folder: Path, populate: Callable[[Session], T]) -> Iterator[tuple[LiveServer, T]]:
    """The real server (`upr-match serve`) on its own migrated SQLite file, filled by `populate`."""
    url = f"sqlite:///{folder / 'site.db'}"
    migrate(url)
    engine = create_db_engine(Settings(DATABASE_URL=url, _env_file=None))  # type: ignore[call-arg]
    with Session(engine) as session:
        found = populate(session)
    engine.dispose()
    env = {
        "DATABASE_URL": url,
        "ENVIRONMENT": "test",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "MODEL_DIR": str(folder / "models"),
        "RATE_LIMIT_PER_MINUTE": "100000",
    }
    with LiveServer(env=env, log=folder / "server.log") as server:
        yield server, found


def _populate(session: Session) -> tuple[Seed, list[str]]:
    data = seed(session)
    # Two pages of one theme (50 a page) and a second theme, for the need form.
    for i in range(55):
        data.recs[f"w{i:02d}"] = rec(
            session, text=f"Women's rights recommendation number {i:02d}.", themes=["Women's rights"]
        )
    for i in range(3):
        data.recs[f"j{i}"] = rec(session, text=f"Justice recommendation number {i}.", themes=["Justice"])
    unbound = [make_key(session, role="provider", name=f"Rights Lab {w}")[1] for w in (*WIDTHS, 0)]
    # Activities waiting for an answer: one France answers, one France recorded.
    data.activities["for-france"] = make_activity(
        session,
        data.providers["ngo"],
        recommendations=[data.recs["prisons"]],
        title="Training on prison visits",
        confirmation="unconfirmed",
        recorded_by_role="provider",
    )
    data.activities["by-france"] = make_activity(
        session,
        data.providers["un"],
        title="Review of the law on violence",
        confirmation="unconfirmed",
        recorded_by_role="state",
        modality="legal_review",
    )
    # Load every seeded row, then detach it, so the tests can read ids after the session closes.
    for row in [*data.recs.values(), *data.providers.values(), *data.needs.values(), *data.activities.values()]:
        if row in session:
            session.refresh(row)
    session.expunge_all()
    return data, unbound


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The real server on the page tests' seed, with two pages of one theme and activities waiting for answers."""
    with seeded_server(tmp_path_factory.mktemp("browser"), _populate) as (server, (data, unbound)):
        yield Site(server, data, unbound)


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
    driver.set_script_timeout(60)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


# --- helpers ---------------------------------------------------------------------------


def set_width(driver: WebDriver, width: int, height: int = 900) -> None:
    """Show pages as a screen `width` CSS pixels wide would (a phone below 500)."""
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 500},
    )


def wait_loaded(driver: WebDriver) -> None:
    WebDriverWait(driver, 15).until(lambda d: d.execute_script("return document.readyState") == "complete")


def open_page(driver: WebDriver, url: str) -> None:
    driver.get(url)
    wait_loaded(driver)


def serious_violations(driver: WebDriver) -> list[dict[str, Any]]:
    """axe-core 4.x's serious and critical WCAG 2.2 A/AA violations on the current page."""
    return axe.serious_violations(driver)


# Controls smaller than 24 x 24 CSS px (WCAG 2.2, 2.5.8), except links inside a sentence (the "inline" exception).
SMALL_TARGETS = """
const small = [];
for (const el of document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea, summary')) {
  const r = el.getBoundingClientRect();
  if (r.width === 0 || r.height === 0 || getComputedStyle(el).visibility === 'hidden') continue;
  if (r.width >= 24 && r.height >= 24) continue;
  const parent = el.parentElement;
  const text = Array.from(parent.childNodes).filter(n => n !== el).map(n => n.textContent).join('').trim();
  if (el.tagName === 'A' && text.length > 0) continue;  // inline in a sentence
  small.push(el.outerHTML.slice(0, 80) + ' ' + Math.round(r.width) + 'x' + Math.round(r.height));
}
return small;
"""


def check(driver: WebDriver, name: str, width: int) -> None:
    """The current page fits the width, is photographed (full height, before axe scrolls anything), passes axe."""
    overflow = driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"{name} scrolls sideways by {overflow} px at {width} px"
    small = driver.execute_script(SMALL_TARGETS)
    assert not small, (name, width, small[:5])
    height = int(driver.execute_script("return document.documentElement.scrollHeight"))
    set_width(driver, width, min(max(height, 600), 8000))
    driver.save_screenshot(str(SCREENSHOTS / f"{name}-{width}.png"))
    set_width(driver, width)
    found = serious_violations(driver)
    assert not found, (
        name,
        width,
        [(v["id"], v["help"], [(n["target"], n.get("failureSummary")) for n in v["nodes"]][:3]) for v in found],
    )


def follow(driver: WebDriver, element: WebElement, url_part: str) -> None:
    """Click a link or button and wait for the next page, so no assertion reads the old one."""
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    element.click()
    WebDriverWait(driver, 15).until(EC.url_contains(url_part))
    wait_loaded(driver)


def submit(driver: WebDriver, button: WebElement) -> None:
    """Press a form button and wait for the page it loads."""
    old = driver.find_element(By.TAG_NAME, "html")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
    button.click()
    WebDriverWait(driver, 15).until(lambda _: _gone(old))
    wait_loaded(driver)


def _gone(element: WebElement) -> bool:
    """True once the element's page has been replaced (chromedriver may say so with a generic error)."""
    try:
        element.is_enabled()
    except WebDriverException:  # StaleElementReferenceException, or "Node ... does not belong to the document"
        return True
    return False


def h1(driver: WebDriver) -> str:
    return driver.find_element(By.TAG_NAME, "h1").text


def sign_in(driver: WebDriver, base: str, key: str) -> None:
    driver.delete_all_cookies()
    open_page(driver, base + "/signin")
    driver.find_element(By.ID, "api_key").send_keys(key)
    submit(driver, driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]"))
    WebDriverWait(driver, 10).until(EC.presence_of_element_located((By.CLASS_NAME, "who")))


def tick(driver: WebDriver, rec_id: str, *, on: bool = True) -> None:
    box = driver.find_element(By.CSS_SELECTOR, f"input[name=recommendation_ids][value='{rec_id}']")
    if box.is_selected() != on:
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", box)
        box.click()


def first_unticked(driver: WebDriver, skip: int = 0) -> str:
    """The id of an unticked recommendation in the list being browsed (the `skip`-th one)."""
    boxes = driver.find_elements(By.CSS_SELECTOR, "#f-recommendation_ids .checks input[id^=rec-]")
    return [str(b.get_attribute("value")) for b in boxes if not b.is_selected()][skip]


def ticked(driver: WebDriver) -> set[str]:
    return {
        str(b.get_attribute("value"))
        for b in driver.find_elements(By.CSS_SELECTOR, "input[name=recommendation_ids]")
        if b.is_selected()
    }


# --- every page kind, signed out and in, at both widths --------------------------------


def public_pages(data: Seed) -> dict[str, str]:
    """A page of every kind a visitor sees without signing in (screenshot name -> path)."""
    return {
        "home": "/",
        "signin": "/signin",
        "recommendations": "/recommendations?state=FRA",
        "recommendation": f"/recommendations/{data.recs['opcat'].id}",
        "states": "/states",
        "state": "/states/FRA",
        "needs": "/needs",
        "need": f"/needs/{data.needs['fra'].id}",
        "providers": "/providers",
        "provider": f"/providers/{data.providers['ngo'].id}",
        "activities": "/activities",
        "activity": f"/activities/{data.activities['workshop'].id}",
        "gaps": "/gaps",
    }


@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_kind_passes_axe_fits_and_is_photographed(browser: WebDriver, site: Site, width: int) -> None:
    data = site.data
    set_width(browser, width)
    browser.delete_all_cookies()
    anonymous = {
        **public_pages(data),
        "recommendations-fr": "/recommendations?state=FRA&lang=fr",
        "recommendation-fr": f"/recommendations/{data.recs['opcat'].id}?lang=fr",
        "gaps-state": "/gaps?state=FRA",
        "gaps-unknown-state": "/gaps?state=ZZZ",
        "state-unknown": "/states/ZZZ",
        "not-found": "/needs/does-not-exist",
    }
    for name, path in anonymous.items():
        open_page(browser, site.url + path)
        check(browser, name, width)
    assert h1(browser) == "Not found"
    # /gaps with every section a reader can open opened: what they hide is checked too.
    open_page(browser, site.url + "/gaps?state=FRA")
    browser.execute_script("document.querySelectorAll('details.measure').forEach(d => d.open = true)")
    check(browser, "gaps-sections-open", width)

    sign_in(browser, site.url, data.keys["fra"][1])
    state_pages = {
        "home-state": "/",
        "need-form": "/needs/new",
        "need-owner": f"/needs/{data.needs['fra'].id}",
        "need-edit": f"/needs/{data.needs['fra'].id}/edit",
        "recommendation-state": f"/recommendations/{data.recs['women'].id}",
        "search-state": "/recommendations?state=FRA&response=supported",
        "activities-state": "/activities",
        "activity-answer": f"/activities/{data.activities['for-france'].id}",
        "activity-waiting": f"/activities/{data.activities['by-france'].id}",
        "activity-form": "/activities/new",
        "forbidden": f"/providers/{data.providers['ngo'].id}/edit",
    }
    for name, path in state_pages.items():
        open_page(browser, site.url + path)
        check(browser, name, width)
    assert h1(browser) == "Forbidden"
    # A form sent with a mistake: the summary takes the focus and links to the field.
    open_page(browser, site.url + f"/needs/new?cite={data.recs['j0'].id}")
    tick(browser, data.recs["j0"].id, on=False)  # untick the only one
    submit(browser, browser.find_element(By.XPATH, "//button[normalize-space()='File the need']"))
    # autofocus runs once the page is rendered: wait for it rather than read the focus too early.
    WebDriverWait(browser, 5).until(lambda d: d.switch_to.active_element.get_attribute("id") == "error-summary")
    link = browser.find_element(By.CSS_SELECTOR, "#error-summary a[href='#f-recommendation_ids']")
    assert link.text == "Tick at least one recommendation the need is about."
    check(browser, "need-form-errors", width)
    open_page(browser, site.url + "/activities/new")
    submit(browser, browser.find_element(By.XPATH, "//button[normalize-space()='Record the activity']"))
    WebDriverWait(browser, 5).until(lambda d: d.switch_to.active_element.get_attribute("id") == "error-summary")
    check(browser, "activity-form-errors", width)
    open_page(browser, site.url + f"/activities/{data.activities['for-france'].id}")
    submit(browser, browser.find_element(By.XPATH, "//button[normalize-space()='Decline this activity']"))
    assert browser.find_element(By.CSS_SELECTOR, "#error-summary a[href='#f-reason']")
    check(browser, "activity-decline-errors", width)

    sign_in(browser, site.url, data.keys["ngo"][1])
    for name, path in {
        "home-provider": "/",
        "provider-owner": f"/providers/{data.providers['ngo'].id}",
        "provider-edit": f"/providers/{data.providers['ngo'].id}/edit",
        "activity-form-choose-state": "/activities/new",
        "activity-form-provider": "/activities/new?state=FRA",
    }.items():
        open_page(browser, site.url + path)
        check(browser, name, width)

    sign_in(browser, site.url, site.unbound_keys[-1])
    for name, path in {"home-unbound": "/", "provider-register": "/providers/new"}.items():
        open_page(browser, site.url + path)
        check(browser, name, width)
    browser.delete_all_cookies()


def test_the_state_chart_fits_a_phone(browser: WebDriver, site: Site) -> None:
    set_width(browser, 375)
    open_page(browser, site.url + "/states/FRA")
    chart = browser.find_element(By.CSS_SELECTOR, "svg.chart-narrow")
    assert chart.is_displayed() and chart.size["width"] <= 375
    assert not browser.find_element(By.CSS_SELECTOR, "svg.chart-wide").is_displayed()
    set_width(browser, 1280)
    open_page(browser, site.url + "/states/FRA")
    assert browser.find_element(By.CSS_SELECTOR, "svg.chart-wide").is_displayed()


# --- the tasks, at both widths ---------------------------------------------------------


def register(driver: WebDriver, base: str, key: str, *, kind: str, description: str) -> None:
    """An agency signs in with its new key and creates its profile from the front page's link."""
    sign_in(driver, base, key)
    open_page(driver, base + "/")
    follow(driver, driver.find_element(By.LINK_TEXT, "Create your profile"), "/providers/new")
    driver.find_element(By.ID, "f-kind").find_element(By.CSS_SELECTOR, f"option[value={kind}]").click()
    driver.find_element(By.ID, "f-description").send_keys(description)
    for box in ("f-regions-latin_america_caribbean", "f-languages-es", "f-modalities-training"):
        element = driver.find_element(By.ID, box)
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
        element.click()
    submit(driver, driver.find_element(By.XPATH, "//button[normalize-space()='Create the profile']"))


@pytest.mark.parametrize("width", WIDTHS)
def test_an_agency_registers_its_profile(browser: WebDriver, site: Site, width: int) -> None:
    set_width(browser, width)
    register(
        browser,
        site.url,
        site.unbound_keys[WIDTHS.index(width)],
        kind="academic",
        description="University team that trains judges, prosecutors and police on investigating torture.",
    )
    assert h1(browser) == f"Rights Lab {width}"
    main = browser.find_element(By.TAG_NAME, "main").text
    assert "University or research centre" in main and "Spanish" in main and "Edit this profile" in main
    assert "My profile" in browser.find_element(By.TAG_NAME, "nav").text


@pytest.mark.parametrize("width", WIDTHS)
def test_a_state_files_a_need_from_two_themes_and_two_pages_edits_and_closes_it(
    browser: WebDriver, site: Site, width: int
) -> None:
    data = site.data
    set_width(browser, width)
    sign_in(browser, site.url, data.keys["fra"][1])
    start = data.recs["w03"]
    open_page(browser, site.url + f"/recommendations/{start.id}")
    follow(browser, browser.find_element(By.LINK_TEXT, "File a need citing this recommendation"), "/needs/new")
    assert ticked(browser) == {start.id}
    # Page 2 of the first theme.
    submit(browser, browser.find_element(By.XPATH, "//button[starts-with(normalize-space(), 'Next 50')]"))
    assert "Page 2 of 2" in browser.find_element(By.TAG_NAME, "main").text
    second = first_unticked(browser)
    tick(browser, second)
    # Another theme.
    # The picker lists controlled themes by code: UPR Info's "Justice" is filed under D51.
    browser.find_element(By.ID, "f-theme").find_element(By.CSS_SELECTOR, "option[value='D51']").click()
    submit(browser, browser.find_element(By.XPATH, "//button[normalize-space()='Show these recommendations']"))
    third = first_unticked(browser, skip=1 if width == WIDTHS[0] else 0)
    tick(browser, third)
    assert ticked(browser) == {start.id, second, third}
    check(browser, "need-form-chosen", width)
    submit(browser, browser.find_element(By.XPATH, "//button[normalize-space()='File the need']"))
    assert h1(browser) == "Women's rights and Justice: support to implement 3 supported recommendations"
    cited = {
        a.get_attribute("href").rsplit("/", 1)[1] for a in browser.find_elements(By.CSS_SELECTOR, "main .results a")
    }
    assert cited == {start.id, second, third}
    need_url = browser.current_url
    # Edit it.
    follow(browser, browser.find_element(By.LINK_TEXT, "Edit this need"), "/edit")
    title = browser.find_element(By.ID, "f-title")
    title.clear()
    title.send_keys(f"Laws on women's rights and access to justice ({width})")
    submit(browser, browser.find_element(By.XPATH, "//button[normalize-space()='Save the need']"))
    assert h1(browser) == f"Laws on women's rights and access to justice ({width})"
    # Close it: the page asks first, then the need is closed and the page says so.
    browser.find_element(By.XPATH, "//summary[normalize-space()='Close this need…']").click()
    submit(browser, browser.find_element(By.XPATH, "//button[normalize-space()='Yes, close this need']"))
    assert "The need is closed" in browser.find_element(By.CSS_SELECTOR, "main .flash").text
    assert browser.current_url == need_url
    assert "Closed" in browser.find_element(By.CSS_SELECTOR, "main .badge.closed").text
    assert browser.find_element(By.XPATH, "//button[normalize-space()='Reopen this need']")
    browser.delete_all_cookies()


def test_another_state_is_refused(browser: WebDriver, site: Site) -> None:
    set_width(browser, 1280)
    sign_in(browser, site.url, site.data.keys["deu"][1])
    open_page(browser, site.url + "/needs/new?state=FRA")
    assert h1(browser) == "Forbidden"
    assert "may not file needs for France" in browser.find_element(By.TAG_NAME, "main").text
    assert not browser.find_elements(By.ID, "f-title")
    browser.delete_all_cookies()
