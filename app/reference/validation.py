"""Field normalisers shared by services: country codes, language codes."""

from __future__ import annotations

from functools import lru_cache

import pycountry

from app.core.errors import UnprocessableEntity, field_error


@lru_cache(maxsize=1)
def _alpha3_codes() -> frozenset[str]:
    return frozenset(c.alpha_3 for c in pycountry.countries)


def unknown_country(value: str) -> str:
    """The words for a country code we do not know; the pages find them to offer the list of States."""
    code = value.strip().upper() or repr(value)
    return f"We don't know a country with the code {code}"


def is_iso3(value: str) -> bool:
    """True when `value` is an ISO 3166-1 alpha-3 code (any case)."""
    return value.upper() in _alpha3_codes()


def normalise_iso3(value: str, *, loc: list[str | int]) -> str:
    """Upper-case an ISO3 code, or raise a 422 naming the field."""
    code = value.strip().upper()
    if code not in _alpha3_codes():
        raise UnprocessableEntity(
            unknown_country(value) + " (an ISO 3166-1 alpha-3 code).",
            errors=[field_error(loc, unknown_country(value) + " (an ISO 3166-1 alpha-3 code)")],
        )
    return code


@lru_cache(maxsize=1)
def _alpha2_languages() -> frozenset[str]:
    return frozenset(lang.alpha_2 for lang in pycountry.languages if hasattr(lang, "alpha_2"))


def is_language(value: str) -> bool:
    """True when `value` is an ISO 639-1 two-letter language code."""
    return value.lower() in _alpha2_languages()
