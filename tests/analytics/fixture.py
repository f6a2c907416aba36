"""The hand-built fixture of the analytics tests; every expected number is counted from it by hand.

States: MEX (Latin America and Caribbean), HTI (same group; LDC and SIDS), NPL (Asia-Pacific; LDC).

Supported recommendations (each counts once):
    m1  MEX  cycle 3  Torture and other CID treatment          -> SDG 16
    m2  MEX  cycle 3  Torture...; Women's rights                -> SDG 16, 5
    m3  MEX  cycle 4  Women's rights                            -> SDG 5
    m4  MEX  cycle 4  Right to education                        -> SDG 4
    h1  HTI  cycle 3  Right to health, SDG label 6              -> SDG 3, 6
    h2  HTI  cycle 3  (no theme)                                -> none
    n1  NPL  cycle 4  Right to education                        -> SDG 4
Not counted: m5 (MEX, noted), m1copy (another source's copy of m1: canonical_id = m1).

Needs:
    NA  MEX  open         public      cites m1copy (counts for m1)  Torture...       languages es
    NB  MEX  in_progress  public      cites m2                      Torture...
    NC  MEX  closed       public      cites m3
    ND  MEX  open         state_only  cites m4                      Right to education
    NE  HTI  open         public      cites h1                      Right to health  languages fr, es
    NF  NPL  open         public      cites n1                      Indigenous peoples
Activities (provider P1):
    A1  MEX  confirmed    ongoing    cites m2
    A2  MEX  confirmed    completed  cites m3
    A3  HTI  unconfirmed  completed  cites h1   (seen by no one but its parties and admins; never counted)
    A4  NPL  confirmed    planned    cites n1   (a planned activity is public only once under way: admins see it)
Best scores (unserved: below 0.35 for 30 days or more):
    NA 0.20 below since 40 days ago (weak);  NE 0.30 below since 10 days ago (not yet);  ND 0.50 (strong);
    NF not scored.
Engagements: NE two, both declined (all declined); NA one declined, one proposed (not all).
Providers: P1 Torture, latin_america_caribbean, es/en; P2 Right to health, africa, en;
    P3 Women's rights, global, fr.
Funding (USD): MEX 16: 100 required / 40 available; MEX 5: 50 / 50; HTI 3: 30 / (none); HTI 16: 20 / 5.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from app.models.analytics import FundingResource, NeedBestScore
from app.models.common import utcnow
from app.models.engagement import Engagement
from app.models.recommendation import Recommendation, RecommendationSdg, RecommendationTheme
from app.reference.themes import theme_index_values
from tests.factories import make_activity, make_need, make_provider

TORTURE = "Torture and other CID treatment"
WOMEN = "Women's rights"
EDUCATION = "Right to education"
HEALTH = "Right to health"
INDIGENOUS = "Indigenous peoples"


@dataclass
class Fixture:
    now: datetime
    ids: dict[str, str]


def _rec(session: Session, rid: str, state: str, cycle: int, themes: list[str], **extra: Any) -> Recommendation:
    values: dict[str, Any] = {
        "id": rid,
        "source": "test",
        "cycle": cycle,
        "session": 20 + cycle,
        "state_under_review": state,
        "text": f"Recommendation {rid}",
        "response": "supported",
        "themes": themes,
        "theme_scheme": "upr_info_issues",
        "content_hash": hashlib.sha256(rid.encode()).hexdigest(),
    }
    values.update(extra)
    row = Recommendation(**values)
    session.add(row)
    session.flush()
    for theme in theme_index_values(themes):  # the index as the importer writes it: controlled codes
        session.add(RecommendationTheme(recommendation_id=rid, theme=theme))
    for sdg in values.get("sdgs", []):
        session.add(RecommendationSdg(recommendation_id=rid, sdg=sdg))
    session.commit()
    session.refresh(row)
    return row


def build(session: Session) -> Fixture:
    now = utcnow()
    r = {
        "m1": _rec(session, "m1", "MEX", 3, [TORTURE]),
        "m2": _rec(session, "m2", "MEX", 3, [TORTURE, WOMEN]),
        "m3": _rec(session, "m3", "MEX", 4, [WOMEN]),
        "m4": _rec(session, "m4", "MEX", 4, [EDUCATION]),
        "m5": _rec(session, "m5", "MEX", 4, [TORTURE], response="noted"),
        "h1": _rec(session, "h1", "HTI", 3, [HEALTH], sdgs=[6]),
        "h2": _rec(session, "h2", "HTI", 3, []),
        "n1": _rec(session, "n1", "NPL", 4, [EDUCATION]),
    }
    r["m1copy"] = _rec(session, "m1copy", "MEX", 3, [TORTURE], source="other", canonical_id="m1")
    p1 = make_provider(
        session, themes=[TORTURE], regions=["latin_america_caribbean"], languages=["es", "en"], countries=[]
    )
    p2 = make_provider(session, themes=[HEALTH], regions=["africa"], languages=["en"], countries=[])
    p3 = make_provider(session, themes=[WOMEN], regions=["global"], languages=["fr"], countries=[])
    na = make_need(session, [r["m1copy"]], state="MEX", themes=[TORTURE], languages=["es"])
    make_need(session, [r["m2"]], state="MEX", status="in_progress", themes=[TORTURE])
    make_need(session, [r["m3"]], state="MEX", status="closed", themes=[WOMEN], dedupe_key=None)
    nd = make_need(session, [r["m4"]], state="MEX", visibility="state_only", themes=[EDUCATION])
    ne = make_need(session, [r["h1"]], state="HTI", themes=[HEALTH], languages=["fr", "es"])
    make_need(session, [r["n1"]], state="NPL", themes=[INDIGENOUS])
    make_activity(session, p1, [r["m2"]], state="MEX", status="ongoing")
    make_activity(session, p1, [r["m3"]], state="MEX", status="completed")
    make_activity(session, p1, [r["h1"]], state="HTI", status="completed", confirmation="unconfirmed")
    make_activity(session, p1, [r["n1"]], state="NPL", status="planned")
    session.add_all(
        [
            NeedBestScore(need_id=na.id, score=0.20, computed_at=now, below_strong_since=now - timedelta(days=40)),
            NeedBestScore(need_id=ne.id, score=0.30, computed_at=now, below_strong_since=now - timedelta(days=10)),
            NeedBestScore(need_id=nd.id, score=0.50, computed_at=now, below_strong_since=None),
        ]
    )
    for need, provider, status in (
        (ne, p1, "declined"),
        (ne, p2, "declined"),
        (na, p2, "declined"),
        (na, p1, "proposed"),
    ):
        session.add(
            Engagement(
                need_id=need.id,
                provider_id=provider.id,
                state=need.state,
                direction="invitation",
                status=status,
                initiated_by_role="state",
            )
        )
    session.add_all(
        [
            FundingResource(state="MEX", sdg=16, required=100, available=40, country_name="Mexico", source="test"),
            FundingResource(state="MEX", sdg=5, required=50, available=50, country_name="Mexico", source="test"),
            FundingResource(state="HTI", sdg=3, required=30, available=None, country_name="Haiti", source="test"),
            FundingResource(state="HTI", sdg=16, required=20, available=5, country_name="Haiti", source="test"),
        ]
    )
    session.commit()
    return Fixture(now=now, ids={"NA": na.id, "ND": nd.id, "NE": ne.id, "P1": p1.id, "P2": p2.id, "P3": p3.id})
