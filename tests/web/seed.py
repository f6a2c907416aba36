"""Seed data shared by the page tests and the browser tests: two States, providers, needs, activities."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, select

from app.models.activity import Activity
from app.models.api_key import ApiKey
from app.models.need import Need
from app.models.provider import Provider
from app.models.recommendation import Recommendation, RecommendationTheme
from app.reference.themes import theme_index_values
from app.services import translations as translation_service
from tests.factories import make_activity, make_key, make_need, make_provider, make_recommendation

CONTACT_EMAIL = "secret-contact@ngo.example"


def index_themes(session: Session, rec: Recommendation) -> Recommendation:
    """Write the theme index rows the importer writes (the factory stores only the JSON column)."""
    have = set(session.exec(select(RecommendationTheme.theme).where(RecommendationTheme.recommendation_id == rec.id)))
    for theme in theme_index_values(rec.themes):  # controlled codes, as the importer writes them
        if theme not in have:
            session.add(RecommendationTheme(recommendation_id=rec.id, theme=theme))
    session.commit()
    return rec


def rec(db: Session, /, **overrides: Any) -> Recommendation:
    row = make_recommendation(db, **overrides)
    index_themes(db, row)
    return row


@dataclass
class Seed:
    recs: dict[str, Recommendation] = field(default_factory=dict)
    providers: dict[str, Provider] = field(default_factory=dict)
    needs: dict[str, Need] = field(default_factory=dict)
    keys: dict[str, tuple[ApiKey, str]] = field(default_factory=dict)
    activities: dict[str, Activity] = field(default_factory=dict)


def seed(session: Session) -> Seed:
    """France with three supported recommendations (one covered by a need), one noted; Germany with one."""
    s = Seed()
    s.recs["opcat"] = rec(
        session,
        text="Ratify the Optional Protocol to the Convention against Torture and set up a preventive mechanism.",
        themes=["Torture and other CID treatment", "International instruments"],
    )
    # Its French text, as a matrix in French would give it (test data written for the pages' tests).
    translation_service.attach_translation(
        session,
        s.recs["opcat"].id,
        "fr",
        "Ratifier le Protocole facultatif se rapportant à la Convention contre la torture et mettre en place un "
        "mécanisme de prévention.",
        "test:seed",
    )
    session.commit()
    s.recs["prisons"] = rec(
        session,
        text="Improve detention conditions and reduce prison overcrowding.",
        themes=["Detention conditions", "Torture and other CID treatment"],
        cycle=3,
    )
    s.recs["women"] = rec(
        session,
        text="Adopt a comprehensive law on violence against women.",
        themes=["Women's rights"],
        recommending_states=["SWE"],
        recommending_state_names=["Sweden"],
    )
    s.recs["noted"] = rec(
        session, text="Abolish the death penalty in all circumstances.", response="noted", themes=["Death penalty"]
    )
    s.recs["germany"] = rec(
        session,
        state_under_review="DEU",
        state_under_review_name="Germany",
        text="Strengthen the independence of the national human rights institution.",
        themes=["National Human Rights Institution"],
    )
    s.providers["ngo"] = make_provider(
        session,
        name="Prison Reform Helpers",
        kind="ngo",
        themes=["Torture and other CID treatment", "Detention conditions"],
        regions=["western_europe_others"],
        languages=["en", "fr"],
        modalities=["training"],
        contact_email=CONTACT_EMAIL,
    )
    s.providers["un"] = make_provider(
        session,
        name="UN Women Liaison",
        kind="un_entity",
        description="Expert advice to governments on laws against violence against women and on gender equality.",
        themes=["Women's rights"],
        regions=["global"],
        languages=["en"],
        modalities=["expert_deployment"],
        contact_email="un-women@un.example",
    )
    s.needs["fra"] = make_need(
        session,
        recommendations=[s.recs["opcat"]],
        title="Train prison staff on torture prevention",
        themes=["Torture and other CID treatment"],
    )
    s.activities["workshop"] = make_activity(
        session,
        s.providers["ngo"],
        recommendations=[s.recs["prisons"]],
        title="Workshop for prison directors",
        outcomes="40 prison directors trained; inspection checklist adopted.",
        status="completed",
    )
    s.keys["fra"] = make_key(session, role="state", state="FRA", name="France mission")
    s.keys["deu"] = make_key(session, role="state", state="DEU", name="Germany mission")
    s.keys["ngo"] = make_key(
        session, role="provider", provider_id=s.providers["ngo"].id, name="Prison Reform Helpers key"
    )
    return s
