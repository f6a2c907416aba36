"""Browser, at 1280 and 375 px: the whole story of the pages, as its people would live it.

An agency registers its profile; Mexico chooses recommendations in the search results
(two themes, two pages of one of them) and files one need citing exactly those,
edits it and closes it; Mexico records an activity with the agency for that need,
and the agency confirms it from its home page, after which the public sees it.
Every page on the way goes through `check()` (fits, 24 px targets, axe-core, a
screenshot in artifacts/screenshots/done-*).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlmodel import Session

from tests.factories import make_key
from tests.web.seed import rec, seed
from tests.web.test_browser import (  # noqa: F401  (browser: the fixture)
    WIDTHS,
    browser,
    check,
    follow,
    h1,
    open_page,
    register,
    seeded_server,
    set_width,
    sign_in,
    submit,
    ticked,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402
from selenium.webdriver.support.ui import Select  # noqa: E402

WOMEN, JUSTICE = "Women's rights", "Justice"


@dataclass
class Story:
    url: str
    mexico: str
    agencies: dict[int, str]  # width -> a provider key not yet bound to a profile


def _populate(session: Session) -> tuple[str, dict[int, str]]:
    """France's seed, and Mexico with two themes (one over two pages of 20) and a noted recommendation."""
    seed(session)
    mex = {"state_under_review": "MEX", "state_under_review_name": "Mexico", "cycle": 4}
    for i in range(25):
        rec(session, text=f"Prevent violence against women, measure {i:02d}.", themes=[WOMEN], **mex)
    for i in range(3):
        rec(session, text=f"Strengthen access to justice, measure {i}.", themes=[JUSTICE], **mex)
    rec(session, text="Abolish military jurisdiction over civilians.", themes=[JUSTICE], response="noted", **mex)
    mexico = make_key(session, role="state", state="MEX", name="Mission of Mexico")[1]
    return mexico, {w: make_key(session, role="provider", name=f"Justice Lab {w}")[1] for w in WIDTHS}


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Story]:
    with seeded_server(tmp_path_factory.mktemp("done-when"), _populate) as (server, (mexico, agencies)):
        yield Story(server.url, mexico, agencies)


def show_filters(driver: WebDriver, width: int) -> None:
    """Unfold the filters: a phone shows them behind the "Filters" line; a wide screen always shows them
    (Selenium, which does not know that style, is told the disclosure is open)."""
    if driver.find_element(By.ID, "filters").get_attribute("open") is not None:
        return
    if width < 500:
        driver.find_element(By.CSS_SELECTOR, "#filters > summary").click()
    else:
        driver.execute_script("document.getElementById('filters').open = true")


def only_theme(driver: WebDriver, width: int, theme: str) -> None:
    """Choose one theme in the filters and apply them."""
    show_filters(driver, width)
    # The theme filter is a checklist of controlled themes with a box to find one by any of its labels.
    for box in driver.find_elements(By.CSS_SELECTOR, "#f-theme input[type=checkbox]"):
        if box.is_selected():
            driver.execute_script("arguments[0].click()", box)
    find = driver.find_element(By.ID, "f-theme-find")
    find.clear()
    find.send_keys(theme)
    submit(
        driver,
        driver.find_element(By.XPATH, "//form[@aria-label='Filters']//button[normalize-space()='Apply filters']"),
    )


def choose(driver: WebDriver, index: int = 0) -> str:
    """Tick "Choose for a need" on the `index`-th unticked result; return its id."""
    boxes = [b for b in driver.find_elements(By.CSS_SELECTOR, "input[form=pick]") if not b.is_selected()]
    box = boxes[index]
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", box)
    box.click()
    return str(box.get_attribute("value"))


def button(driver: WebDriver, text: str) -> object:
    return driver.find_element(By.XPATH, f"//button[normalize-space()='{text}']")


@pytest.mark.parametrize("width", WIDTHS)
def test_the_story_of_the_pages(browser: WebDriver, story: Story, width: int) -> None:  # noqa: F811
    set_width(browser, width)
    agency = f"Justice Lab {width}"

    # An agency registers its profile.
    register(
        browser,
        story.url,
        story.agencies[width],
        kind="ngo",
        description="Lawyers who train judges and prosecutors in Latin America on access to justice for women.",
    )
    assert h1(browser) == agency
    check(browser, "done-profile", width)

    # Mexico chooses recommendations in the search results: two pages of one theme, then another theme.
    sign_in(browser, story.url, story.mexico)
    follow(browser, browser.find_element(By.LINK_TEXT, "Choose recommendations for a need"), "/recommendations")
    only_theme(browser, width, WOMEN)
    assert "25 recommendations" in h1_of_results(browser)
    first = choose(browser)
    submit(browser, button(browser, "Next page →"))
    assert "Chosen for a need: 1 recommendation to Mexico" in browser.find_element(By.TAG_NAME, "main").text
    second = choose(browser, 1)
    submit(browser, button(browser, "Keep my ticks on this page"))
    check(browser, "done-search-chosen", width)
    only_theme(browser, width, JUSTICE)
    assert "3 recommendations" in h1_of_results(browser)  # the noted one cannot be cited, nor offered
    third = choose(browser)
    submit(browser, button(browser, "File a need citing them"))

    # The need form opens with exactly those; filing cites exactly those.
    assert ticked(browser) == {first, second, third}
    submit(browser, button(browser, "File the need"))
    assert h1(browser) == f"{WOMEN} and {JUSTICE}: support to implement 3 supported recommendations"
    cited = {
        str(a.get_attribute("href")).rsplit("/", 1)[1]
        for a in browser.find_elements(
            By.XPATH, "//h2[starts-with(., 'Recommendations it cites')]/following-sibling::ul[1]//a"
        )
    }
    assert cited == {first, second, third}
    need_url = browser.current_url

    # Mexico edits it and closes it.
    follow(browser, browser.find_element(By.LINK_TEXT, "Edit this need"), "/edit")
    title = browser.find_element(By.ID, "f-title")
    title.clear()
    title.send_keys(f"Justice for women victims of violence ({width})")
    submit(browser, button(browser, "Save the need"))
    assert h1(browser) == f"Justice for women victims of violence ({width})"
    browser.find_element(By.XPATH, "//summary[normalize-space()='Close this need…']").click()
    submit(browser, button(browser, "Yes, close this need"))
    assert browser.current_url == need_url
    assert "Closed" in browser.find_element(By.CSS_SELECTOR, "main .badge.closed").text

    # Mexico records an activity with the agency for this need.
    follow(browser, browser.find_element(By.LINK_TEXT, "Record an activity for this need"), "/activities/new")
    assert ticked(browser) == {first, second, third}  # the need's recommendations
    Select(browser.find_element(By.ID, "f-provider_id")).select_by_visible_text(agency)
    browser.find_element(By.ID, "f-title").send_keys(f"Training of judges in Chiapas ({width})")
    Select(browser.find_element(By.ID, "f-modality")).select_by_value("training")
    Select(browser.find_element(By.ID, "f-status")).select_by_value("completed")
    browser.find_element(By.ID, "f-outcomes").send_keys("60 judges trained on gender-sensitive trials.")
    submit(browser, browser.find_elements(By.XPATH, "//button[normalize-space()='Record the activity']")[0])
    assert h1(browser) == f"Training of judges in Chiapas ({width})"
    assert f"waiting for {agency} to confirm" in browser.find_element(By.TAG_NAME, "main").text
    activity_url = browser.current_url
    check(browser, "done-activity-recorded", width)

    # The public does not see it yet; the agency confirms it from its home page.
    browser.delete_all_cookies()
    open_page(browser, story.url + "/activities")
    assert f"Training of judges in Chiapas ({width})" not in browser.find_element(By.TAG_NAME, "main").text
    sign_in(browser, story.url, story.agencies[width])
    open_page(browser, story.url + "/")
    inbox = browser.find_element(By.ID, "waiting")
    assert f"Training of judges in Chiapas ({width})" in inbox.text and "Recorded by Mexico" in inbox.text
    check(browser, "done-home-inbox", width)
    submit(browser, inbox.find_element(By.XPATH, ".//button[starts-with(normalize-space(), 'Confirm')]"))
    assert not browser.find_elements(By.ID, "waiting")
    browser.delete_all_cookies()
    open_page(browser, activity_url)
    assert f"Recorded by Mexico and confirmed by {agency}" in browser.find_element(By.TAG_NAME, "main").text
    # An anonymous page may be reused for PUBLIC_MAX_AGE_S (app/http/public_cache.py): this browser saw the list
    # seconds ago, before the confirmation, so it is a visitor who had not seen it that finds the activity there.
    browser.execute_cdp_cmd("Network.clearBrowserCache", {})  # type: ignore[attr-defined]
    open_page(browser, story.url + "/activities")
    assert f"Training of judges in Chiapas ({width})" in browser.find_element(By.TAG_NAME, "main").text
    check(browser, "done-activities-public", width)


def h1_of_results(driver: WebDriver) -> str:
    return str(driver.find_element(By.ID, "results-heading").text)
