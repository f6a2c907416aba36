"""The pages' language: `?lang=` (so a link can carry it) > the switch's `upr_lang` cookie >
`Accept-Language` > English. The catalogues, formatting and names are app/core/i18n.py's."""

from __future__ import annotations

from fastapi import Request

from app.core.i18n import (
    DEFAULT_LANGUAGE,
    LANGUAGE_COOKIE,
    LANGUAGE_COOKIE_MAX_AGE,
    LOCALE_DIR,
    N_,
    PAGE_LANGUAGES,
    accepted_language,
    country_name,
    current_language,
    day,
    gettext,
    language,
    language_name,
    language_switch,
    locale,
    money,
    ngettext,
    number,
    percent,
    quoted,
    text_direction,
    translations,
    valid_language,
    word_list,
)

__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGE_COOKIE",
    "LANGUAGE_COOKIE_MAX_AGE",
    "LOCALE_DIR",
    "N_",
    "PAGE_LANGUAGES",
    "accepted_language",
    "country_name",
    "current_language",
    "day",
    "explicit_language",
    "gettext",
    "language",
    "language_name",
    "language_switch",
    "locale",
    "money",
    "ngettext",
    "number",
    "page_language",
    "percent",
    "quoted",
    "text_direction",
    "translations",
    "word_list",
]


def explicit_language(request: Request) -> str | None:
    """The language named by `?lang=` when it is one the pages speak."""
    return valid_language(request.query_params.get("lang"))


def page_language(request: Request) -> str:
    """The language this page is shown in: `?lang=` > the switch's cookie > `Accept-Language` > English."""
    return (
        explicit_language(request)
        or valid_language(request.cookies.get(LANGUAGE_COOKIE))
        or accepted_language(request.headers.get("accept-language"))
        or DEFAULT_LANGUAGE
    )
