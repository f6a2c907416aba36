"""Alerts (subscriptions), the inbox and e-mail: who hears of what, once, and how they stop hearing."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from app.core.config import Settings
from app.main import create_app
from app.models.mail import EmailMessage
from tests.factories import make_recommendation
from tests.loop.helpers import drain, seed_loop, wait_for, worker
from tests.loop.receiver import receiver

TORTURE = "Torture and other CID treatment"


def _file_need(client: TestClient, loop: Any, **fields: Any) -> str:
    rec = fields.pop("rec")
    body = {
        "title": "Independent investigation of torture complaints",
        "description": "Training for prosecutors on the prevention of torture in prisons and police custody.",
        "recommendation_ids": [rec.id],
        "themes": [TORTURE],
        **fields,
    }
    response = client.post("/v1/needs", headers=loop.h("fra"), json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def test_a_subscribed_provider_hears_of_a_fitting_need_once(
    lclient: TestClient, session: Session, loop_settings: Settings, engine: Engine
) -> None:
    loop = seed_loop(session)
    rec = make_recommendation(session, state_under_review="FRA", text="Prevent torture in prisons.")
    subs = {
        "fits": {"themes": [TORTURE], "regions": ["western_europe_others"], "min_score": 0.05},
        "other_theme": {"themes": ["Women's rights"], "min_score": 0.0},
        "other_state": {"states": ["KEN"], "min_score": 0.0},
        "too_high": {"min_score": 0.99},
    }
    ids = {}
    for name, body in subs.items():
        created = lclient.post("/v1/subscriptions", headers=loop.h("x"), json=body)
        assert created.status_code == 201, created.text
        ids[created.json()["id"]] = name
    with receiver() as sink:
        secret = lclient.post(
            "/v1/webhooks", headers=loop.h("x"), json={"url": sink.url, "events": ["need.matched"]}
        ).json()["secret"]
        need_id = _file_need(lclient, loop, rec=rec)
        with worker(loop_settings, engine) as runner:
            drain(runner)
            runner.deliver()
            # Changing the need evaluates it again: still one notice per need and subscription.
            tag = lclient.get(f"/v1/needs/{need_id}").headers["etag"]
            lclient.patch(f"/v1/needs/{need_id}", headers=loop.h("fra", **{"If-Match": tag}), json={"priority": "low"})
            drain(runner)
            runner.deliver()
        [delivered] = sink.verified(secret)
    items = lclient.get("/v1/inbox?type=need.matched", headers=loop.h("x")).json()["items"]
    assert [ids[i["data"]["subscription_id"]] for i in items] == ["fits"]
    assert items[0]["need_id"] == need_id and items[0]["data"]["need"]["id"] == need_id
    assert (
        delivered["type"] == "need.matched"
        and delivered["data"]["subscription_id"] == items[0]["data"]["subscription_id"]
    )
    # The score is the service's own: what a server that loads the same data answers for this provider.
    fresh_app = create_app(loop_settings, engine=engine)
    with TestClient(fresh_app) as fresh:
        matches = fresh.get(f"/v1/needs/{need_id}/matches?limit=50").json()["items"]
    score = next(m["score"] for m in matches if m["provider"]["id"] == loop.x.id)
    assert items[0]["data"]["score"] == pytest.approx(score, abs=1e-6)
    # The other provider, without a subscription, heard nothing.
    assert lclient.get("/v1/inbox", headers=loop.h("y")).json()["total"] == 0


def test_a_need_the_provider_may_not_see_never_alerts_it(
    lclient: TestClient, session: Session, loop_settings: Settings, engine: Engine
) -> None:
    loop = seed_loop(session)
    rec = make_recommendation(session, state_under_review="FRA", text="Prevent torture in prisons.")
    lclient.post("/v1/subscriptions", headers=loop.h("x"), json={"min_score": 0.0})
    _file_need(lclient, loop, rec=rec, visibility="state_only")
    with worker(loop_settings, engine) as runner:
        drain(runner)
    assert lclient.get("/v1/inbox", headers=loop.h("x")).json()["total"] == 0


def test_subscriptions_belong_to_their_provider(client: TestClient, session: Session) -> None:
    loop = seed_loop(session)
    created = client.post("/v1/subscriptions", headers=loop.h("x"), json={"themes": [TORTURE]}).json()
    assert created["provider_id"] == loop.x.id and created["min_score"] == 0.25
    assert client.get(f"/v1/subscriptions/{created['id']}", headers=loop.h("y")).status_code == 404
    assert client.get("/v1/subscriptions", headers=loop.h("y")).json()["total"] == 0
    assert client.post("/v1/subscriptions", headers=loop.h("fra"), json={}).status_code == 403
    bad = client.post("/v1/subscriptions", headers=loop.h("x"), json={"min_score": 2, "regions": ["mars"]})
    assert bad.status_code == 422 and {e["pointer"] for e in bad.json()["errors"]} == {
        "/body/min_score",
        "/body/regions/0",
    }
    changed = client.patch(
        f"/v1/subscriptions/{created['id']}", headers=loop.h("x", **{"If-Match": '"1"'}), json={"min_score": 0.4}
    )
    assert changed.status_code == 200 and changed.json()["min_score"] == 0.4
    gone = client.delete(f"/v1/subscriptions/{created['id']}", headers=loop.h("x", **{"If-Match": '"2"'}))
    assert gone.status_code == 204


def test_the_inbox_shows_what_waits_newest_first_and_marks_read(
    lclient: TestClient, session: Session, loop_settings: Settings, engine: Engine
) -> None:
    loop = seed_loop(session)
    asked = lclient.post(
        f"/v1/needs/{loop.need.id}/engagements", headers=loop.h("fra"), json={"provider_id": loop.x.id, "message": "Hi"}
    ).json()["id"]
    recorded = lclient.post(
        "/v1/activities",
        headers=loop.h("fra"),
        json={"provider_id": loop.x.id, "title": "Workshop in Lyon", "modality": "training", "status": "completed"},
    ).json()["id"]
    with worker(loop_settings, engine) as runner:
        drain(runner)
    box = lclient.get("/v1/inbox", headers=loop.h("x")).json()
    assert [i["type"] for i in box["items"]] == ["activity.recorded", "engagement.proposed"]
    assert all(i["action_required"] for i in box["items"]) and box["unread"] == 2
    assert box["waiting"] == {"engagements": 1, "activities": 1}
    assert box["unread_by_type"] == {"activity.recorded": 1, "engagement.proposed": 1}
    # The party that acted gets no item about its own action.
    assert lclient.get("/v1/inbox", headers=loop.h("fra")).json()["total"] == 0
    # Paginated.
    page = lclient.get("/v1/inbox?limit=1&offset=1", headers=loop.h("x")).json()
    assert page["total"] == 2 and [i["resource_id"] for i in page["items"]] == [asked]
    # Answering makes the item stop waiting (checked when read, not stored).
    lclient.post(f"/v1/activities/{recorded}/confirm", headers=loop.h("x", **{"If-Match": '"1"'}))
    box = lclient.get("/v1/inbox", headers=loop.h("x")).json()
    assert [i["action_required"] for i in box["items"]] == [False, True] and box["waiting"]["activities"] == 0
    first_id = box["items"][0]["id"]
    other = lclient.post("/v1/inbox/read", headers=loop.h("y"), json={"ids": [first_id]})
    assert other.status_code == 422 and other.json()["errors"][0]["pointer"] == "/body/ids/0"
    read = lclient.post("/v1/inbox/read", headers=loop.h("x"), json={"ids": [first_id]}).json()
    assert read == {"marked": 1, "unread": 1}
    assert lclient.get("/v1/inbox?unread=true", headers=loop.h("x")).json()["total"] == 1
    assert lclient.post("/v1/inbox/read", headers=loop.h("x"), json={"all": True}).json() == {"marked": 1, "unread": 0}
    assert lclient.post("/v1/inbox/read", headers=loop.h("x"), json={}).status_code == 422
    # An id past the stored INTEGER range is the caller's error naming the field, not a 500.
    huge = lclient.post("/v1/inbox/read", headers=loop.h("x"), json={"ids": [5, 2**31]})
    assert huge.status_code == 422 and huge.json()["errors"][0]["pointer"] == "/body/ids/1"
    assert lclient.get("/v1/inbox").status_code == 401


# --- e-mail ---------------------------------------------------------------------------------


def test_notices_are_e_mailed_with_an_unsubscribe_link_that_works(
    lclient: TestClient, session: Session, loop_settings: Settings, engine: Engine, smtp: Any
) -> None:
    handler, url = smtp
    loop = seed_loop(session)
    settings = {"SMTP_URL": url, "PUBLIC_URL": "https://upr.example.org"}
    lclient.post(
        f"/v1/needs/{loop.need.id}/engagements", headers=loop.h("fra"), json={"provider_id": loop.x.id, "message": "Hi"}
    )
    with worker(loop_settings, engine, **settings) as runner:
        drain(runner)
        assert runner.send_mail() == 1
    wait_for(lambda: handler.messages)
    [message] = handler.messages
    assert message["To"] == "desk@x.example" and "asks Prison Reform Helpers for help" in message["Subject"]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = message.get_payload(decode=True).decode("utf-8")
    link = re.search(r"https://upr\.example\.org(/unsubscribe\?\S+)", text).group(1)  # type: ignore[union-attr]
    assert message["List-Unsubscribe"] == f"<https://upr.example.org{link}>"
    page = lclient.get(link)
    assert page.status_code == 200 and "desk@x.example" in page.text and "Stop these e-mails" in page.text
    assert lclient.get(link.replace("token=", "token=0")).status_code == 404  # a forged token
    stopped = lclient.post(link)
    assert stopped.status_code == 200 and "no more e-mail" in stopped.text
    # The next notice to that address is not sent; the State's contact still gets its own.
    eid = lclient.get("/v1/engagements", headers=loop.h("x")).json()["items"][0]["id"]
    lclient.post(
        f"/v1/engagements/{eid}/decline", headers=loop.h("x", **{"If-Match": '"1"'}), json={"reason": "timing"}
    )
    lclient.post(
        f"/v1/needs/{loop.need.id}/engagements",
        headers=loop.h("fra"),
        json={"provider_id": loop.x.id, "message": "Again"},
    )
    with worker(loop_settings, engine, **settings) as runner:
        drain(runner)
        runner.send_mail()
    wait_for(lambda: len(handler.messages) >= 2)
    time.sleep(0.2)
    assert [m["To"] for m in handler.messages] == ["desk@x.example", "mission@fra.example"]


def test_without_smtp_url_nothing_is_queued(
    lclient: TestClient, session: Session, loop_settings: Settings, engine: Engine
) -> None:
    loop = seed_loop(session)
    lclient.post(
        f"/v1/needs/{loop.need.id}/engagements", headers=loop.h("fra"), json={"provider_id": loop.x.id, "message": "Hi"}
    )
    with worker(loop_settings, engine) as runner:
        drain(runner)
        assert runner.send_mail() == 0
    session.rollback()
    assert session.exec(select(func.count()).select_from(EmailMessage)).one() == 0


def test_state_keys_take_a_contact_address_other_keys_do_not(client: TestClient, session: Session) -> None:
    loop = seed_loop(session)
    made = client.post(
        "/v1/keys",
        headers=loop.h("admin"),
        json={"name": "Mission of Kenya", "role": "state", "state": "KEN", "contact_email": "mission@ken.example"},
    )
    assert made.status_code == 201 and made.json()["contact_email"] == "mission@ken.example"
    refused = client.post(
        "/v1/keys",
        headers=loop.h("admin"),
        json={"name": "NGO", "role": "provider", "contact_email": "ngo@ngo.example"},
    )
    assert refused.status_code == 422 and refused.json()["errors"][0]["pointer"] == "/body/contact_email"
    bad = client.post(
        "/v1/keys",
        headers=loop.h("admin"),
        json={"name": "K", "role": "state", "state": "KEN", "contact_email": "nope"},
    )
    assert bad.status_code == 422


def test_a_provider_keeps_at_most_50_alerts_and_a_party_20_webhooks(client: TestClient, session: Session) -> None:
    from app.services.subscriptions import MAX_SUBSCRIPTIONS
    from app.services.webhooks import MAX_WEBHOOKS

    loop = seed_loop(session)
    for _ in range(MAX_SUBSCRIPTIONS):
        assert client.post("/v1/subscriptions", headers=loop.h("x"), json={}).status_code == 201
    assert client.post("/v1/subscriptions", headers=loop.h("x"), json={}).status_code == 409
    hook = {"url": "https://hooks.example.org/x", "events": ["engagement.*"]}
    for _ in range(MAX_WEBHOOKS):
        assert client.post("/v1/webhooks", headers=loop.h("fra"), json=hook).status_code == 201
    refused = client.post("/v1/webhooks", headers=loop.h("fra"), json=hook)
    assert refused.status_code == 409 and "delete one first" in refused.json()["detail"]
    assert client.post("/v1/webhooks", headers=loop.h("y"), json=hook).status_code == 201  # per party


def test_a_confirmed_activity_is_deleted_by_an_admin_only_and_both_parties_hear_of_a_deletion(
    lclient: TestClient, session: Session, loop_settings: Settings, engine: Engine
) -> None:
    from tests.test_errors import assert_problem

    loop = seed_loop(session)
    body = {"provider_id": loop.x.id, "title": "Workshop in Lyon", "modality": "training", "status": "completed"}
    claim = lclient.post("/v1/activities", headers=loop.h("fra"), json=body).json()
    url = f"/v1/activities/{claim['id']}"
    # The other party declines a claim; it may not erase it.
    refused = assert_problem(lclient.delete(url, headers=loop.h("x", **{"If-Match": '"1"'})), 403)
    assert "decline it instead" in refused["detail"] and f"{url}/decline" in refused["detail"]
    # Once confirmed it is the parties' shared record: a party's DELETE only asks the other to agree.
    assert lclient.post(f"{url}/confirm", headers=loop.h("x", **{"If-Match": '"1"'})).status_code == 200
    asked = lclient.delete(url, headers=loop.h("fra", **{"If-Match": '"2"'}))
    assert asked.status_code == 202 and asked.json()["kind"] == "deletion"
    assert_problem(lclient.delete(url, headers=loop.h("x", **{"If-Match": '"2"'})), 409)  # one pending at a time
    assert lclient.get(url, headers=loop.h("fra")).json()["confirmation"] == "confirmed"
    assert lclient.delete(url, headers=loop.h("admin", **{"If-Match": '"2"'})).status_code == 204
    # The recorder withdraws its own unconfirmed claim, and the other party is told.
    second = lclient.post("/v1/activities", headers=loop.h("fra"), json={**body, "title": "Visit to Fresnes"}).json()
    gone = lclient.delete(f"/v1/activities/{second['id']}", headers=loop.h("fra", **{"If-Match": '"1"'}))
    assert gone.status_code == 204
    assert lclient.get(f"/v1/activities/{second['id']}", headers=loop.h("x")).status_code == 404
    with worker(loop_settings, engine) as runner:
        drain(runner)
    told = {
        i["resource_id"]: i for i in lclient.get("/v1/inbox?type=activity.deleted", headers=loop.h("x")).json()["items"]
    }
    assert set(told) == {claim["id"], second["id"]}
    assert told[second["id"]]["title"] == "France deleted the activity “Visit to Fresnes”"
    assert not told[second["id"]]["action_required"]
    # X heard of the request; with the activity gone, nothing waits on it.
    (request,) = lclient.get("/v1/inbox?type=activity.proposed", headers=loop.h("x")).json()["items"]
    assert request["title"] == "France asks to delete the activity “Workshop in Lyon”: please accept or reject"
    assert not request["action_required"]
    # The State hears of the admin's deletion; of its own, nothing.
    by_fra = lclient.get("/v1/inbox?type=activity.deleted", headers=loop.h("fra")).json()["items"]
    assert [i["resource_id"] for i in by_fra] == [claim["id"]]


def test_the_other_party_hears_of_a_proposal_and_the_proposer_of_its_answer(
    lclient: TestClient, session: Session, loop_settings: Settings, engine: Engine
) -> None:
    loop = seed_loop(session)
    body = {"provider_id": loop.x.id, "title": "Workshop in Lyon", "modality": "training", "status": "completed"}
    record = lclient.post("/v1/activities", headers=loop.h("admin"), json={**body, "state": "FRA"}).json()
    url = f"/v1/activities/{record['id']}"
    proposal = lclient.patch(url, headers=loop.h("fra", **{"If-Match": '"1"'}), json={"outcomes": "Forty judges."})
    assert proposal.status_code == 202, proposal.text
    with worker(loop_settings, engine) as runner:
        drain(runner)
    box = lclient.get("/v1/inbox?type=activity.proposed", headers=loop.h("x")).json()
    (item,) = box["items"]
    assert item["title"] == (
        "France proposes a change to the activity “Workshop in Lyon” (outcomes): please accept or reject it"
    )
    assert item["action_required"] and box["waiting"]["activities"] == 1
    assert item["data"]["proposal"]["id"] == proposal.json()["id"] and item["data"]["activity"]["outcomes"] is None
    assert lclient.get("/v1/inbox?type=activity.proposed", headers=loop.h("fra")).json()["total"] == 0
    answer = f"{url}/proposals/{proposal.json()['id']}/accept"
    assert lclient.post(answer, headers=loop.h("x", **{"If-Match": '"1"'})).status_code == 200
    with worker(loop_settings, engine) as runner:
        drain(runner)
    (told,) = lclient.get("/v1/inbox?type=activity.proposal_accepted", headers=loop.h("fra")).json()["items"]
    assert told["title"] == "Prison Reform Helpers accepted the change to the activity “Workshop in Lyon”"
    assert told["data"]["activity"]["outcomes"] == "Forty judges."
    box = lclient.get("/v1/inbox?type=activity.proposed", headers=loop.h("x")).json()
    assert not box["items"][0]["action_required"] and box["waiting"]["activities"] == 0


def test_the_worker_scores_open_needs_again_after_providers_change(
    lclient: TestClient, session: Session, loop_settings: Settings, engine: Engine
) -> None:
    """The unserved-needs measure reads each need's stored best score: a new provider must reach it."""
    from datetime import datetime, timedelta

    from app.models.analytics import NeedBestScore
    from app.models.need import Need
    from app.models.provider import Provider
    from app.services import matching as matching_service
    from app.services.analytics import scores
    from tests.loop.helpers import etag

    loop = seed_loop(session)
    recs = [make_recommendation(session, state_under_review="FRA") for _ in range(2)]
    session.commit()  # the test's session reads nothing across the service's writes below
    need_id = _file_need(lclient, loop, rec=recs[0])
    closed_id = _file_need(lclient, loop, rec=recs[1], title="Closed")

    def best(need: str) -> NeedBestScore:
        with Session(engine) as s:
            row = s.get(NeedBestScore, need)
            assert row is not None
            return row

    with worker(loop_settings, engine) as runner:

        def refresh(now: datetime) -> int:
            with Session(engine) as s:
                return scores.refresh_stale(s, runner.index, now=now)

        drain(runner)  # need.filed: each need scored once
        before = best(need_id)
        assert before.provider_id in {loop.x.id, loop.y.id}
        url = f"/v1/needs/{closed_id}"
        closed = lclient.patch(
            url, headers=loop.h("fra", **{"If-Match": etag(lclient, url, loop.h("fra"))}), json={"status": "closed"}
        )
        assert closed.status_code == 200, closed.text
        body = {  # the need's own words, themes, modality and country: it can only rank first
            "name": "Torture Prevention Desk",
            "kind": "ngo",
            "description": "Independent investigation of torture complaints. Training for prosecutors on the "
            "prevention of torture in prisons and police custody. Ratify the Optional Protocol to the "
            "Convention against Torture.",
            "themes": [TORTURE],
            "modalities": ["legal_review", "training"],
            "countries": ["FRA"],
            "languages": ["en", "fr"],
        }
        created = lclient.post("/v1/providers", headers=loop.h("admin"), json=body)
        assert created.status_code == 201, created.text
        z = created.json()["id"]
        with Session(engine) as s:
            changed = s.get(Provider, z).updated_at  # type: ignore[union-attr]
        # Not before the change has settled (committed everywhere, read by the index) ...
        assert refresh(changed + scores.SETTLE - timedelta(microseconds=1)) == 0
        # ... then the open need is scored again (the closed one is not), and only once.
        assert refresh(changed + scores.SETTLE) == 1
        after = best(need_id)
        with Session(engine) as s:
            fresh = matching_service.scores_for_need(s, runner.index, need=s.get(Need, need_id))  # type: ignore[arg-type]
        assert (after.provider_id, after.score) == max(fresh.items(), key=lambda item: item[1])
        assert after.provider_id == z and after.score > before.score and after.computed_at > before.computed_at
        assert best(closed_id).computed_at < changed
        assert refresh(changed + timedelta(hours=1)) == 0
        # The best provider deleted: the need is scored again without it.
        path = f"/v1/providers/{z}"
        gone = lclient.delete(path, headers=loop.h("admin", **{"If-Match": etag(lclient, path, loop.h("admin"))}))
        assert gone.status_code == 204, gone.text
        assert refresh(changed + timedelta(hours=1)) == 1
        assert best(need_id).provider_id in {loop.x.id, loop.y.id}
        # Nothing is left for the worker's own round.
        assert runner.cycle().scores == 0
