"""Theme vectors of providers and needs: computed once with the tagger, stored, reused by every worker.

The matching index asks `vectors_for` when it loads or applies a change. A vector stored under
the same key (tagger version, text, declared themes) is read back; the others are computed in one
batch and stored in their own short transaction, so a worker that starts later reads them instead
of tagging tens of thousands of texts. Storing is best effort: if it fails (the database is
read-only, or busy past its timeout) the vectors are still used, and computed again next time.

On SQLite a second connection cannot write while the caller's own transaction may hold the
database's one write lock (the worker fans events out in an IMMEDIATE transaction and matches
inside it): it would wait out the busy timeout and give up. There the rows are stored when the
caller's transaction ends instead.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
from sqlalchemy import delete, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import SessionTransaction
from sqlmodel import Session, col, select

from app.core.db import write_intent
from app.models.theme_vector import ThemeVector
from matching.ranking import ThemeSpace, Vector

logger = logging.getLogger("app.matching")

_DTYPE = np.dtype("<f8")
# Rows per statement when storing (SQLite allows 32,766 parameters; 4 per row).
_CHUNK = 2_000

Stored = Mapping[str, tuple[str, bytes]]


def vector_key(
    version: str, text: str, declared: Sequence[str], *, by_sentence: bool, parts: Sequence[str] = ()
) -> str:
    """What a vector was computed from, as a digest: the tagger version and how it is read (the theme
    space's recipe), whole or by sentence, the text, the declared themes and the parts (a need's recommendations)."""
    how = "sentences" if by_sentence else "whole"
    material = "\x1f".join([version, how, "\x1e".join(declared), text, "\x1e".join(parts)])
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def stored_vectors(session: Session, kind: str, ids: Iterable[str] | None = None) -> dict[str, tuple[str, bytes]]:
    """The stored (key, vector) of every object of `kind`, or of these ids."""
    query = select(ThemeVector.object_id, ThemeVector.key, ThemeVector.vector).where(col(ThemeVector.kind) == kind)
    if ids is not None:
        query = query.where(col(ThemeVector.object_id).in_(list(ids)))
    return {object_id: (key, vector) for object_id, key, vector in session.exec(query)}


def vectors_for(
    session: Session,
    space: ThemeSpace,
    version: str,
    kind: str,
    items: Sequence[tuple[str, str, Sequence[str]]],
    *,
    by_sentence: bool = False,
    parts: Mapping[str, Sequence[str]] | None = None,
    stored: Stored | None = None,
) -> dict[str, Vector]:
    """The theme vector of each (id, text, declared themes): stored ones read back, the others computed and stored.

    Empty without a tagger. `parts` gives, by id, the texts a query is made of (a need's cited
    recommendations: `ThemeSpace.vectors`). `stored` is what `stored_vectors` read already (a load
    reads them all at once).
    """
    if space.model is None or not items:
        return {}
    if stored is None:
        stored = stored_vectors(session, kind, [obj_id for obj_id, _, _ in items])
    width = len(space.classes)
    found: dict[str, Vector] = {}
    missing: list[tuple[str, str, Sequence[str], str]] = []
    version = f"{version}\x1d{space.recipe}"
    for obj_id, text, declared in items:
        key = vector_key(version, text, declared, by_sentence=by_sentence, parts=parts.get(obj_id, ()) if parts else ())
        kept = stored.get(obj_id)
        if kept is not None and kept[0] == key and len(kept[1]) == width * _DTYPE.itemsize:
            found[obj_id] = np.frombuffer(kept[1], dtype=_DTYPE).astype(np.float64)
        else:
            missing.append((obj_id, text, declared, key))
    if missing:
        computed = (
            space.vectors(
                [m[1] for m in missing],
                [m[2] for m in missing],
                by_sentence=by_sentence,
                parts=[list(parts.get(m[0], ())) for m in missing] if parts is not None else None,
            )
            or []
        )
        rows: list[dict[str, object]] = []
        for (obj_id, _, _, key), vector in zip(missing, computed, strict=True):
            found[obj_id] = vector
            rows.append({"kind": kind, "object_id": obj_id, "key": key, "vector": vector.astype(_DTYPE).tobytes()})
        _store(session, rows)
    return found


def _waits_for_itself(session: Session, engine: Engine) -> bool:
    """On SQLite a writer's open transaction holds the one write lock: a second connection would wait for it.

    The worker and write requests refresh the index inside such a transaction: their stale vectors are
    left (a stale row is harmless) rather than waiting out the busy timeout; new ones are stored when
    the transaction ends (`_store`).
    """
    return engine.dialect.name == "sqlite" and write_intent.get() and session.in_transaction()


def forget(session: Session, kind: str, ids: Sequence[str]) -> None:
    """Drop the stored vectors of objects that no longer exist (best effort)."""
    engine = session.get_bind()
    if not ids or not isinstance(engine, Engine) or _waits_for_itself(session, engine):
        return
    try:
        with engine.begin() as conn:
            for start in range(0, len(ids), _CHUNK):
                chunk = list(ids[start : start + _CHUNK])
                conn.execute(
                    delete(ThemeVector).where(col(ThemeVector.kind) == kind, col(ThemeVector.object_id).in_(chunk))
                )
    except Exception:  # noqa: BLE001 - a stale row is harmless (its object is gone)
        logger.warning("could not drop %d stored theme vectors", len(ids), exc_info=True)


def _store(session: Session, rows: list[dict[str, object]]) -> None:
    """Upsert the rows in their own transaction (the caller's session may be a read-only request's)."""
    engine = session.get_bind()
    if not isinstance(engine, Engine):
        return
    if engine.dialect.name == "sqlite" and session.in_transaction():
        if not session.info.get(_LISTENING):
            session.info[_LISTENING] = True
            event.listen(session, "after_transaction_end", _store_pending)
        session.info.setdefault(_PENDING, []).extend(rows)
        return
    _upsert(engine, rows)


_PENDING, _LISTENING = "theme_vectors_pending", "theme_vectors_listening"


def _store_pending(session: Session, transaction: SessionTransaction) -> None:
    """After the caller's outermost transaction ends (its write lock released), store what waited."""
    if transaction.parent is not None:
        return
    rows = session.info.pop(_PENDING, None)
    engine = session.get_bind()
    if rows and isinstance(engine, Engine):
        _upsert(engine, rows)


def _upsert(engine: Engine, rows: list[dict[str, object]]) -> None:
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    try:
        with engine.begin() as conn:
            for start in range(0, len(rows), _CHUNK):
                statement = dialect.insert(ThemeVector).values(rows[start : start + _CHUNK])
                conn.execute(
                    statement.on_conflict_do_update(
                        index_elements=["kind", "object_id"],
                        set_={"key": statement.excluded.key, "vector": statement.excluded.vector},
                    )
                )
    except Exception:  # noqa: BLE001 - the vectors are in use all the same; they are computed again next time
        logger.warning("could not store %d theme vectors", len(rows), exc_info=True)
