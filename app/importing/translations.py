"""French and Spanish texts of recommendations already imported: UHRI's `-fr` / `-es` exports.

OHCHR publishes the Universal Human Rights Index in each language as its own file
(`export-full-fr.json`, `export-full-es.json`) with the same `AnnotationId`s as the
English one. `UhriTranslationSource` streams such a file with the English reader
(`app.importing.uhri.UhriSource`: same limits, same errors) and yields, for each UPR
recommendation, `{"id": "uhri-<AnnotationId>", "text": ...}`: the id the English
import gave the recommendation and its text without HTML, paragraph number or the
recommending States in parentheses (State names in that language too, through
pycountry's translated names). The export's labels in that language are assumed to be
"EPU" for the body and "Recommandations" / "Recomendaciones" for the kind, besides the
English ones; any other body or kind is counted as skipped, as in the English import.

`write_translations` attaches the validated texts (spooled by `core.validate`) in one
transaction: a text to a recommendation the database does not hold is counted as
unknown and never stored; a text equal to the stored one is left as it is.
"""

from __future__ import annotations

import hashlib
from typing import IO

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from app.importing.core import ProgressCallback, Record, Validation
from app.importing.files import Opener
from app.importing.store import _batches
from app.importing.text_split import split_published
from app.importing.uhri import ID_PREFIX, SOURCE, UhriSource
from app.models.common import table_of, utcnow
from app.models.recommendation import MAX_TEXT_LENGTH, Recommendation
from app.models.translation import RecommendationTranslation, TranslationImportSummary
from app.reference.countries import resolver_for

LISTED_UNKNOWN = 20
IMPORT_STATEMENT_TIMEOUT_MS = 600_000
T = table_of(RecommendationTranslation)
R = table_of(Recommendation)
# The body and kind of a UPR recommendation as the French and Spanish exports label them.
LOCAL_UPR_BODIES = frozenset({"UPR", "EPU"})
LOCAL_RECOMMENDATION_TYPES = frozenset({"Recommendations", "Recommandations", "Recomendaciones"})


class UhriTranslationSource(UhriSource):
    """One language's UHRI export read as `{"id", "text", "source"}` records, one per UPR recommendation."""

    upr_bodies = LOCAL_UPR_BODIES
    recommendation_types = LOCAL_RECOMMENDATION_TYPES

    def __init__(self, opener: Opener, *, language: str, source: str) -> None:
        super().__init__(opener)
        self.language = language
        self.source = source
        self._resolve = resolver_for(language)

    def convert(self, obj: object) -> tuple[Record | None, list[tuple[str, str]]]:
        """The record's id and cleaned text, or the problems of its `AnnotationId` and `Text`."""
        if not isinstance(obj, dict):
            return None, [("row", f"must be a JSON object, got {type(obj).__name__}")]
        problems: list[tuple[str, str]] = []
        annotation = obj.get("AnnotationId")
        if annotation in (None, ""):
            problems.append(("AnnotationId", "is required"))
        elif not isinstance(annotation, str) or len(annotation) > 100:
            problems.append(("AnnotationId", f"must be an identifier string, got {str(annotation)[:60]!r}"))
        raw = obj.get("Text")
        cleaned = ""
        if raw in (None, ""):
            problems.append(("Text", "is required"))
        elif not isinstance(raw, str):
            problems.append(("Text", f"must be a string, got {type(raw).__name__}"))
        elif len(raw) > 4 * MAX_TEXT_LENGTH:  # HTML and attribution included
            problems.append(("Text", f"is {len(raw)} characters long; the maximum is {MAX_TEXT_LENGTH}"))
        else:
            cleaned = split_published(raw, self._resolve)[1]
            if not cleaned:
                problems.append(("Text", "has no text once its HTML, paragraph number and States are removed"))
            elif len(cleaned) > MAX_TEXT_LENGTH:
                problems.append(("Text", f"is {len(cleaned)} characters long; the maximum is {MAX_TEXT_LENGTH}"))
        if problems:
            return None, problems
        return {"id": ID_PREFIX + str(annotation), "text": cleaned, "source": self.source}, []


def text_digest(record: Record) -> str:
    """Two records of one id must carry the same text (`core.validate` compares this)."""
    return hashlib.sha256(str(record["text"]).encode("utf-8")).hexdigest()


def source_label(file_name: str) -> str:
    """What a row records as its source: the UHRI source and the file's name."""
    return f"{SOURCE}:{file_name}"[:255]


def upsert_statement(session: Session, rows: list[dict[str, object]]) -> None:
    """Insert these translation rows, replacing the text and source of a (recommendation, language) already held."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(T)
    stmt = stmt.on_conflict_do_update(
        index_elements=[T.c.recommendation_id, T.c.language],
        set_={"text": stmt.excluded.text, "source": stmt.excluded.source, "imported_at": stmt.excluded.imported_at},
    )
    session.execute(stmt, rows)


def write_translations(
    session: Session,
    state: Validation,
    spool: IO[bytes],
    *,
    language: str,
    source: str,
    dry_run: bool,
    progress: ProgressCallback | None,
) -> TranslationImportSummary:
    """Attach the spooled texts in the session's transaction (the caller commits or rolls back)."""
    attached = updated = unchanged = unknown = done = 0
    unknown_ids: list[str] = []
    total = len(state.hashes)
    if session.get_bind().dialect.name == "postgresql":
        # A large file's batches may outlast the API's per-statement timeout on a busy server.
        session.execute(text(f"SET LOCAL statement_timeout = {IMPORT_STATEMENT_TIMEOUT_MS}"))
    now = utcnow()
    for batch in _batches(spool):
        ids = [str(r["id"]) for r in batch]
        known = set(session.execute(select(R.c.id).where(R.c.id.in_(ids))).scalars())
        stored = dict(
            session.execute(
                select(T.c.recommendation_id, T.c.text).where(T.c.language == language, T.c.recommendation_id.in_(ids))
            ).all()
        )
        rows: list[dict[str, object]] = []
        for record in batch:
            rid = str(record["id"])
            if rid not in known:
                unknown += 1
                if len(unknown_ids) < LISTED_UNKNOWN:
                    unknown_ids.append(rid)
                continue
            old = stored.get(rid)
            if old == record["text"]:
                unchanged += 1
                continue
            if old is None:
                attached += 1
            else:
                updated += 1
            row = {"recommendation_id": rid, "language": language, "text": record["text"], "source": source}
            rows.append(row | {"imported_at": now})
        if rows and not dry_run:
            upsert_statement(session, rows)
        done += len(batch)
        if progress is not None:
            progress("write", done, total)
    return TranslationImportSummary(
        language=language,
        source=source,
        dry_run=dry_run,
        rows_read=state.rows_read,
        records=total,
        attached=attached,
        updated=updated,
        unchanged=unchanged,
        unknown=unknown,
        unknown_ids=unknown_ids,
        skipped=sum(state.skipped.values()),
        skipped_reasons=dict(state.skipped),
    )


__all__ = [
    "LOCAL_RECOMMENDATION_TYPES",
    "LOCAL_UPR_BODIES",
    "UhriTranslationSource",
    "source_label",
    "text_digest",
    "upsert_statement",
    "write_translations",
]
