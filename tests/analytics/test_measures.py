"""Each measure on the hand-built fixture of `tests/analytics/fixture.py`; the numbers are counted by hand.

Runs on SQLite and, with DATABASE_URL set to PostgreSQL, on PostgreSQL (the `db` marker).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session

from app.core.identity import Principal
from app.models.analytics import NeedBestScore
from app.models.common import utcnow
from app.services.analytics import cache, needs, pipeline, scores
from app.services.analytics.slices import Slice
from tests.analytics.fixture import TORTURE, build
from tests.factories import make_need

ANON = Principal(role="anonymous")
ADMIN = Principal(role="admin")
MEXICO = Principal(role="state", state="MEX", key_id="k-mex")


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    cache.clear()


def _stages(row: object) -> tuple[int, int, int, int, int]:
    return (row.supported, row.not_started, row.requested, row.under_way, row.done)  # type: ignore[attr-defined]


def test_pipeline_world_by_theme_for_an_anonymous_caller(session: Session) -> None:
    build(session)
    page = pipeline.get_pipeline(session, principal=ANON, piece=Slice())
    # Supported and counted: m1 m2 m3 m4 h1 h2 n1 = 7 (m5 is noted, m1copy a copy).
    # m1 requested (NA cites its copy); m2 under way (A1 ongoing beats NB's request); m3 done (A2; NC is
    # closed); m4 not started (ND is state_only: hidden); h1 requested (NE; A3 unconfirmed); h2 not started;
    # n1 requested (NF; A4 is planned, so not public).
    # Totals: supported 7, not started 2 (m4 h2), requested 3 (m1 h1 n1), under way 1 (m2), done 1 (m3).
    assert _stages(page.totals) == (7, 2, 3, 1, 1)
    rows = {r.key: _stages(r) for r in page.items}
    # Torture: m1 requested, m2 under way.   Women's rights: m2 under way, m3 done.
    # Right to education: m4 not started, n1 requested.   Right to health: h1 requested.   No theme: h2.
    # Grouped by controlled theme: Women's rights is F11, F12 and F13 (advancement, discrimination, violence).
    assert rows == {
        "D25": (2, 0, 1, 1, 0),
        "F11": (2, 0, 0, 1, 1),
        "F12": (2, 0, 0, 1, 1),
        "F13": (2, 0, 0, 1, 1),
        "E51": (2, 1, 1, 0, 0),
        "E41": (1, 0, 1, 0, 0),
        "none": (1, 1, 0, 0, 0),
    }
    assert {r.key: r.label for r in page.items}[
        "D25"
    ] == "Prohibition of torture & cruel, inhuman or degrading treatment"
    # Largest first, then by label: the 2s alphabetically (Advancement, Discrimination, Prohibition of torture,
    # Right to education, Violence), then "No theme" before "Right to health".
    assert [r.key for r in page.items] == ["F11", "F12", "D25", "E51", "F13", "none", "E41"]
    assert page.total == 7


def test_pipeline_counts_what_an_admin_or_the_state_may_see(session: Session) -> None:
    build(session)
    # An admin also sees ND (m4 requested) and A4 (n1 under way, beating NF's request):
    # not started 1 (h2), requested 3 (m1 h1 m4), under way 2 (m2 n1), done 1 (m3).
    assert _stages(pipeline.get_pipeline(session, principal=ADMIN, piece=Slice()).totals) == (7, 1, 3, 2, 1)
    # Mexico's key sees its own state_only need ND, not NPL's planned activity A4:
    # not started 1 (h2), requested 4 (m1 h1 m4 n1), under way 1 (m2), done 1 (m3).
    assert _stages(pipeline.get_pipeline(session, principal=MEXICO, piece=Slice()).totals) == (7, 1, 4, 1, 1)


def test_pipeline_slices(session: Session) -> None:
    build(session)

    def totals(**kwargs: object) -> tuple[int, int, int, int, int]:
        return _stages(pipeline.get_pipeline(session, principal=ANON, piece=Slice.of(**kwargs)).totals)

    # LDC = HTI and NPL: h1 requested, h2 not started, n1 requested.
    assert totals(groups=["ldc"]) == (3, 1, 2, 0, 0)
    # SIDS = HTI: h1 requested, h2 not started.
    assert totals(groups=["SIDS"]) == (2, 1, 1, 0, 0)
    # SDG 5 (Women's rights): m2 under way, m3 done.
    assert totals(sdgs=[5]) == (2, 0, 0, 1, 1)
    # SDG 6 only through h1's own SDG label (Right to health links to SDG 3).
    assert totals(sdgs=[6]) == (1, 0, 1, 0, 0)
    # Cycle 4: m3 done, m4 not started, n1 requested.
    assert totals(cycles=[4]) == (3, 1, 1, 0, 1)
    # Theme Torture: m1 requested, m2 under way (m5 noted, m1copy a copy).
    assert totals(themes=[TORTURE]) == (2, 0, 1, 1, 0)
    # Mexico in Asia-Pacific: no State is in both.
    assert totals(states=["MEX"], regions=["asia_pacific"]) == (0, 0, 0, 0, 0)
    # Mexico or Haiti, in Latin America: m1-m4, h1, h2.
    assert totals(states=["MEX", "HTI"], regions=["latin_america_caribbean"]) == (6, 2, 2, 1, 1)


def test_pipeline_by_state_region_and_sdg(session: Session) -> None:
    build(session)
    by_state = pipeline.get_pipeline(session, principal=ANON, piece=Slice(), by="state")
    # MEX: m1 req, m2 under, m3 done, m4 not started.  HTI: h1 req, h2 not.  NPL: n1 req.
    assert {r.key: _stages(r) for r in by_state.items} == {
        "MEX": (4, 1, 1, 1, 1),
        "HTI": (2, 1, 1, 0, 0),
        "NPL": (1, 0, 1, 0, 0),
    }
    by_region = pipeline.get_pipeline(session, principal=ANON, piece=Slice(), by="region")
    assert {r.key: _stages(r) for r in by_region.items} == {
        "latin_america_caribbean": (6, 2, 2, 1, 1),
        "asia_pacific": (1, 0, 1, 0, 0),
    }
    by_sdg = pipeline.get_pipeline(session, principal=ANON, piece=Slice.of(states=["MEX"]), by="sdg")
    # MEX: SDG 16 = m1 (req), m2 (under); SDG 5 = m2 (under), m3 (done); SDG 4 = m4 (not started).
    assert {r.key: _stages(r) for r in by_sdg.items} == {
        "16": (2, 0, 1, 1, 0),
        "5": (2, 0, 0, 1, 1),
        "4": (1, 1, 0, 0, 0),
    }
    # Pagination: 2 of the 3 groups, totals still the whole slice.
    paged = pipeline.get_pipeline(
        session, principal=ANON, piece=Slice(), by="state", page=pipeline.PageParams(limit=2, offset=2)
    )
    assert [r.key for r in paged.items] == ["NPL"] and paged.total == 3 and paged.totals.supported == 7


def test_unserved_needs(session: Session) -> None:
    fixture = build(session)
    page = needs.get_unserved(session, principal=ANON, piece=Slice(), now=fixture.now)
    # Open needs seen anonymously: NA, NE, NF (ND is state_only) = 3; NF has no score yet.
    # NA: 0.20 below strong for 40 days -> weak match.  NE: below for 10 days only, but both its
    # engagements were declined -> all declined.  Unserved: NA, NE = 2.
    assert (page.open_needs, page.unserved_needs, page.not_scored) == (3, 2, 1)
    assert {r.key: (r.needs, r.weak_match, r.all_declined) for r in page.items} == {
        "D25": (1, 1, 0),
        "E41": (1, 0, 1),
    }
    by_region = needs.get_unserved(session, principal=ANON, piece=Slice(), by="region", now=fixture.now)
    assert [(r.key, r.needs, r.weak_match, r.all_declined) for r in by_region.items] == [
        ("latin_america_caribbean", 2, 1, 1)
    ]
    by_language = needs.get_unserved(session, principal=ANON, piece=Slice(), by="language", now=fixture.now)
    # NA asks for es; NE for fr and es.
    assert {r.key: (r.needs, r.weak_match, r.all_declined) for r in by_language.items} == {
        "es": (2, 1, 1),
        "fr": (1, 0, 1),
    }
    # An admin also sees ND, whose best match is strong: 4 open, still 2 unserved.
    admin = needs.get_unserved(session, principal=ADMIN, piece=Slice(), now=fixture.now)
    assert (admin.open_needs, admin.unserved_needs) == (4, 2)
    # 21 days later NE's weak match has lasted 31 days: it is both weak and all declined.
    later = needs.get_unserved(session, principal=ANON, piece=Slice(), now=fixture.now + timedelta(days=21))
    assert {r.key: (r.needs, r.weak_match, r.all_declined) for r in later.items}["E41"] == (1, 1, 1)
    # Haiti only: NE.
    haiti = needs.get_unserved(session, principal=ANON, piece=Slice.of(states=["HTI"]), now=fixture.now)
    assert (haiti.open_needs, haiti.unserved_needs) == (1, 1)


def test_best_score_records_when_a_need_fell_below_strong(session: Session) -> None:
    need = make_need(session, state="FRA")
    t0 = utcnow()
    # First scored below strong: below since its filing.
    row = scores.record(session, need, {"p1": 0.2, "p2": 0.3}, now=t0)
    assert (row.score, row.provider_id, row.below_strong_since) == (0.3, "p2", need.created_at)
    # Strong now: no longer below.
    row = scores.record(session, need, {"p1": 0.4}, now=t0 + timedelta(days=1))
    assert row.below_strong_since is None
    # Below again: since this moment.
    row = scores.record(session, need, {"p1": 0.1}, now=t0 + timedelta(days=2))
    assert row.below_strong_since == t0 + timedelta(days=2)
    # Still below a day later: the moment it fell stays.
    row = scores.record(session, need, {}, now=t0 + timedelta(days=3))
    assert (row.score, row.provider_id, row.below_strong_since) == (0.0, None, t0 + timedelta(days=2))
    session.commit()
    assert session.get(NeedBestScore, need.id) is not None


def test_supply_vs_demand(session: Session) -> None:
    build(session)
    page = needs.get_supply_demand(session, principal=ANON, piece=Slice())
    rows = {r.theme: r for r in page.items}
    # Open needs seen: NA (MEX, Torture, es), NE (HTI, Right to health, fr es), NF (NPL, Indigenous peoples).
    # Indigenous peoples: no provider at all -> listed first; Asia-Pacific has needs and no provider.
    assert page.items[0].theme == "G3"
    assert (rows["G3"].open_needs, rows["G3"].providers) == (1, 0)
    assert rows["G3"].regions_without_provider == ["asia_pacific"]
    # Torture: NA against P1 (Latin America, es/en): nothing missing.
    torture = rows["D25"]
    assert (torture.open_needs, torture.providers) == (1, 1)
    assert torture.need_regions == {"latin_america_caribbean": 1}
    assert torture.provider_languages == {"en": 1, "es": 1}
    assert (torture.regions_without_provider, torture.languages_without_provider) == ([], [])
    # Right to health: NE (Haiti, fr/es) against P2 (Africa, en): region and both languages missing.
    health = rows["E41"]
    assert (health.open_needs, health.providers, health.provider_regions) == (1, 1, {"africa": 1})
    assert health.regions_without_provider == ["latin_america_caribbean"]
    assert health.languages_without_provider == ["es", "fr"]
    # Women's rights has a provider (P3) but no open need: not a row.
    assert "F11" not in rows and page.total == 3
    assert rows["G3"].label == "Indigenous peoples"


def test_funding_context(session: Session) -> None:
    build(session)
    page = pipeline.get_funding(session, principal=ANON, piece=Slice())
    rows = {r.sdg: r for r in page.items}
    # SDG 16: required 100 + 20 = 120, available 40 + 5 = 45, gap 60 + 15 = 75, 2 States;
    #   supported recommendations m1, m2 (Torture -> 16) = 2; open needs: NA (cites m1copy, Torture) = 1.
    assert rows[16].model_dump() == {
        "sdg": 16,
        "required": 120.0,
        "available": 45.0,
        "gap": 75.0,
        "states_with_data": 2,
        "states_counted": 2,
        "supported_recommendations": 2,
        "open_needs": 1,
    }
    # SDG 5: 50 / 50, gap 0; m2, m3; no open need (NB is in progress, NC closed).
    assert (rows[5].gap, rows[5].supported_recommendations, rows[5].open_needs) == (0.0, 2, 0)
    # SDG 3: Haiti states no available amount, so its 30 required is left out of every sum (the columns
    # add up: required - available = gap); it still counts as a State with data; h1; NE.
    assert (rows[3].required, rows[3].available, rows[3].gap, rows[3].open_needs) == (None, None, None, 1)
    assert (rows[3].states_with_data, rows[3].states_counted) == (1, 0)
    # SDG 6: no figure; h1 through its own label; NE cites it.
    assert (rows[6].required, rows[6].supported_recommendations, rows[6].open_needs) == (None, 1, 1)
    # SDG 4: m4, n1; NF (cites n1). SDG 2 and 10: NF through its own theme (Indigenous peoples -> 2, 4, 10).
    assert (rows[4].supported_recommendations, rows[4].open_needs) == (2, 1)
    assert (rows[2].supported_recommendations, rows[2].open_needs) == (0, 1)
    # Largest gap first, then the SDGs without a gap in order.
    assert [r.sdg for r in page.items] == [16, 5, 2, 3, 4, 6, 10]
    assert page.states_with_data == 2
    mexico = pipeline.get_funding(session, principal=ANON, piece=Slice.of(states=["MEX"]))
    # Mexico: SDG 16 100 / 40 (gap 60), m1 m2, NA; SDG 5 50 / 50, m2 m3; SDG 4 m4 (ND hidden).
    assert [(r.sdg, r.gap, r.supported_recommendations, r.open_needs) for r in mexico.items] == [
        (16, 60.0, 2, 1),
        (5, 0.0, 2, 0),
        (4, None, 1, 0),
    ]


def test_an_answer_follows_a_write(session: Session) -> None:
    build(session)
    before = pipeline.get_pipeline(session, principal=ANON, piece=Slice.of(states=["HTI"])).totals
    assert _stages(before) == (2, 1, 1, 0, 0)
    # A new need citing h2 moves it to requested: the kept answer is not served again.
    h2 = session.get(pipeline.Recommendation, "h2")
    make_need(session, [h2], state="HTI", themes=[])
    after = pipeline.get_pipeline(session, principal=ANON, piece=Slice.of(states=["HTI"])).totals
    assert _stages(after) == (2, 0, 2, 0, 0)
