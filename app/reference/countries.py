"""Country names and codes -> ISO 3166-1 alpha-3, for UN and UPR Info spellings.

`resolve_iso3` accepts an alpha-3 or alpha-2 code, an English short, official or
common name as pycountry knows it, or one of the UN / UPR Info spellings in
`ALIASES`. Names are compared after `normalise_name` (HTML entities unescaped,
curly apostrophes straightened, accents stripped, "&" read as "and", "St" read
as "Saint", punctuation and case ignored). There is no fuzzy matching on
purpose: a name that is not known is an error the importer reports, never a
guess that silently files a recommendation under the wrong State.
"""

from __future__ import annotations

import gettext
import html
import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache

import pycountry

# UN / UPR Info / OHCHR spellings that pycountry does not know, keyed by their
# normalised form (see `normalise_name`), so variants of spacing, case and
# accents resolve too.
_ALIAS_NAMES: dict[str, str] = {
    "DPR Korea": "PRK",
    "Democratic People's Republic of Korea": "PRK",
    "North Korea": "PRK",
    "Republic of Korea": "KOR",
    "South Korea": "KOR",
    "Korea": "KOR",
    "Macedonia FYR": "MKD",
    "Macedonia": "MKD",
    "The former Yugoslav Republic of Macedonia": "MKD",
    "North Macedonia": "MKD",
    "North Macedonia, Republic of": "MKD",
    "Bosnia & Herzegovina": "BIH",
    "St Kitts & Nevis": "KNA",
    "Saint Kitts and Nevis": "KNA",
    "St Lucia": "LCA",
    "St Vincent & the Grenadines": "VCT",
    "St Vincent and the Grenadines": "VCT",
    "Holy See": "VAT",
    "Vatican": "VAT",
    "State of Palestine": "PSE",
    "Palestine": "PSE",
    "Occupied Palestinian Territory": "PSE",
    "Micronesia": "FSM",
    "Micronesia (Federated States of)": "FSM",
    "Federated States of Micronesia": "FSM",
    "Türkiye": "TUR",
    "Turkey": "TUR",
    "Netherlands (Kingdom of the)": "NLD",
    "Kingdom of the Netherlands": "NLD",
    "Iran (Islamic Republic of)": "IRN",
    "Iran": "IRN",
    "Syria": "SYR",
    "Syrian Arab Republic": "SYR",
    "Venezuela (Bolivarian Republic of)": "VEN",
    "Venezuela": "VEN",
    "Bolivia (Plurinational State of)": "BOL",
    "Bolivia": "BOL",
    "Côte d'Ivoire": "CIV",
    "Cote d'Ivoire": "CIV",
    "Ivory Coast": "CIV",
    "Lao PDR": "LAO",
    "Laos": "LAO",
    "Lao People's Democratic Republic": "LAO",
    "Democratic Republic of Congo": "COD",
    "Democratic Republic of the Congo": "COD",
    "DR Congo": "COD",
    "DRC": "COD",
    "Congo (Democratic Republic of the)": "COD",
    "Republic of Congo": "COG",
    "Republic of the Congo": "COG",
    "Congo": "COG",
    "Trinidad & Tobago": "TTO",
    "Guinea Bissau": "GNB",
    "Sao Tome & Principe": "STP",
    "Sao Tome and Principe": "STP",
    "Cape Verde": "CPV",
    "Cabo Verde": "CPV",
    "Antigua & Barbuda": "ATG",
    "Swaziland": "SWZ",
    "Eswatini": "SWZ",
    "Timor-Leste": "TLS",
    "East Timor": "TLS",
    "The Bahamas": "BHS",
    "Bahamas": "BHS",
    "The Gambia": "GMB",
    "Gambia": "GMB",
    "Moldova": "MDA",
    "Republic of Moldova": "MDA",
    "Russia": "RUS",
    "Russian Federation": "RUS",
    "Tanzania": "TZA",
    "United Republic of Tanzania": "TZA",
    "United Kingdom": "GBR",
    "UK": "GBR",
    "United Kingdom of Great Britain and Northern Ireland": "GBR",
    "United States": "USA",
    "USA": "USA",
    "United States of America": "USA",
    "Viet Nam": "VNM",
    "Vietnam": "VNM",
    "Brunei": "BRN",
    "Brunei Darussalam": "BRN",
    "Czech Republic": "CZE",
    "Czechia": "CZE",
    "Libyan Arab Jamahiriya": "LBY",
    "Libya": "LBY",
    "Burma": "MMR",
    "Myanmar": "MMR",
    "Kyrgyz Republic": "KGZ",
    "Slovak Republic": "SVK",
}


def normalise_name(value: str) -> str:
    """Fold a country name for comparison: entities, apostrophes, accents, '&', 'St', punctuation, case."""
    text = html.unescape(value).replace("\u2019", "'").replace("\u2018", "'").replace("`", "'")
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.lower().replace("&", " and ")
    text = re.sub(r"[^a-z0-9]+", " ", text).strip()
    text = re.sub(r"^st ", "saint ", text)
    text = re.sub(r"^the ", "", text)
    return re.sub(r"\s+", " ", text)


@lru_cache(maxsize=1)
def _tables() -> tuple[frozenset[str], dict[str, str], dict[str, str]]:
    alpha3 = frozenset(c.alpha_3 for c in pycountry.countries)
    alpha2 = {c.alpha_2: c.alpha_3 for c in pycountry.countries}
    names: dict[str, str] = {}
    for country in pycountry.countries:
        for attr in ("name", "official_name", "common_name"):
            value = getattr(country, attr, None)
            if value:
                names.setdefault(normalise_name(value), country.alpha_3)
    # Aliases win over pycountry's names (e.g. "Congo" is the Republic of the Congo in UN usage).
    for alias, code in _ALIAS_NAMES.items():
        names[normalise_name(alias)] = code
    return alpha3, alpha2, names


@lru_cache(maxsize=4096)
def resolve_iso3(value: str) -> str | None:
    """The ISO3 code for a code or a name, or None when it is not a known country."""
    if not isinstance(value, str):
        return None
    stripped = value.strip()
    if not stripped:
        return None
    alpha3, alpha2, names = _tables()
    if len(stripped) == 3 and stripped.isascii() and stripped.upper() in alpha3 and stripped.isupper():
        return stripped.upper()
    if len(stripped) == 2 and stripped.isascii() and stripped.isupper() and stripped in alpha2:
        return alpha2[stripped]
    found = names.get(normalise_name(stripped))
    if found is not None:
        return found
    if len(stripped) == 3 and stripped.upper() in alpha3:
        return stripped.upper()
    return None


@lru_cache(maxsize=1)
def _spaceless_names() -> dict[str, str]:
    return {name.replace(" ", ""): code for name, code in _tables()[2].items()}


@lru_cache(maxsize=1024)
def resolve_iso3_spaced(value: str) -> str | None:
    """`resolve_iso3`, else the name with its spaces ignored: typeset documents break words ("Plurinational S tate of").

    Only the spaces are ignored, every letter must match a known name: still no guess.

    >>> resolve_iso3_spaced("Bolivia (Plurinational S tate of)")
    'BOL'
    >>> resolve_iso3_spaced("Atlantis") is None
    True
    """
    found = resolve_iso3(value)
    if found is not None or not isinstance(value, str):
        return found
    key = normalise_name(value).replace(" ", "")
    return _spaceless_names().get(key) if key else None


@lru_cache(maxsize=8)
def _localised_names(language: str) -> dict[str, str]:
    """pycountry's names translated to `language` (its gettext catalogue of ISO 3166-1), normalised -> ISO3."""
    catalogue = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[language], fallback=True)
    names: dict[str, str] = {}
    for country in pycountry.countries:
        for attr in ("name", "official_name", "common_name"):
            value = getattr(country, attr, None)
            if value:
                names.setdefault(normalise_name(catalogue.gettext(value)), country.alpha_3)
    return names


def resolver_for(language: str) -> Callable[[str], str | None]:
    """`resolve_iso3` that also knows the country names of `language` ("Croatie", "Croacia")."""
    if language == "en":
        return resolve_iso3
    names = _localised_names(language)

    def resolve(value: str) -> str | None:
        found = resolve_iso3(value)
        if found is None and isinstance(value, str) and value.strip():
            found = names.get(normalise_name(value))
        return found

    return resolve


def country_name(iso3: str) -> str:
    """pycountry's English short name for an ISO3 code (the code itself when unknown)."""
    country = pycountry.countries.get(alpha_3=iso3)
    return country.name if country is not None else iso3


@lru_cache(maxsize=512)
def display_name(iso3: str) -> str:
    """The name people use for a State ("Bolivia", not "Bolivia, Plurinational State of"), for pages."""
    country = pycountry.countries.get(alpha_3=iso3)
    if country is None:
        return iso3
    return str(getattr(country, "common_name", None) or country.name)


__all__ = [
    "country_name",
    "display_name",
    "normalise_name",
    "resolve_iso3",
    "resolve_iso3_spaced",
    "resolver_for",
]
