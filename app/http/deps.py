"""Annotated dependency aliases used by the routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from app.core.config import Settings, get_settings
from app.core.db import get_session
from app.core.pagination import PageParamsDep
from app.match_index.index import MatchIndex
from matching.theme_space import ThemeSpace


async def get_match_index(request: Request) -> MatchIndex:
    """This worker's matching index (built at start-up; the match services bring it up to date)."""
    index: MatchIndex = request.app.state.match_index
    return index


async def get_theme_space(request: Request) -> ThemeSpace:
    """The theme space this worker ranks with (empty without a tagger): it predicts the themes of a profile or need."""
    index: MatchIndex = request.app.state.match_index
    return index.themes


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
MatchIndexDep = Annotated[MatchIndex, Depends(get_match_index)]
ThemeSpaceDep = Annotated[ThemeSpace, Depends(get_theme_space)]

__all__ = ["MatchIndexDep", "PageParamsDep", "SessionDep", "SettingsDep", "ThemeSpaceDep"]
