"""The loop's pages in headless Chromium at 1280 and 375 px: axe-core, no sideways scroll, screenshots.

A State sees "Ask this partner" on its need and the requests it sent; a provider sees its inbox
(a request to answer, an activity to confirm) and "Offer help"; the provider then accepts the
request from its inbox, in the browser.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlmodel import Session

from app.core.config import Settings
from app.core.db import create_db_engine
from app.core.identity import Principal
from app.models.activity import ActivityCreate
from app.models.engagement import EngagementCreate
from app.services import activities as activity_service
from app.services import engagements as engagement_service
from app.worker.loop import Worker
from tests.conftest import migrate
from tests.factories import make_need
from tests.live import LiveServer
from tests.web.seed import rec, seed
from tests.web.test_browser import WIDTHS, browser, check, h1, open_page, set_width, sign_in, submit  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.slow]

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402


@dataclass
class LoopSite:
    server: LiveServer
    need_id: str
    other_need_id: str
    keys: dict[str, str]


@pytest.fixture(scope="module")
def loop_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoopSite]:
    folder: Path = tmp_path_factory.mktemp("browser-loop")
    url = f"sqlite:///{folder / 'site.db'}"
    migrate(url)
    settings = Settings(DATABASE_URL=url, MODEL_DIR=folder / "models", _env_file=None)  # type: ignore[call-arg]
    engine = create_db_engine(settings)
    with Session(engine) as session:
        data = seed(session)
        other = make_need(session, recommendations=[rec(session, text="Reduce prison overcrowding.")], title="Prisons")
        france = Principal(role="state", state="FRA", key_id=data.keys["fra"][0].id, name="France mission")
        ngo = data.providers["ngo"]
        for width in WIDTHS:
            need = make_need(session, recommendations=[rec(session)], title=f"Torture prevention training {width}")
            engagement_service.create_engagement(
                session,
                principal=france,
                need_id=need.id,
                data=EngagementCreate(provider_id=ngo.id, message=f"Could you train our prison staff? ({width})"),
            )
        activity_service.create_activity(
            session,
            principal=france,
            data=ActivityCreate(provider_id=ngo.id, title="Inspection workshop in Lyon", modality="training"),
        )
        ids = (data.needs["fra"].id, other.id)
        keys = {"fra": data.keys["fra"][1], "ngo": data.keys["ngo"][1]}
    runner = Worker(settings, engine=engine)
    runner.process_events()
    runner.close()
    engine.dispose()
    env = {"DATABASE_URL": url, "ENVIRONMENT": "test", "SECRET_KEY": secrets.token_urlsafe(48)}
    env.update(MODEL_DIR=str(folder / "models"), RATE_LIMIT_PER_MINUTE="100000")
    with LiveServer(env=env, log=folder / "server.log") as server:
        yield LoopSite(server, ids[0], ids[1], keys)


@pytest.mark.parametrize("width", WIDTHS)
def test_the_loop_pages_pass_axe_fit_and_are_photographed(browser: WebDriver, loop_site: LoopSite, width: int) -> None:  # noqa: F811
    base = loop_site.server.url
    set_width(browser, width)
    sign_in(browser, base, loop_site.keys["fra"])
    open_page(browser, f"{base}/needs/{loop_site.need_id}")
    browser.find_element(By.XPATH, "//summary[normalize-space()='Ask this partner']").click()
    check(browser, "need-ask", width)
    open_page(browser, f"{base}/inbox")
    check(browser, "inbox-state", width)

    sign_in(browser, base, loop_site.keys["ngo"])
    open_page(browser, f"{base}/inbox")
    assert "Could you train our prison staff" in browser.find_element(By.TAG_NAME, "main").text
    check(browser, "inbox-provider", width)
    open_page(browser, f"{base}/needs/{loop_site.other_need_id}")
    assert browser.find_element(By.ID, "offer-heading").text == "Offer help"
    check(browser, "need-offer", width)
    # The provider accepts a request from its inbox, in the browser.
    open_page(browser, f"{base}/inbox")
    item = browser.find_element(By.XPATH, f"//li[.//p[contains(., '({width})')]]")
    item.find_element(By.CSS_SELECTOR, "textarea[name=message]").send_keys("Gladly.")
    submit(browser, item.find_element(By.XPATH, ".//button[normalize-space()='Accept']"))
    assert (
        h1(browser) == "Inbox"
        and f"({width})"
        not in browser.find_element(By.ID, "to-answer").find_element(By.XPATH, "following-sibling::*[1]").text
    )
    browser.delete_all_cookies()
