"""Factories: `make_<thing>(session, **overrides)` with sensible defaults."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from sqlmodel import Session

from app.auth import generate_key
from app.models.api_key import ApiKey
from app.models.common import utcnow
from app.models.recommendation import Recommendation


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


__all__ = ["auth", "make_key", "make_recommendation", "utcnow"]
