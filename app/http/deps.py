"""Annotated dependency aliases used by the routes and pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request
from sqlmodel import Session

from app.core.config import Settings, get_settings
from app.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, PageParams
from app.http.sessions import get_session
from app.match_index.index import MatchIndex
from app.match_index.ranker import ThemeSpace


async def page_params(
    limit: Annotated[
        int, Query(ge=1, le=MAX_LIMIT, description=f"Items per page (1-{MAX_LIMIT}, default {DEFAULT_LIMIT}).")
    ] = DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0, le=10_000_000, description="Items to skip.")] = 0,
) -> PageParams:
    return PageParams(limit=limit, offset=offset)


async def get_match_index(request: Request) -> MatchIndex:
    """This worker's matching index (built at start-up; the match services bring it up to date)."""
    index: MatchIndex = request.app.state.match_index
    return index


async def get_theme_space(request: Request) -> ThemeSpace:
    """The theme space this worker ranks with (empty without a tagger): it predicts the themes of a profile or need."""
    index: MatchIndex = request.app.state.match_index
    return index.themes


PageParamsDep = Annotated[PageParams, Depends(page_params)]
SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
MatchIndexDep = Annotated[MatchIndex, Depends(get_match_index)]
ThemeSpaceDep = Annotated[ThemeSpace, Depends(get_theme_space)]

__all__ = ["MatchIndexDep", "PageParamsDep", "SessionDep", "SettingsDep", "ThemeSpaceDep"]
