"""Reference data of the analytics, as reviewed files in `app/reference/`.

- `ldc_sids.json`: the least developed countries and the UN-member small island developing
  States (UN-OHRLLS lists), with their source and the date they hold for.
- `theme_sdg.json`: the SDGs each UPR Info issue and UHRI theme is linked to (its source, and which
  links are a judgement, are written in the file).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import lru_cache

from app.core.i18n import N_
from app.core.jsontypes import JsonObject
from app.reference.regions import REGIONAL_GROUPS_FILE, region_of

REFERENCE = REGIONAL_GROUPS_FILE.parent
GROUPS_FILE = REFERENCE / "ldc_sids.json"
THEME_SDG_FILE = REFERENCE / "theme_sdg.json"
GROUP_LABELS = {"ldc": N_("Least developed countries"), "sids": N_("Small island developing States")}


@lru_cache(maxsize=1)
def _groups_file() -> JsonObject:
    return dict(json.loads(GROUPS_FILE.read_text(encoding="utf-8")))


def group_members(group: str) -> frozenset[str]:
    """The ISO3 codes of `ldc` or `sids`."""
    return frozenset(_groups_file()[group]["members"])


def group_source(group: str) -> str:
    entry = _groups_file()[group]
    return f"{entry['source']}, as of {entry['as_of']}"


@lru_cache(maxsize=1)
def _theme_sdg_file() -> JsonObject:
    return dict(json.loads(THEME_SDG_FILE.read_text(encoding="utf-8")))


@lru_cache(maxsize=1)
def theme_sdgs() -> Mapping[str, tuple[int, ...]]:
    """{theme label: SDG numbers}, labels as the recommendation data spells them."""
    return {theme: tuple(sdgs) for theme, sdgs in _theme_sdg_file()["themes"].items()}


@lru_cache(maxsize=1)
def folded_theme_sdgs() -> Mapping[str, tuple[int, ...]]:
    """The same, keyed by the case-folded label (needs store their themes case-folded)."""
    return {theme.casefold(): sdgs for theme, sdgs in theme_sdgs().items()}


def theme_sdg_source() -> str:
    entry = _theme_sdg_file()
    return f"{entry['source']} (reviewed {entry['as_of']})"


def sdgs_of(themes: Iterable[str], sdgs: Iterable[int] = ()) -> set[int]:
    """A recommendation's SDGs: its own SDG labels and those its themes are linked to."""
    mapping = theme_sdgs()
    found = {int(s) for s in sdgs}
    for theme in themes:
        found.update(mapping.get(theme, ()))
    return found


def themes_on_sdgs(sdgs: Iterable[int]) -> list[str]:
    """The theme labels linked to any of these SDGs."""
    wanted = set(sdgs)
    return sorted(theme for theme, linked in theme_sdgs().items() if wanted & set(linked))


__all__ = [
    "GROUP_LABELS",
    "folded_theme_sdgs",
    "group_members",
    "group_source",
    "region_of",
    "sdgs_of",
    "theme_sdg_source",
    "theme_sdgs",
    "themes_on_sdgs",
]
