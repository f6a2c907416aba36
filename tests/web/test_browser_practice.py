"""The whole loop on the web only, as the two parties, in headless Chromium at 1280 and 375 px.

France files a need and asks a provider; the provider accepts, marks the activity started and
reports it completed with what was achieved and the lessons; France accepts each step. The good
practice is then public: on its page, in the Atom feed and in the bulk download. Every page on
the way is checked with axe, must not scroll sideways, and is photographed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree as ET

import httpx
import pytest
from sqlmodel import Session

from app.core.config import Settings
from app.core.db import create_db_engine
from app.worker.loop import Worker
from tests.factories import make_key
from tests.live import LiveServer
from tests.web.seed import Seed, rec, seed
from tests.web.test_browser import (  # noqa: F401
    WIDTHS,
    browser,
    check,
    follow,
    h1,
    open_page,
    seeded_server,
    set_width,
    sign_in,
    submit,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402
from selenium.webdriver.support.expected_conditions import staleness_of  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


@dataclass
class LoopSite:
    server: LiveServer
    data: Seed
    recs: dict[int, str]
    folder: Path

    def deliver(self) -> None:
        """Run the worker once, as `make run` does beside the server: the events become inbox items."""
        url = f"sqlite:///{self.folder / 'site.db'}"
        settings = Settings(DATABASE_URL=url, MODEL_DIR=self.folder / "models", _env_file=None)  # type: ignore[call-arg]
        engine = create_db_engine(settings)
        runner = Worker(settings, engine=engine)
        runner.process_events()
        runner.close()
        engine.dispose()


def _populate(session: Session) -> tuple[Seed, dict[int, str]]:
    data = seed(session)
    recs: dict[int, str] = {
        width: rec(
            session,
            text=f"Prevent torture and ill-treatment in police custody, training officers ({width}).",
            themes=["Torture and other CID treatment", "Detention conditions"],
        ).id
        for width in WIDTHS
    }
    recs[0] = str(data.providers["ngo"].id)
    data.keys["admin"] = make_key(session, "admin", name="Site administrator")
    return data, recs


@pytest.fixture(scope="module")
def loop_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoopSite]:
    folder: Path = tmp_path_factory.mktemp("browser-practice")
    with seeded_server(folder, _populate) as (server, (data, recs)):
        yield LoopSite(server, data, recs, folder)


def _main(driver: WebDriver) -> str:
    return str(driver.find_element(By.TAG_NAME, "main").text)


def _button(driver: WebDriver, text: str) -> object:
    return driver.find_element(By.XPATH, f"//button[normalize-space()='{text}']")


def _notice(driver: WebDriver) -> str:
    return str(driver.find_element(By.CSS_SELECTOR, "main .notice").text)


@pytest.mark.parametrize("width", WIDTHS)
def test_need_to_good_practice_on_the_web_only(browser: WebDriver, loop_site: LoopSite, width: int) -> None:  # noqa: F811
    base, keys = loop_site.server.url, loop_site.data.keys
    ngo_id = loop_site.recs[0]  # the provider's id, read while the seeding session was open
    set_width(browser, width)

    # France files a need citing one recommendation, and asks the provider.
    sign_in(browser, base, keys["fra"][1])
    open_page(browser, f"{base}/needs/new?cite={loop_site.recs[width]}")
    submit(browser, _button(browser, "File the need"))
    need_url, need_title = browser.current_url, h1(browser)
    ask = browser.find_element(By.XPATH, f"//li[.//a[@href='/providers/{ngo_id}']]//details[@class='ask']")
    ask.find_element(By.TAG_NAME, "summary").click()
    submit(browser, ask.find_element(By.XPATH, ".//button[normalize-space()='Send the request']"))
    loop_site.deliver()

    # The provider accepts the request from its inbox.
    sign_in(browser, base, keys["ngo"][1])
    open_page(browser, f"{base}/inbox")
    item = browser.find_element(By.XPATH, f"//li[.//a[@href='/needs/{need_url.rsplit('/', 1)[1]}']][.//textarea]")
    item.find_element(By.CSS_SELECTOR, "textarea[name=message]").send_keys("Gladly.")
    submit(browser, item.find_element(By.XPATH, ".//button[normalize-space()='Accept']"))

    # The planned activity: what was done is not the request message; the provider marks it started.
    open_page(browser, f"{base}/activities")
    # The two widths file needs of the same title: the activity of this one is the planned one.
    hrefs = [str(a.get_attribute("href")) for a in browser.find_elements(By.LINK_TEXT, need_title)]
    for activity_url in hrefs:
        open_page(browser, activity_url)
        if browser.find_elements(By.XPATH, "//button[normalize-space()='Mark as started']"):
            break
    assert "We would welcome your help" not in _main(browser) and "Not reported yet." in _main(browser)
    check(browser, "activity-planned", width)
    submit(browser, _button(browser, "Mark as started"))
    assert "You proposed to mark the activity as started" in _notice(browser)

    # France accepts the start.
    sign_in(browser, base, keys["fra"][1])
    open_page(browser, activity_url)
    check(browser, "activity-start-proposed", width)
    submit(browser, _button(browser, "Accept the change"))
    assert "You accepted the proposal" in _notice(browser) and "Ongoing" in _main(browser)

    # The provider reports it completed, with outcomes and lessons; a first try without outcomes is refused.
    sign_in(browser, base, keys["ngo"][1])
    open_page(browser, activity_url)
    follow(browser, browser.find_element(By.LINK_TEXT, "Report completion"), "/report")
    browser.find_element(By.CSS_SELECTOR, "input[name=status][value=completed]").click()
    submit(browser, _button(browser, "Propose these changes"))
    assert "Say what was achieved" in browser.find_element(By.ID, "error-summary").text
    check(browser, "activity-report-errors", width)
    browser.find_element(By.CSS_SELECTOR, "input[name=status][value=completed]").click()
    fields = {
        "f-description": f"Four sessions for 80 police officers in Lyon and Paris ({width}).",
        "f-outcomes": f"80 officers trained; a custody checklist adopted by two prefectures ({width}).",
        "f-challenges": "Night shifts kept a third of the officers away.",
        "f-lessons": "Night sessions worked; we would pair officers with doctors again.",
        "f-documents": "https://example.org/custody-checklist.pdf",
    }
    for field, text in fields.items():
        box = browser.find_element(By.ID, field)
        box.clear()
        box.send_keys(text)
    check(browser, "activity-report", width)
    submit(browser, _button(browser, "Propose these changes"))
    assert "Your report is proposed" in _notice(browser)

    # France confirms: the other party accepts the report.
    sign_in(browser, base, keys["fra"][1])
    open_page(browser, activity_url)
    assert "80 officers trained" in _main(browser)  # the proposed change, shown to answer it
    submit(browser, _button(browser, "Accept the change"))
    assert "Completed" in _main(browser) and "Night sessions worked" in _main(browser)
    check(browser, "activity-completed", width)

    # Public: the good practice, its page, the feed and the download, signed out.
    browser.delete_all_cookies()
    open_page(browser, f"{base}/practices?q=custody+checklist")
    check(browser, "practices", width)
    follow(browser, browser.find_elements(By.LINK_TEXT, need_title)[0], "/practices/")  # newest first
    assert "80 officers trained" in _main(browser) and "Lessons learned" in _main(browser)
    check(browser, "practice", width)
    practice_id = browser.current_url.rsplit("/", 1)[1]
    feed = ET.fromstring(httpx.get(f"{base}/feeds/practices.atom").content)
    links = [link.get("href", "") for link in feed.iter("{http://www.w3.org/2005/Atom}link")]
    assert any(href.endswith(f"/practices/{practice_id}") for href in links)
    download = httpx.get(f"{base}/data/activities.csv").content.decode("utf-8-sig")
    assert f"80 officers trained; a custody checklist adopted by two prefectures ({width})." in download
    open_page(browser, f"{base}/data")
    check(browser, "data", width)


@pytest.mark.parametrize("width", WIDTHS)
def test_keys_and_registration_on_the_web(browser: WebDriver, loop_site: LoopSite, width: int) -> None:  # noqa: F811
    """An organisation registers; the administrator approves it and issues a key; the key is shown once."""
    base = loop_site.server.url
    set_width(browser, width)
    browser.delete_all_cookies()
    open_page(browser, f"{base}/register")
    submit(browser, _button(browser, "Send the request"))
    assert "Give your organisation" in browser.find_element(By.ID, "error-summary").text
    check(browser, "register-errors", width)
    for field, text in {
        "f-organisation": f"Rights Lab {width}",
        "f-contact_name": "Ana Ruiz",
        "f-contact_email": "ana@lab.example.org",
        "f-message": "We train judges.",
    }.items():
        browser.find_element(By.ID, field).send_keys(text)
    browser.find_element(By.CSS_SELECTOR, "#f-kind option[value=ngo]").click()
    submit(browser, _button(browser, "Send the request"))
    assert h1(browser) == "Request sent"
    shown = str(browser.find_element(By.CSS_SELECTOR, "main a[href*='/register/status?token=']").get_attribute("href"))
    link = base + shown[shown.index("/register/status") :]  # the link names PUBLIC_URL; this server's port differs
    check(browser, "register-sent", width)

    sign_in(browser, base, loop_site.data.keys["admin"][1])
    open_page(browser, f"{base}/inbox")
    assert f"Rights Lab {width} asks for a provider key" in _main(browser)
    open_page(browser, f"{base}/admin/registrations")
    check(browser, "admin-registrations", width)
    request = browser.find_element(By.XPATH, f"//li[.//h2[contains(., 'Rights Lab {width}')]]")
    submit(browser, request.find_element(By.XPATH, ".//button[starts-with(normalize-space(), 'Approve')]"))
    assert "The request is approved" in _notice(browser)
    # The administrator issues a State key on the web: its secret is shown once.
    open_page(browser, f"{base}/admin/keys")
    browser.find_element(By.ID, "f-name").send_keys(f"Kenya mission {width}")
    browser.execute_script("document.getElementById('f-state').value = 'KEN'")
    old = browser.find_element(By.TAG_NAME, "html")
    # A script's click: at 375 px chromedriver's pointer click on this button did not submit (not understood yet).
    browser.execute_script(
        "arguments[0].scrollIntoView({block: 'center'}); arguments[0].click()", _button(browser, "Issue the key")
    )
    WebDriverWait(browser, 30).until(staleness_of(old))
    assert browser.find_element(By.ID, "new-key").get_attribute("value").startswith("upr_")
    check(browser, "admin-keys-issued", width)

    browser.delete_all_cookies()
    open_page(browser, str(link))
    check(browser, "register-approved", width)
    submit(browser, _button(browser, "Show my key"))
    secret = str(browser.find_element(By.ID, "new-key").get_attribute("value"))
    assert secret.startswith("upr_")
    open_page(browser, str(link))
    assert "shown already" in _main(browser) and secret not in browser.page_source
    sign_in(browser, base, secret)
    assert "Create your profile" in browser.find_element(By.TAG_NAME, "header").text
    browser.delete_all_cookies()
