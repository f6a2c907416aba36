"""Theme vectors of providers and needs, stored when first computed so a starting worker reads them.

The matching index computes an object's theme vector with the tagger when it applies the
object's change (the write), and stores it here; a worker that starts later reuses it instead of
tagging every provider and need again. `key` is a digest of what the vector was computed from
(tagger version, text, declared themes): a vector whose key differs is computed anew.
"""

from __future__ import annotations

from sqlalchemy import Column, LargeBinary
from sqlmodel import Field, SQLModel


# The theme vector of one provider or need (float64, little-endian).
class ThemeVector(SQLModel, table=True):
    __tablename__ = "theme_vector"

    kind: str = Field(primary_key=True, max_length=16, description="provider or need")
    object_id: str = Field(primary_key=True, max_length=36)
    key: str = Field(max_length=64, description="SHA-256 of the tagger version, the text and the declared themes")
    vector: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
