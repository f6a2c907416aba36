"""Limit/offset pagination: the validated `PageParams` services read and the generic `Page[T]` body.

The request dependency that reads them from the query string is `app.http.deps.PageParamsDep`.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, Field

DEFAULT_LIMIT = 20
# Part of the API contract (documented in OpenAPI), so a constant rather than a setting.
MAX_LIMIT = 100

T = TypeVar("T")


class PageParams(BaseModel):
    """Validated `limit` and `offset` of a list request."""

    limit: int = DEFAULT_LIMIT
    offset: int = 0


class Page(BaseModel, Generic[T]):
    """One page of a list: the items, the total matching the filters, and the window used."""

    items: list[T]
    total: int = Field(ge=0)
    limit: int = Field(ge=1)
    offset: int = Field(ge=0)

    @classmethod
    def build(cls, items: list[T], total: int, params: PageParams) -> Page[T]:
        return cls(items=items, total=total, limit=params.limit, offset=params.offset)
