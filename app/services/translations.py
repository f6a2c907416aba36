"""Recommendations in French and Spanish: attach the texts sources publish, read them back.

- `import_translations(session, file=PATH, language="fr")` imports one language's UHRI
  export (`export-full-fr.json`, `export-full-es.json`) onto the recommendations the
  English export brought, all or nothing, and says what it attached, updated, left
  unchanged and could not place (unknown ids). The CLI (`upr-match import-translations`),
  the API (`POST /v1/recommendations/import?language=fr`) and the sync call it.
- `attach_translation(session, recommendation_id, language, text, source)` attaches one
  text (a matrix in French or Spanish), in the caller's transaction.
- `translations_for` and `localise` read them for the API, the pages and the exports.

A text is only ever one a source published: nothing here translates.
"""

from __future__ import annotations

import tempfile
import uuid
from collections import defaultdict
from pathlib import Path
from typing import IO, Any, Literal

from sqlalchemy import ColumnElement, Subquery, func, literal_column, select, union_all
from sqlalchemy.engine import Connection
from sqlmodel import Session

from app.core.config import get_settings
from app.core.errors import NotFound, UnprocessableEntity, field_error
from app.importing.core import ProgressCallback, rejection, validate
from app.importing.files import opener_for
from app.importing.translations import (
    UhriTranslationSource,
    source_label,
    text_digest,
    upsert_statement,
    write_translations,
)
from app.models.common import utcnow
from app.models.recommendation import MAX_TEXT_LENGTH, RecommendationPublic
from app.models.translation import (
    LANGUAGES,
    MAX_SOURCE_LENGTH,
    ORIGINAL_LANGUAGE,
    TRANSLATION_LANGUAGES,
    TranslationImportSummary,
)
from app.services import audit
from app.services.recommendation_filters import (
    FTS,
    TFTS,
    R,
    T,
    fts_match,
    pg_translation_match,
    translation_fts_match,
)

Attached = Literal["attached", "updated", "unchanged"]
LANGUAGE_NAMES = {"en": "English", "fr": "French", "es": "Spanish"}


def check_language(language: str, loc: list[str | int]) -> str:
    """A translation language (fr, es), or a 422 naming `loc` and the languages accepted."""
    value = language.strip().lower() if isinstance(language, str) else language
    if value not in TRANSLATION_LANGUAGES:
        raise UnprocessableEntity(
            f"Unknown translation language {language!r}.",
            errors=[field_error(loc, f"must be one of {', '.join(TRANSLATION_LANGUAGES)}, got {language!r}")],
        )
    return value


def attach_translation(session: Session, recommendation_id: str, language: str, text: str, source: str) -> Attached:
    """Attach a recommendation's text in `language` (fr, es) as `source` published it; the caller commits.

    Returns "attached" (it had none in this language), "updated" (another text was replaced)
    or "unchanged" (the same text is stored already; its source is kept). A 404 when the
    recommendation does not exist; a 422 naming the argument for a language other than fr
    or es, an empty text, a text over the recommendation's maximum length, or no source.
    Nothing is committed, so an importer attaching many texts keeps them all or none.
    """
    language = check_language(language, ["language"])
    cleaned = " ".join(text.split()) if isinstance(text, str) else ""
    if not cleaned or len(cleaned) > MAX_TEXT_LENGTH:
        reason = "must not be empty" if not cleaned else f"is {len(cleaned)} characters; at most {MAX_TEXT_LENGTH}"
        raise UnprocessableEntity(f"The {language} text {reason}.", errors=[field_error(["text"], reason)])
    if not isinstance(source, str) or not source.strip() or len(source) > MAX_SOURCE_LENGTH:
        reason = f"must name the file or export the text came from, in 1 to {MAX_SOURCE_LENGTH} characters"
        raise UnprocessableEntity("The translation's source is missing.", errors=[field_error(["source"], reason)])
    if session.execute(select(R.c.id).where(R.c.id == recommendation_id)).first() is None:
        raise NotFound(f"Recommendation {recommendation_id!r} does not exist.")
    stored = session.execute(
        select(T.c.text).where(T.c.recommendation_id == recommendation_id, T.c.language == language)
    ).scalar_one_or_none()
    if stored == cleaned:
        return "unchanged"
    row = {"recommendation_id": recommendation_id, "language": language, "text": cleaned, "source": source.strip()}
    upsert_statement(session, [row | {"imported_at": utcnow()}])
    return "attached" if stored is None else "updated"


def import_translations(
    session: Session,
    *,
    file: Path | IO[bytes],
    language: str,
    source: str | None = None,
    dry_run: bool = False,
    max_rows: int | None = None,
    progress: ProgressCallback | None = None,
    actor: audit.Actor = audit.COMMAND_LINE,
) -> TranslationImportSummary:
    """Attach one language's UHRI export to the recommendations already imported, all or nothing.

    `file` is the export (`export-full-fr.json` or `-es.json`: a JSON array, streamed); `language`
    is fr or es. Every record is checked first: one bad record (named by its number and field) is a
    422 and nothing is written. `source` is recorded on each row (default `ohchr_uhri:<file name>`).
    """
    language = check_language(language, ["query", "language"])
    if source is None:
        source = source_label(file.name if isinstance(file, Path) else f"export-full-{language}.json")
    limit = max_rows if max_rows is not None else get_settings().MAX_IMPORT_ROWS
    if session.in_transaction():
        session.commit()  # hold no lock while the file is read
    reader = UhriTranslationSource(opener_for(file), language=language, source=source)
    with tempfile.TemporaryFile() as spool:
        state = validate(reader, limit, progress, spool, digest=text_digest)
        if state.total_errors:
            raise rejection(state)
        try:
            summary = write_translations(
                session, state, spool, language=language, source=source, dry_run=dry_run, progress=progress
            )
            if dry_run:
                session.rollback()
                return summary
            detail = {"translations": language, "source": source, "records": summary.records}
            detail |= {"attached": summary.attached, "updated": summary.updated, "unknown": summary.unknown}
            audit.record(
                session,
                actor,
                resource="recommendations",
                resource_id=str(uuid.uuid4()),
                action="import",
                detail=detail,
            )
            session.commit()
        except BaseException:
            session.rollback()
            raise
    return summary


def any_text_matches(session: Session, q: str) -> bool:
    """Whether a French or Spanish text matches the search `q` (one index probe)."""
    if session.get_bind().dialect.name == "postgresql":
        probe = select(T.c.id).where(pg_translation_match(q)).limit(1)
    else:
        probe = select(TFTS.c.rowid).where(translation_fts_match(q)).limit(1)
    return session.execute(probe).first() is not None


def pg_translation_rank(q: str) -> ColumnElement[float]:
    """PostgreSQL: the best `ts_rank` of a recommendation's French or Spanish texts for `q` (0 without one)."""
    simple: ColumnElement[Any] = literal_column("'simple'")
    rank = func.max(func.ts_rank(func.to_tsvector(simple, T.c.text), func.websearch_to_tsquery(simple, q)))
    best = select(rank).where(T.c.recommendation_id == R.c.id, pg_translation_match(q)).scalar_subquery()
    return func.coalesce(best, 0.0)


def sqlite_ranks(q: str) -> Subquery:
    """SQLite: (id, rank) of every recommendation matching `q` in English, French or Spanish, the best bm25 rank."""
    english = select(R.c.id.label("id"), FTS.c.rank.label("rank")).select_from(FTS.join(R, R.c.seq == FTS.c.rowid))
    english = english.where(fts_match(q))
    other = select(T.c.recommendation_id.label("id"), TFTS.c.rank.label("rank"))
    other = other.select_from(TFTS.join(T, T.c.id == TFTS.c.rowid)).where(translation_fts_match(q))
    both = union_all(english, other).subquery()
    return select(both.c.id, func.min(both.c.rank).label("rank")).group_by(both.c.id).subquery()


def translations_for(session: Session | Connection, ids: list[str]) -> dict[str, dict[str, str]]:
    """{recommendation id: {language: text}} of the translations these recommendations have."""
    found: dict[str, dict[str, str]] = defaultdict(dict)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        rows = session.execute(
            select(T.c.recommendation_id, T.c.language, T.c.text).where(T.c.recommendation_id.in_(chunk))
        )
        for rid, language, text in rows:
            found[rid][language] = text
    return dict(found)


def localise(session: Session, items: list[RecommendationPublic], lang: str) -> None:
    """Show each recommendation's text in `lang` where a source gives it, saying which language is shown.

    Sets `language` (of the text shown), `original_text`, `original_language` and `languages`
    (the original's and every translation's); without a text in `lang` the original is shown.
    """
    texts = translations_for(session, [item.id for item in items])
    for item in items:
        own = texts.get(item.id, {})
        item.original_text = item.text
        item.original_language = ORIGINAL_LANGUAGE
        item.languages = [code for code in LANGUAGES if code == ORIGINAL_LANGUAGE or code in own]
        if lang in own:
            item.text = own[lang]
            item.language = lang
        else:
            item.language = ORIGINAL_LANGUAGE


__all__ = [
    "LANGUAGE_NAMES",
    "any_text_matches",
    "attach_translation",
    "check_language",
    "import_translations",
    "localise",
    "pg_translation_rank",
    "sqlite_ranks",
    "translations_for",
]
