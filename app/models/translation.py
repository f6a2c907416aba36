"""Recommendation texts in the other UN working languages: the table and the import's summary.

A recommendation's `text` stays what its source published (English for every source
imported today); a French or Spanish text a source publishes for the same
recommendation (UHRI's `export-full-fr.json` / `-es.json`, a matrix in French or
Spanish) is one row of `recommendation_translation`, keyed by (recommendation, language),
with the file it came from and when it was written. Nothing is ever machine-translated:
a language without a row is a language the sources do not give.

The row also has an integer `id`, the stable rowid of the SQLite FTS5 index of the texts
(migration 0020), as `recommendation.seq` is for the English text.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.common import UTCDateTime, utcnow

ORIGINAL_LANGUAGE = "en"
# Languages a translation may be in (the original is English); the order pages and exports list them.
TRANSLATION_LANGUAGES: tuple[str, ...] = ("fr", "es")
LANGUAGES: tuple[str, ...] = (ORIGINAL_LANGUAGE, *TRANSLATION_LANGUAGES)
MAX_SOURCE_LENGTH = 255


# One recommendation's text in one language other than the original, as a source published it.
class RecommendationTranslation(SQLModel, table=True):
    __tablename__ = "recommendation_translation"
    __table_args__ = (UniqueConstraint("recommendation_id", "language"),)

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True, autoincrement=True))
    recommendation_id: str = Field(
        sa_column=Column(String(128), ForeignKey("recommendation.id", ondelete="CASCADE"), nullable=False)
    )
    language: str = Field(sa_column=Column(String(8), nullable=False), description="fr or es.")
    text: str = Field(sa_column=Column(Text, nullable=False))
    source: str = Field(
        sa_column=Column(String(MAX_SOURCE_LENGTH), nullable=False),
        description="Where the text came from, e.g. `ohchr_uhri:export-full-fr.json`.",
    )
    imported_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))


# What an import of translated texts did (the CLI prints it, the API answers it).
class TranslationImportSummary(SQLModel):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "language": "fr",
                    "source": "ohchr_uhri:export-full-fr.json",
                    "dry_run": False,
                    "rows_read": 2292,
                    "records": 2289,
                    "attached": 2280,
                    "updated": 0,
                    "unchanged": 0,
                    "unknown": 9,
                    "unknown_ids": ["uhri-3f6a156e-00a8-5210-b16e-29ca12a053c9"],
                    "skipped": 3,
                    "skipped_reasons": {"not UPR (CAT)": 1, "not UPR (CRC)": 1, "not UPR (Special Procedures)": 1},
                }
            ]
        }
    }

    language: str = Field(description="The language of the texts imported (fr or es).")
    source: str = Field(description="What the rows record as their source.")
    dry_run: bool
    rows_read: int = Field(description="Records read from the file (every body, UPR or not).")
    records: int = Field(description="Distinct UPR recommendations in the file.")
    attached: int = Field(description="Texts attached to a recommendation that had none in this language.")
    updated: int = Field(description="Texts that replaced a different one in this language.")
    unchanged: int = Field(description="Texts already stored as they are.")
    unknown: int = Field(
        description="Records whose recommendation is not in the database (import the English export first); "
        "nothing is stored for them."
    )
    unknown_ids: list[str] = Field(description="The first 20 of those recommendation ids.")
    skipped: int = Field(description="Records that are not UPR recommendations.")
    skipped_reasons: dict[str, int] = Field(default_factory=dict)


__all__ = [
    "LANGUAGES",
    "ORIGINAL_LANGUAGE",
    "TRANSLATION_LANGUAGES",
    "RecommendationTranslation",
    "TranslationImportSummary",
]
