"""The UN regional groups: which group each State belongs to, and the groups' names.

One home for them: `un_regional_groups.json` (ISO3 -> group slug) is read here only, and the
names in words (`REGIONAL_GROUPS`, "African States") and as short labels (`REGION_LABELS`,
"Africa", with "global" for providers that work worldwide) are written here only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

from app.core.i18n import N_

REGIONAL_GROUPS_FILE = Path(__file__).resolve().parent / "un_regional_groups.json"

# The five UN regional groups, as the API names them, and their names in words.
REGIONAL_GROUPS: dict[str, str] = {
    "africa": N_("African States"),
    "asia_pacific": N_("Asia-Pacific States"),
    "eastern_europe": N_("Eastern European States"),
    "latin_america_caribbean": N_("Latin American and Caribbean States"),
    "western_europe_others": N_("Western European and other States"),
}

#: Short labels of the groups, and of "global" (a provider working worldwide), for pages and explanations.
REGION_LABELS: dict[str, str] = {
    "global": N_("Worldwide"),
    "africa": N_("Africa"),
    "asia_pacific": N_("Asia-Pacific"),
    "eastern_europe": N_("Eastern Europe"),
    "latin_america_caribbean": N_("Latin America and the Caribbean"),
    "western_europe_others": N_("Western Europe and others"),
}


@lru_cache(maxsize=1)
def regional_groups() -> Mapping[str, str]:
    """ISO3 -> UN regional group slug: the 193 Member States, Palestine and the Holy See."""
    groups: dict[str, str] = json.loads(REGIONAL_GROUPS_FILE.read_text(encoding="utf-8"))
    return MappingProxyType(groups)


def region_of(state: str | None) -> str | None:
    """The regional group of a State's ISO3 code (any case), None when it is in none."""
    return regional_groups().get((state or "").upper())


def region_label(group: str) -> str:
    """The short label of a group ("africa" -> "Africa"); the slug itself when unknown."""
    return REGION_LABELS.get(group, group)


def un_states() -> frozenset[str]:
    """The ISO3 codes of the States in the UN regional groups: the 193 Member States, Palestine and the Holy See."""
    return frozenset(regional_groups())


def regional_group_members(group: str) -> frozenset[str]:
    """The ISO3 codes of the UN Member States of one regional group (e.g. "africa")."""
    return frozenset(code for code, name in regional_groups().items() if name == group)


__all__ = [
    "REGIONAL_GROUPS",
    "REGIONAL_GROUPS_FILE",
    "REGION_LABELS",
    "region_label",
    "region_of",
    "regional_group_members",
    "regional_groups",
    "un_states",
]
