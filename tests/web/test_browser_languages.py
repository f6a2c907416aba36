"""Browser, at 1280 and 375 px: a visitor switches the pages to French, then Spanish, with the keyboard.

The switch is on every page; the choice is remembered by the next pages; the State page names Mexico
in the language chosen. Every page goes through `check()` (fits, 24 px targets, axe-core, a screenshot
in artifacts/screenshots/lang-*).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import Session

from tests.factories import make_need
from tests.web.seed import Seed, rec, seed
from tests.web.test_browser import (  # noqa: F401  (browser: the fixture)
    WIDTHS,
    browser,
    check,
    h1,
    open_page,
    seeded_server,
    set_width,
    wait_loaded,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


def _populate(session: Session) -> tuple[str, str]:
    """The page tests' seed, and Mexico with a recommendation and a need."""
    data: Seed = seed(session)
    mexico = rec(
        session,
        state_under_review="MEX",
        state_under_review_name="Mexico",
        text="Adopt a general law on enforced disappearances.",
        themes=["Enforced disappearances"],
    )
    make_need(session, recommendations=[mexico], state="MEX", title="Search commissions")
    return str(data.recs["opcat"].id), str(mexico.id)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, str]]:
    with seeded_server(tmp_path_factory.mktemp("languages"), _populate) as (server, (opcat, mexico)):
        yield server.url, opcat, mexico


def html_lang(driver: WebDriver) -> str:
    return str(driver.find_element(By.TAG_NAME, "html").get_attribute("lang"))


def switch_with_keyboard(driver: WebDriver, language: str) -> None:
    """Tab from the top of the page to the switch's link for `language` and press Enter."""
    target = driver.find_element(By.CSS_SELECTOR, f'.language-switch a[lang="{language}"]')
    body = driver.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.TAB)
    for _ in range(40):
        if driver.switch_to.active_element == target:
            break
        driver.switch_to.active_element.send_keys(Keys.TAB)
    assert driver.switch_to.active_element == target, f"the {language} link cannot be reached with Tab"
    old = driver.find_element(By.TAG_NAME, "html")
    target.send_keys(Keys.ENTER)
    WebDriverWait(driver, 15).until(lambda d: d.find_element(By.TAG_NAME, "html") != old)
    wait_loaded(driver)


@pytest.mark.parametrize("width", WIDTHS)
def test_switching_to_french_then_spanish_is_remembered_on_every_page(
    browser: WebDriver,  # noqa: F811  (the fixture imported above)
    site: tuple[str, str, str],
    width: int,
) -> None:
    base, opcat, _ = site
    set_width(browser, width)
    browser.delete_all_cookies()
    open_page(browser, base + "/states/MEX")
    assert html_lang(browser) == "en" and h1(browser) == "Mexico"

    switch_with_keyboard(browser, "fr")
    assert html_lang(browser) == "fr" and h1(browser) == "Mexique"
    assert browser.current_url.endswith("/states/MEX")  # the switch brings the visitor back to the page
    check(browser, "lang-state-fr", width)
    # The next pages, without ?lang=, stay in French.
    for name, path, heading in [
        ("lang-home-fr", "/", "Coopération technique pour les recommandations de l’EPU"),
        ("lang-states-fr", "/states", "États"),
        ("lang-recommendations-fr", "/recommendations?state=FRA", "Recommandations"),
        ("lang-recommendation-fr", f"/recommendations/{opcat}", "Recommandation adressée à l’État : France"),
    ]:
        open_page(browser, base + path)
        assert html_lang(browser) == "fr" and h1(browser) == heading, path
        check(browser, name, width)
    # The recommendation's French text is shown, the original one click away.
    assert browser.find_element(By.CSS_SELECTOR, "blockquote.rec").get_attribute("lang") == "fr"
    # Every other page kind a visitor reaches, in French and then in Spanish (axe-core at both widths).
    more = {"gaps": "/gaps", "needs": "/needs", "providers": "/providers", "activities": "/activities"}
    for name, path in more.items():
        open_page(browser, base + path)
        browser.execute_script("document.querySelectorAll('details.measure').forEach(d => d.open = true)")
        assert html_lang(browser) == "fr", path
        check(browser, f"lang-{name}-fr", width)

    open_page(browser, base + "/states/MEX")
    switch_with_keyboard(browser, "es")
    assert html_lang(browser) == "es" and h1(browser) == "México"
    check(browser, "lang-state-es", width)
    open_page(browser, base + "/states")
    assert html_lang(browser) == "es" and h1(browser) == "Estados"
    check(browser, "lang-states-es", width)
    for name, path in more.items():
        open_page(browser, base + path)
        browser.execute_script("document.querySelectorAll('details.measure').forEach(d => d.open = true)")
        assert html_lang(browser) == "es", path
        check(browser, f"lang-{name}-es", width)
    # And back to English, remembered too.
    switch_with_keyboard(browser, "en")
    open_page(browser, base + "/")
    assert html_lang(browser) == "en"
    browser.delete_all_cookies()
