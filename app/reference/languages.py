"""Languages: ISO 639-1 codes and their English names.

Two spellings of a name, each where it is read: the API's explanations and the analytics say the
name as ISO 639 gives it ("Swahili (macrolanguage)", `language_name`); the pages say the name people
use ("Swahili", `language_label`).
"""

from __future__ import annotations

from functools import lru_cache

import pycountry


@lru_cache(maxsize=256)
def language_name(code: str) -> str:
    """English name of an ISO 639-1 code as ISO 639 gives it ("es" -> "Spanish"), or the code itself."""
    found = pycountry.languages.get(alpha_2=code)
    return str(found.name) if found is not None else code


@lru_cache(maxsize=256)
def language_label(code: str | None) -> str:
    """A language for a page ("es" or "ES" -> "Spanish", "sw" -> "Swahili"): "" for none, the code when unknown."""
    if not code:
        return ""
    found = pycountry.languages.get(alpha_2=str(code).lower())
    return str(found.name).split(" (")[0] if found is not None else str(code)


@lru_cache(maxsize=1)
def _language_codes_by_name() -> dict[str, str]:
    names: dict[str, str] = {}
    for lang in pycountry.languages:
        code = getattr(lang, "alpha_2", None)
        if code:
            # "Swahili (macrolanguage)" is also known as "Swahili".
            for name in (str(lang.name), str(lang.name).split(" (")[0]):
                names.setdefault(name.casefold(), str(code))
    return names


def language_code(text: str) -> str | None:
    """The ISO 639-1 code of a language given by its English name or its code ("Swahili" or "sw")."""
    value = " ".join(text.split()).casefold()
    if len(value) == 2 and pycountry.languages.get(alpha_2=value) is not None:
        return value
    return _language_codes_by_name().get(value)


__all__ = ["language_code", "language_label", "language_name"]
