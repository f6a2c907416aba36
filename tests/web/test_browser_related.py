"""Browser, at 1280 and 375 px: a State files a need from one sentence in fewer than five actions.

The need form starts with the description: the State writes one sentence (1), asks for the recommendations
it speaks to (2), ticks the one that fits (3) and files the need (4). Each page goes through `check()` (fits,
24 px targets, axe-core, a screenshot in artifacts/screenshots/related-*).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlmodel import Session

from tests.web.seed import Seed, seed
from tests.web.test_browser import (  # noqa: F401  (browser: the fixture)
    WIDTHS,
    browser,
    check,
    h1,
    open_page,
    seeded_server,
    set_width,
    sign_in,
    submit,
    ticked,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402

# One need per width (the same need twice would be refused as a duplicate): (sentence, what it speaks to first).
SENTENCES = {
    1280: ("We need help to train prison staff and improve detention conditions in overcrowded prisons.", "prisons"),
    375: ("Our ministry is drafting a comprehensive law against violence against women.", "women"),
}
TEXTS = {
    "prisons": "Improve detention conditions and reduce prison overcrowding.",
    "women": "Adopt a comprehensive law on violence against women.",
}


@dataclass
class Site:
    url: str
    recs: dict[str, str]  # the recommendations on prisons and on violence against women, by name
    ngo: str  # a provider working on torture prevention in prisons
    france: str  # France's key


def _populate(session: Session) -> tuple[dict[str, str], str, str]:
    data: Seed = seed(session)
    return {name: data.recs[name].id for name in TEXTS}, data.providers["ngo"].id, data.keys["fra"][1]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with seeded_server(tmp_path_factory.mktemp("related"), _populate) as (server, (recs, ngo, france)):
        yield Site(server.url, recs, ngo, france)


@pytest.mark.parametrize("width", WIDTHS)
def test_a_need_is_filed_from_one_sentence_in_fewer_than_five_actions(
    browser: WebDriver,  # noqa: F811
    site: Site,
    width: int,
) -> None:
    set_width(browser, width)
    sign_in(browser, site.url, site.france)
    open_page(browser, site.url + "/needs/new?state=FRA")
    actions = 0
    sentence, expected = SENTENCES[width]
    browser.find_element(By.ID, "f-description").send_keys(sentence)
    actions += 1  # writes the sentence
    submit(browser, browser.find_element(By.ID, "suggest"))
    actions += 1  # asks for the recommendations it speaks to
    listed = browser.find_elements(By.CSS_SELECTOR, "#suggestions input[name=recommendation_ids]")
    assert listed and not ticked(browser), "listed unticked"
    first = listed[0]
    assert first.get_attribute("value") == site.recs[expected]  # best first
    check(browser, "related-need-form-suggestions", width)
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", first)
    first.click()
    actions += 1  # ticks it
    submit(browser, browser.find_element(By.XPATH, "//button[normalize-space()='File the need']"))
    actions += 1  # files the need
    assert actions < 5
    assert "/needs/" in browser.current_url and "/needs/new" not in browser.current_url
    main = browser.find_element(By.TAG_NAME, "main").text
    assert TEXTS[expected] in main
    assert h1(browser).endswith("support to implement 1 supported recommendation")
    check(browser, "related-need-filed", width)


@pytest.mark.parametrize("width", WIDTHS)
def test_a_providers_page_lists_the_recommendations_its_profile_speaks_to(
    browser: WebDriver,  # noqa: F811
    site: Site,
    width: int,
) -> None:
    set_width(browser, width)
    browser.delete_all_cookies()
    open_page(browser, site.url + f"/providers/{site.ngo}")
    section = browser.find_element(By.ID, "related")
    assert section.text == "Recommendations this profile speaks to"
    check(browser, "related-provider", width)
