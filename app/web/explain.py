"""Ranked partners and drafted needs for the pages, with the engine's reasons put into words.

The ranking and the drafting are the match service's (`app.services.matching`);
this module only turns its answers into what a page shows: one sentence per
partner, e.g. "shares: detention, torture prevention; works in the region;
offers training".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session

from app.auth import Principal
from app.models.need import Need

TOP_PARTNERS = 10
MAX_SHARED_TERMS = 6


@dataclass(frozen=True, slots=True)
class PartnerView:
    """One ranked partner as the need page shows it."""

    provider_id: str
    name: str
    kind: str
    score: float
    because: str


@dataclass(frozen=True, slots=True)
class DraftView:
    """A drafted need for one theme: a title and the recommendations it would cite."""

    theme: str
    title: str
    recommendation_ids: tuple[str, ...]


def reasons_in_words(
    *,
    shared: Sequence[str] = (),
    same_country: bool = False,
    same_region: bool = False,
    modalities: Sequence[str] = (),
    languages: Sequence[str] = (),
) -> str:
    """Say why a partner fits, in words.

    >>> reasons_in_words(shared=["detention", "torture prevention"], same_region=True, modalities=["training"])
    'shares: detention, torture prevention; works in the region; offers training'
    >>> reasons_in_words()
    'similar description'
    """
    parts = []
    if shared:
        parts.append("shares: " + ", ".join(list(dict.fromkeys(shared))[:MAX_SHARED_TERMS]))
    if same_country:
        parts.append("works in the country")
    elif same_region:
        parts.append("works in the region")
    if modalities:
        parts.append("offers " + ", ".join(m.replace("_", " ") for m in modalities))
    if languages:
        parts.append("speaks " + ", ".join(languages))
    return "; ".join(parts) or "similar description"


def partners_for(session: Session, *, principal: Principal, need: Need) -> list[PartnerView] | None:
    """The ranked partners of a need, or None while no match service is installed."""
    return None


def draft_for(session: Session, *, principal: Principal, state: str, theme: str | None) -> DraftView | None:
    """The drafted need of `state` for `theme` (or its first draft), or None while no draft service exists."""
    return None
