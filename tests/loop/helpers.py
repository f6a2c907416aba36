"""What the cooperation-loop tests share: a world of a State, its need and providers, and the worker."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.core.config import Settings
from app.models.need import Need
from app.models.provider import Provider
from app.worker.loop import Worker
from tests.factories import auth, make_key, make_need, make_provider, make_recommendation


@dataclass
class Loop:
    """France with a public need, two providers with keys, and keys of France, Kenya and an admin."""

    need: Need
    x: Provider
    y: Provider
    keys: dict[str, str]

    def h(self, role: str, **extra: str) -> dict[str, str]:
        return {**auth(self.keys[role]), **extra}


def seed_loop(session: Session, *, visibility: str = "public") -> Loop:
    rec = make_recommendation(session, state_under_review="FRA")
    x = make_provider(
        session, name="Prison Reform Helpers", contact_email="desk@x.example", modalities=["training", "legal_review"]
    )
    y = make_provider(session, name="Other Helpers", contact_email="desk@y.example")
    need = make_need(session, recommendations=[rec], visibility=visibility, modalities=["legal_review"])
    keys = {
        "admin": make_key(session, "admin")[1],
        "fra": make_key(session, "state", state="FRA", contact_email="mission@fra.example")[1],
        "ken": make_key(session, "state", state="KEN")[1],
        "x": make_key(session, "provider", provider_id=x.id)[1],
        "y": make_key(session, "provider", provider_id=y.id)[1],
        "unbound": make_key(session, "provider")[1],
    }
    return Loop(need, x, y, keys)


@contextmanager
def worker(settings: Settings, engine: Engine, **overrides: Any) -> Iterator[Worker]:
    """A worker on the test database (settings overridden as given)."""
    runner = Worker(settings.model_copy(update=overrides), engine=engine)
    try:
        yield runner
    finally:
        runner.close()


def drain(runner: Worker, rounds: int = 5) -> None:
    """Process every event (a few rounds, as the worker loop would)."""
    for _ in range(rounds):
        if runner.process_events() == 0:
            return


def wait_for(predicate: Callable[[], Any], seconds: float = 5.0) -> None:
    """Poll `predicate` until it holds or `seconds` have passed (the caller asserts what it needs)."""
    deadline = time.monotonic() + seconds
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.05)


def etag(client: TestClient, path: str, headers: dict[str, str]) -> str:
    response = client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    return str(response.headers["etag"])
