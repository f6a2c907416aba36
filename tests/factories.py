"""Factories: `make_<thing>(session, **overrides)` with sensible defaults."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from sqlmodel import Session

from app.core.identity import generate_key
from app.models.activity import Activity, ActivityRecommendation
from app.models.api_key import ApiKey
from app.models.common import utcnow
from app.models.need import Need, NeedRecommendation, NeedTheme
from app.models.provider import Provider
from app.models.recommendation import Recommendation
from app.services.needs import dedupe_key
from app.services.providers import write_facets


def make_key(session: Session, role: str = "admin", **overrides: Any) -> tuple[ApiKey, str]:
    """Store a key and return (row, secret)."""
    key, prefix, digest = generate_key()
    row = ApiKey(name=overrides.pop("name", f"{role} test key"), role=role, prefix=prefix, key_hash=digest, **overrides)
    session.add(row)
    session.commit()
    session.refresh(row)
    return row, key


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def make_recommendation(session: Session, **overrides: Any) -> Recommendation:
    """Store a recommendation (supported, addressed to France unless told otherwise)."""
    values: dict[str, Any] = {
        "id": f"test-{uuid.uuid4().hex[:12]}",
        "source": "test",
        "cycle": 2,
        "session": 15,
        "state_under_review": "FRA",
        "state_under_review_name": "France",
        "text": "Ratify the Optional Protocol to the Convention against Torture.",
        "response": "supported",
        "response_raw": "accepted",
        "themes": ["Torture and other CID treatment", "International instruments"],
        "theme_scheme": "upr_info_issues",
        "recommending_states": ["DNK"],
        "recommending_state_names": ["Denmark"],
    }
    values.update(overrides)
    values.setdefault("content_hash", hashlib.sha256(repr(sorted(values.items())).encode()).hexdigest())
    row = Recommendation(**values)
    session.add(row)
    session.commit()
    session.refresh(row)
    return row


def _fresh(session: Session) -> None:
    """Drop the session's read snapshot: on SQLite WAL a stale snapshot can't become a writer."""
    session.rollback()


def _settle(session: Session, row: Any) -> None:
    """Load `row`, detach it with its values, and end the transaction, so the API can write freely."""
    session.refresh(row)
    session.expunge(row)
    session.commit()


def make_provider(session: Session, **overrides: Any) -> Provider:
    """Store a provider (an NGO offering training, unless told otherwise)."""
    _fresh(session)
    values: dict[str, Any] = {
        "name": f"Test provider {uuid.uuid4().hex[:6]}",
        "kind": "ngo",
        "description": "Training of police and prison staff on the prevention of torture.",
        "themes": ["Torture and other CID treatment"],
        "languages": ["en", "fr"],
        "modalities": ["training"],
        "regions": ["global"],
        "countries": [],
        "sdgs": [16],
        "website": "https://example.org",
        "contact_email": "contact@example.org",
    }
    values.update(overrides)
    row = Provider(**values)
    session.add(row)
    session.flush()
    write_facets(session, row)
    session.commit()
    _settle(session, row)
    return row


def make_need(session: Session, recommendations: list[Recommendation] | None = None, **overrides: Any) -> Need:
    """Store a need of France citing `recommendations` (a new supported one by default)."""
    _fresh(session)
    state = overrides.get("state", "FRA")
    recs = recommendations if recommendations is not None else [make_recommendation(session, state_under_review=state)]
    values: dict[str, Any] = {
        "state": state,
        "title": f"Train prison staff {uuid.uuid4().hex[:6]}",
        "description": "Help implementing the torture-prevention recommendations.",
        "themes": ["Torture and other CID treatment"],
        "priority": "high",
        "status": "open",
        "visibility": "public",
    }
    values.update(overrides)
    values.setdefault(
        "dedupe_key",
        dedupe_key(
            state=state, recommendation_ids=[r.id for r in recs], title=values["title"], status=values["status"]
        ),
    )
    row = Need(**values)
    session.add(row)
    session.flush()
    for position, rec in enumerate(recs):
        session.add(NeedRecommendation(need_id=row.id, recommendation_id=rec.id, position=position))
    for theme in {t.casefold() for t in row.themes}:
        session.add(NeedTheme(need_id=row.id, theme=theme))
    session.commit()
    _settle(session, row)
    return row


def make_activity(
    session: Session, provider: Provider, recommendations: list[Recommendation] | None = None, **overrides: Any
) -> Activity:
    """Store an ongoing, confirmed activity of `provider` in France (as recorded before confirmations)."""
    _fresh(session)
    values: dict[str, Any] = {
        "provider_id": provider.id,
        "state": "FRA",
        "title": f"Workshop {uuid.uuid4().hex[:6]}",
        "description": "Two-day workshop.",
        "modality": "training",
        "status": "ongoing",
        "confirmation": "confirmed",
    }
    values.update(overrides)
    row = Activity(**values)
    session.add(row)
    session.flush()
    for position, rec in enumerate(recommendations or []):
        session.add(ActivityRecommendation(activity_id=row.id, recommendation_id=rec.id, position=position))
    session.commit()
    _settle(session, row)
    return row


__all__ = ["auth", "make_activity", "make_key", "make_need", "make_provider", "make_recommendation", "utcnow"]
