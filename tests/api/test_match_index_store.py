"""The matching index: stored theme vectors reused at start-up, cited texts followed, visibility from the index."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app.core.config import Settings
from app.core.db import intending_to_write
from app.core.identity import ANONYMOUS, Principal
from app.match_index.index import MatchIndex
from app.models.need import Need
from app.models.theme_vector import ThemeVector
from app.services import access
from matching.schemes import MultiSchemeTagger
from tests.factories import make_need, make_provider, make_recommendation
from tests.tagging import TORTURE, write_tiny_tagger

pytestmark = pytest.mark.db


class Counting:
    """Wraps the tagger's scheme to count the texts it reads."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.read = inner, 0
        self.metadata_ = inner.metadata_

    @property
    def classes_(self) -> list[str]:
        return list(self.inner.classes_)

    def proba_matrix(self, texts: Any) -> Any:
        self.read += len(texts)
        return self.inner.proba_matrix(texts)


@pytest.fixture
def tagger(tmp_path: Path) -> MultiSchemeTagger:
    return write_tiny_tagger(tmp_path / "theme-tagger.joblib")


def counting_index(settings: Settings, tagger: MultiSchemeTagger) -> tuple[MatchIndex, Counting]:
    counter = Counting(tagger["upr_info_issues"])
    tagger.taggers_["upr_info_issues"] = counter  # type: ignore[assignment]
    return MatchIndex(settings, tagger), counter


def test_theme_vectors_are_stored_once_and_read_back(
    session: Session, settings: Settings, tagger: MultiSchemeTagger
) -> None:
    rec = make_recommendation(session, state_under_review="KEN", text="Ratify the OPCAT")
    provider = make_provider(
        session, name="Monitors", description="Monitoring of places of deprivation of liberty.", themes=[]
    )
    need = make_need(session, recommendations=[rec], state="KEN", title="A national preventive mechanism")
    first = MatchIndex(settings, tagger)
    first.load(session)
    session.rollback()  # the vectors were stored in their own transaction: see it
    stored = {(row.kind, row.object_id) for row in session.exec(select(ThemeVector))}
    assert stored == {("provider", provider.id), ("need", need.id)}

    second, counter = counting_index(settings, tagger)
    second.load(session)
    assert counter.read == 0, "a worker starting later tags nothing"
    for side in ("providers", "needs"):
        old, new = getattr(first.snapshot, side).vectors, getattr(second.snapshot, side).vectors
        assert old.keys() == new.keys() and all(np.array_equal(old[k], new[k]) for k in old)

    session.exec(
        text("UPDATE provider SET description = 'Shelters for survivors of domestic violence.' WHERE id = :id"),
        params={"id": provider.id},
    )  # type: ignore[call-overload]
    session.commit()
    second.refresh(session)
    session.rollback()
    assert counter.read > 0, "a changed text is tagged again"
    assert (
        second.snapshot.providers.vectors[provider.id].tolist()
        != first.snapshot.providers.vectors[provider.id].tolist()
    )
    reread = {
        row.object_id: row.key for row in session.exec(select(ThemeVector).where(col(ThemeVector.kind) == "provider"))
    }
    third, counter3 = counting_index(settings, tagger)
    third.load(session)
    assert counter3.read == 0 and reread.keys() == {provider.id}

    session.exec(text("DELETE FROM provider WHERE id = :id"), params={"id": provider.id})  # type: ignore[call-overload]
    session.commit()
    MatchIndex(settings, tagger).load(session)
    session.rollback()
    assert {row.object_id for row in session.exec(select(ThemeVector))} == {need.id}


def test_a_cited_recommendation_whose_text_changes_changes_the_need(session: Session, settings: Settings) -> None:
    rec = make_recommendation(session, state_under_review="KEN", text="Ratify the OPCAT")
    need = make_need(session, recommendations=[rec], state="KEN", title="A national preventive mechanism")
    index = MatchIndex(settings)
    index.load(session)
    assert "Ratify the OPCAT" in index.snapshot.need_texts[need.id]
    session.exec(
        text("UPDATE recommendation SET text = 'Abolish the death penalty' WHERE id = :id"), params={"id": rec.id}
    )  # type: ignore[call-overload]
    session.commit()
    assert index.refresh(session) == 1
    assert "Abolish the death penalty" in index.snapshot.need_texts[need.id]


@pytest.mark.parametrize(
    "principal",
    [
        ANONYMOUS,
        Principal(role="admin", name="a"),
        Principal(role="provider", provider_id="p1"),
        Principal(role="state", state="KEN"),
        Principal(role="state", state="MEX"),
    ],
    ids=["anonymous", "admin", "provider", "state KEN", "state MEX"],
)
def test_the_index_sees_exactly_the_needs_the_database_shows(
    session: Session, settings: Settings, principal: Principal
) -> None:
    rec = make_recommendation(session, state_under_review="KEN", text="Ratify the OPCAT", themes=[TORTURE])
    other = make_recommendation(session, state_under_review="MEX", text="Ratify the OPCAT", themes=[TORTURE])
    for visibility in ("public", "providers", "state_only"):
        make_need(session, recommendations=[rec], state="KEN", title=f"KEN {visibility}", visibility=visibility)
        make_need(session, recommendations=[other], state="MEX", title=f"MEX {visibility}", visibility=visibility)
    index = MatchIndex(settings)
    index.load(session)
    audience = access.need_audience(principal)
    shown = set(session.exec(select(Need.id).where(access.need_read_clause(principal))).all())
    assert {n for n, facts in index.snapshot.needs.facts.items() if audience.allows(facts)} == shown
    assert index.snapshot.count_open_needs(audience) == len(shown)


def test_vectors_computed_inside_a_write_transaction_are_stored_when_it_ends(
    engine: Engine, session: Session, settings: Settings, tagger: MultiSchemeTagger, caplog: pytest.LogCaptureFixture
) -> None:
    # The worker matches inside its IMMEDIATE transaction: on SQLite a second connection could not
    # write until it ends (it waited out the busy timeout and gave up, so an alert came 10 s late).
    rec = make_recommendation(session, state_under_review="KEN", text="Ratify the OPCAT")
    make_provider(session, name="Monitors", description="Monitoring of places of deprivation of liberty.", themes=[])
    need = make_need(session, recommendations=[rec], state="KEN", title="A national preventive mechanism")
    with intending_to_write(), Session(engine) as writer:
        writer.exec(text("UPDATE need SET title = 'A preventive mechanism' WHERE id = :id"), params={"id": need.id})  # type: ignore[call-overload]
        MatchIndex(settings, tagger).load(writer)
        writer.commit()
    assert "could not store" not in caplog.text
    assert len(session.exec(select(ThemeVector)).all()) == 2


def test_a_writer_refreshing_the_index_never_waits_for_its_own_transaction(
    engine: Engine, settings: Settings, tagger: MultiSchemeTagger, caplog: pytest.LogCaptureFixture
) -> None:
    """The worker and write requests refresh the index inside their write transaction (SQLite: the one
    write lock); storing a new vector from another connection waited out the busy timeout and failed."""
    with Session(engine) as setup:
        rec = make_recommendation(setup, state_under_review="KEN", text="Ratify the OPCAT")
        make_need(setup, recommendations=[rec], state="KEN", title="A national preventive mechanism")
    index = MatchIndex(settings, tagger)
    with caplog.at_level(logging.WARNING, logger="app"), intending_to_write(), Session(engine) as writer:
        writer.exec(text("UPDATE need SET title = 'A preventive mechanism' WHERE 1 = 1"))  # type: ignore[call-overload]
        index.load(writer)
        writer.commit()
    assert not [r for r in caplog.records if "theme vectors" in r.getMessage()], caplog.text
    assert len(index.snapshot.needs.vectors) == 1
