"""Annotated dependency aliases used by the routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from sqlmodel import Session

from app.config import Settings, get_settings
from app.db import get_session
from app.pagination import PageParamsDep

SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]

__all__ = ["PageParamsDep", "SessionDep", "SettingsDep"]
