"""Controlled vocabularies of providers, needs and activities, as `Literal` types.

The API validates against these (a value outside a list is a 422 naming the field);
the database stores them as short strings, so adding a value needs no migration.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Literal, get_args
from urllib.parse import urlsplit

from pydantic import AfterValidator, StringConstraints

from app.reference.validation import is_iso3, is_language, unknown_country

# The 17 Sustainable Development Goals, for people who do not know them by number: the UN's official
# short titles in English, French and Spanish (sdg_names.json says where they come from).
_SDG_TITLES: dict[str, dict[int, str]] = {
    language: {int(n): title for n, title in titles.items()}
    for language, titles in json.loads((Path(__file__).with_name("sdg_names.json")).read_text("utf-8"))["names"].items()
}
SDG_NAMES = _SDG_TITLES["en"]


def sdg_names(language: str) -> dict[int, str]:
    """The SDGs' titles in a page language (the UN's own French and Spanish titles); English otherwise."""
    return _SDG_TITLES.get(language, SDG_NAMES)


# Score bands of a match, shared by the pages (strong, good, possible) and the analytics ("unserved":
# best match below strong). Chosen from the scores the pages show on the demo data
# (benchmarks/score_bands.py: the top 10 partners of each demo need, and the top 10 needs of each
# provider). Of the partners suggested for a need, 16% score 0.35 or more (p85 = 0.353) and 52%
# between 0.25 and 0.35 (p25 = 0.240, median 0.278); a provider's weaker ranked needs mostly fall below 0.25.
SCORE_STRONG = 0.35
SCORE_GOOD = 0.25

# international_organization: intergovernmental and international bodies outside the UN system
# (ICRC, DCAF, IPU, IDLO, the Commonwealth Secretariat, OIF...); regional_organization: regional ones.
ProviderKind = Literal[
    "un_entity",
    "state",
    "regional_organization",
    "international_organization",
    "nhri",
    "ngo",
    "academic",
    "private",
    "other",
]
Region = Literal[
    "global", "africa", "asia_pacific", "eastern_europe", "latin_america_caribbean", "western_europe_others"
]
Modality = Literal[
    "training", "legal_review", "expert_deployment", "funding", "data_systems", "peer_exchange", "equipment", "other"
]
Priority = Literal["low", "medium", "high"]
NeedStatus = Literal["open", "matched", "in_progress", "closed"]
# public: everyone; providers: provider keys, admins and the need's own State; state_only: its State and admins.
Visibility = Literal["public", "providers", "state_only"]
ActivityStatus = Literal["planned", "ongoing", "completed"]
# Whether the other party agrees an activity took place as recorded (see app/services/activities.py).
Confirmation = Literal["unconfirmed", "confirmed", "declined"]

PROVIDER_KINDS: tuple[str, ...] = get_args(ProviderKind)
REGIONS: tuple[str, ...] = get_args(Region)
MODALITIES: tuple[str, ...] = get_args(Modality)
PRIORITIES: tuple[str, ...] = get_args(Priority)
NEED_STATUSES: tuple[str, ...] = get_args(NeedStatus)
VISIBILITIES: tuple[str, ...] = get_args(Visibility)
ACTIVITY_STATUSES: tuple[str, ...] = get_args(ActivityStatus)

# Languages the forms offer as boxes (the six UN languages and the others providers use most);
# any other is typed by name.
FORM_LANGUAGES: tuple[str, ...] = ("ar", "zh", "en", "fr", "ru", "es", "pt", "de")

# Limits shared by the input schemas.
MAX_THEMES = 30
MAX_NEED_THEMES = 50
THEME_MAX_CHARS = 120
MAX_RECOMMENDATIONS = 200


# ---------------------------------------------------------------------------
# Field types: constrained strings the input schemas share. Each raises a
# ValueError naming the bad value, which the API renders as a 422 on that field.
# ---------------------------------------------------------------------------

_EMAIL = re.compile(
    r"^[^@\s<>\"'(),;:]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)


def _iso3(value: str) -> str:
    code = value.strip().upper()
    if not is_iso3(code):
        raise ValueError(unknown_country(value) + " (an ISO 3166-1 alpha-3 code)")
    return code


def _language(value: str) -> str:
    code = value.strip().lower()
    if not is_language(code):
        raise ValueError(f"{value!r} is not an ISO 639-1 two-letter language code")
    return code


def _https_url(value: str) -> str:
    url = value.strip()
    parts = urlsplit(url)
    # Only https: the service stores the address and never fetches it (no SSRF surface),
    # and a link shown to users must not be javascript:, file: or plain http.
    if parts.scheme.lower() != "https" or not parts.hostname:
        raise ValueError(f"{value!r} is not an https:// URL; only https addresses are accepted")
    if parts.username or parts.password or any(c.isspace() for c in url):
        raise ValueError(f"{value!r} must not contain credentials or whitespace")
    return url


def _email(value: str) -> str:
    address = value.strip()
    if not _EMAIL.match(address):
        raise ValueError(f"{value!r} is not an e-mail address")
    return address


def _theme(value: str) -> str:
    return " ".join(value.split())


Iso3 = Annotated[str, StringConstraints(min_length=3, max_length=3), AfterValidator(_iso3)]
LanguageCode = Annotated[str, StringConstraints(min_length=2, max_length=2), AfterValidator(_language)]
Theme = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=THEME_MAX_CHARS), AfterValidator(_theme)
]
HttpsUrl = Annotated[str, StringConstraints(max_length=2048), AfterValidator(_https_url)]
Email = Annotated[str, StringConstraints(max_length=254), AfterValidator(_email)]
RecommendationId = Annotated[str, StringConstraints(min_length=1, max_length=128)]
