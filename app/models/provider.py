"""Providers of technical cooperation: the table, its facet index, and the API schemas.

`contact_email` is shown only to authenticated callers: anonymous callers get
`ProviderPublic` (no such member at all), everyone else `ProviderPrivate`.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import Field as PydanticField
from sqlalchemy import Column, Index, Text, text
from sqlmodel import Field, SQLModel

from app.models.common import JsonType, SQLModelConfig, UTCDateTime, utcnow
from app.reference.vocab import (
    MAX_THEMES,
    Email,
    HttpsUrl,
    Iso3,
    LanguageCode,
    Modality,
    ProviderKind,
    Region,
    Theme,
)

Sdg = Annotated[int, PydanticField(ge=1, le=17)]


# The stored provider; list-valued fields are JSON, mirrored into provider_facet for filtering.
class Provider(SQLModel, table=True):
    __tablename__ = "provider"
    __table_args__ = (Index(None, "created_at", "id"),)

    id: str = Field(default_factory=lambda: str(uuid.uuid4()), primary_key=True, max_length=36)
    slug: str | None = Field(default=None, max_length=64, unique=True, index=True)
    name: str = Field(max_length=200)
    acronym: str | None = Field(default=None, max_length=32)
    kind: str = Field(max_length=32, index=True)
    description: str = Field(sa_column=Column(Text, nullable=False))
    themes: list[str] = Field(default_factory=list, sa_column=Column(JsonType, nullable=False))
    # The themes the tagger reads in the profile (best first); server-owned, never sent by a client.
    themes_predicted: list[str] = Field(
        default_factory=list, sa_column=Column(JsonType, nullable=False, server_default=text("'[]'"))
    )
    sdgs: list[int] = Field(default_factory=list, sa_column=Column(JsonType, nullable=False))
    countries: list[str] = Field(default_factory=list, sa_column=Column(JsonType, nullable=False))
    regions: list[str] = Field(default_factory=list, sa_column=Column(JsonType, nullable=False))
    languages: list[str] = Field(default_factory=list, sa_column=Column(JsonType, nullable=False))
    modalities: list[str] = Field(default_factory=list, sa_column=Column(JsonType, nullable=False))
    website: str | None = Field(default=None, max_length=2048)
    contact_email: str | None = Field(default=None, max_length=254)
    is_demo: bool = Field(default=False)
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))


# One (facet, value) of a provider, e.g. ("theme", "torture"), so list filters are an indexed
# join on SQLite and PostgreSQL alike instead of dialect-specific JSON functions.
class ProviderFacet(SQLModel, table=True):
    __tablename__ = "provider_facet"
    __table_args__ = (Index(None, "facet", "value"),)

    provider_id: str = Field(foreign_key="provider.id", ondelete="CASCADE", primary_key=True, max_length=36)
    facet: str = Field(primary_key=True, max_length=16)
    value: str = Field(primary_key=True, max_length=120)


# Body of POST /v1/providers. Server-owned fields (id, is_demo, version, timestamps) are refused.
class ProviderCreate(SQLModel):
    model_config = SQLModelConfig(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    acronym: str | None = Field(default=None, min_length=1, max_length=32)
    kind: ProviderKind
    description: str = Field(
        min_length=20, max_length=10_000, description="The expertise the matching engine reads (20-10,000 characters)."
    )
    themes: list[Theme] = Field(default_factory=list, max_length=MAX_THEMES)
    sdgs: list[Sdg] = Field(default_factory=list, max_length=17)
    countries: list[Iso3] = Field(
        default_factory=list, max_length=250, description="ISO3 codes, normalised upper case."
    )
    regions: list[Region] = Field(default_factory=list, max_length=6)
    languages: list[LanguageCode] = Field(default_factory=list, max_length=50, description="ISO 639-1 codes.")
    modalities: list[Modality] = Field(default_factory=list, max_length=8)
    website: HttpsUrl | None = Field(default=None, description="https:// only; stored, never fetched.")
    contact_email: Email | None = Field(default=None, description="Shown to authenticated callers only.")
    slug: str | None = Field(
        default=None, min_length=1, max_length=64, regex=r"^[a-z0-9][a-z0-9-]*$", description="Optional unique handle."
    )


# Body of PATCH /v1/providers/{id}: every field optional; only those sent change.
class ProviderUpdate(SQLModel):
    model_config = SQLModelConfig(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    acronym: str | None = Field(default=None, min_length=1, max_length=32)
    kind: ProviderKind | None = None
    description: str | None = Field(default=None, min_length=20, max_length=10_000)
    themes: list[Theme] | None = Field(default=None, max_length=MAX_THEMES)
    sdgs: list[Sdg] | None = Field(default=None, max_length=17)
    countries: list[Iso3] | None = Field(default=None, max_length=250)
    regions: list[Region] | None = Field(default=None, max_length=6)
    languages: list[LanguageCode] | None = Field(default=None, max_length=50)
    modalities: list[Modality] | None = Field(default=None, max_length=8)
    website: HttpsUrl | None = None
    contact_email: Email | None = None
    slug: str | None = Field(default=None, min_length=1, max_length=64, regex=r"^[a-z0-9][a-z0-9-]*$")


# A provider as anonymous callers see it: no contact e-mail, not even as a key.
class ProviderPublic(SQLModel):
    # forbid, so that a body carrying contact_email can never validate as the public shape.
    model_config = SQLModelConfig(extra="forbid")

    id: str
    slug: str | None
    name: str
    acronym: str | None
    kind: str
    description: str
    themes: list[str] = Field(
        description="The themes the provider declared (or confirmed); they count fully in matching."
    )
    themes_predicted: list[str] = Field(
        default_factory=list,
        description="The themes read in the description by the theme tagger, best first; empty without a tagger. "
        "Show them so the provider can confirm or correct them (PATCH `themes`).",
    )
    sdgs: list[int]
    countries: list[str]
    regions: list[str]
    languages: list[str]
    modalities: list[str]
    website: str | None
    is_demo: bool = Field(description="True for illustrative demo data, not a real provider.")
    version: int = Field(description="Increases on every change; the ETag carries it.")
    created_at: datetime
    updated_at: datetime


# A provider as authenticated callers see it: the public fields plus the contact e-mail.
class ProviderPrivate(ProviderPublic):
    contact_email: str | None = Field(description="Contact address; present for authenticated callers only.")
