"""Browser, at 1280 and 375 px: every page kind in French and Spanish, signed out and signed in.

Each page is in the language chosen with the switch (`<html lang>`, `dir`), offers the switch back to the
same page, fits, passes axe-core with no serious or critical violation, and is photographed
(artifacts/screenshots/i18n-<page>-<language>-<width>.png).
"""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from tests.web.test_browser import (  # noqa: F401  (browser, site: the fixtures)
    WIDTHS,
    Site,
    browser,
    check,
    open_page,
    public_pages,
    set_width,
    sign_in,
    site,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LANGUAGES = ("fr", "es")


def choose(driver: WebDriver, base: str, language: str) -> None:
    """The switch's link, as a visitor follows it: the choice is remembered in the cookie."""
    open_page(driver, f"{base}/language/{language}?next=/")
    assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == language


def visit(driver: WebDriver, base: str, pages: dict[str, str], language: str, width: int) -> None:
    for name, path in pages.items():
        open_page(driver, base + path)
        html = driver.find_element(By.TAG_NAME, "html")
        assert html.get_attribute("lang") == language, (name, language)
        assert html.get_attribute("dir") == "ltr", name
        # The switch is on the page and brings the visitor back to it in each other language.
        links = driver.find_elements(By.CSS_SELECTOR, ".language-switch a[lang]")
        assert {link.get_attribute("lang") for link in links} >= {"en", "fr", "es"} - {language}, name
        check(driver, f"i18n-{name}-{language}", width)


@pytest.mark.parametrize("language", sorted(LANGUAGES))
@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_kind_in_french_and_spanish_fits_and_passes_axe(
    browser: WebDriver,  # noqa: F811  (the fixture imported above)
    site: Site,  # noqa: F811
    width: int,
    language: str,
) -> None:
    data = site.data
    set_width(browser, width)
    browser.delete_all_cookies()
    choose(browser, site.url, language)
    visit(
        browser,
        site.url,
        {
            **public_pages(data),
            "not-found": "/needs/does-not-exist",
        },
        language,
        width,
    )
    sign_in(browser, site.url, data.keys["fra"][1])  # signing in clears the cookies: choose again
    choose(browser, site.url, language)
    visit(
        browser,
        site.url,
        {
            "home-state": "/",
            "inbox": "/inbox",
            "need-form": f"/needs/new?cite={data.recs['j0'].id}",
            "need-owner": f"/needs/{data.needs['fra'].id}",
            "need-edit": f"/needs/{data.needs['fra'].id}/edit",
            "activity-answer": f"/activities/{data.activities['for-france'].id}",
            "activity-waiting": f"/activities/{data.activities['by-france'].id}",
            "activity-form": "/activities/new",
        },
        language,
        width,
    )
    sign_in(browser, site.url, data.keys["ngo"][1])
    choose(browser, site.url, language)
    visit(
        browser,
        site.url,
        {
            "provider-owner": f"/providers/{data.providers['ngo'].id}",
            "provider-edit": f"/providers/{data.providers['ngo'].id}/edit",
            "activity-form-provider": "/activities/new?state=FRA",
        },
        language,
        width,
    )
    browser.delete_all_cookies()
