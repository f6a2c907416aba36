"""Languages for people: the gettext catalogues, `Accept-Language`, and CLDR formatting through Babel.

The pages (app/web/i18n.py says which language a request gets) and the API's words for people
(app/http/api_language.py) share them. The catalogues are `app/locale/<lang>/LC_MESSAGES/messages.po`
(`make i18n` extracts and updates them); they are compiled in memory when the process starts, so a checkout
needs no build step and the `.mo` files are never stale.

Rendering is thread-safe: the current language lives in a context variable set for
the duration of one `render()`, and the gettext callables installed in the Jinja2
environment read it, so requests in different languages can render concurrently.
"""

from __future__ import annotations

import gettext as gettext_module
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from io import BytesIO
from pathlib import Path

import pycountry
from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.lists import format_list
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal, format_percent

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DEFAULT_LANGUAGE = "en"
# The page languages, in the switch's order; each but English has a catalogue in LOCALE_DIR.
PAGE_LANGUAGES = ("en", "fr", "es")
LANGUAGE_COOKIE = "upr_lang"
LANGUAGE_COOKIE_MAX_AGE = 365 * 24 * 3600

_current: ContextVar[str] = ContextVar("page_language", default=DEFAULT_LANGUAGE)


def valid_language(value: str | None) -> str | None:
    """A language tag ("fr-CH", "ES") as a page language code, if it is one."""
    code = (value or "").strip().lower().replace("_", "-").split("-")[0]
    return code if code in PAGE_LANGUAGES else None


def accepted_language(header: str | None) -> str | None:
    """The page language the `Accept-Language` header prefers most (quality values honoured), if any."""
    choices: list[tuple[float, int, str]] = []
    for position, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        code = valid_language(tag)
        if code and quality > 0:
            choices.append((-quality, position, code))
    return min(choices)[2] if choices else None


@cache
def translations(language: str) -> gettext_module.NullTranslations:
    """The catalogue of a language, compiled from its `.po` (fuzzy and empty entries are left out: English shows)."""
    po = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    if language == DEFAULT_LANGUAGE or not po.is_file():
        return gettext_module.NullTranslations()
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext_module.GNUTranslations(buffer)


def current_language() -> str:
    return _current.get()


@contextmanager
def language(code: str) -> Iterator[None]:
    """Run a block (a template render, a message built for a page) in a language."""
    token = _current.set(code if code in PAGE_LANGUAGES else DEFAULT_LANGUAGE)
    try:
        yield
    finally:
        _current.reset(token)


def gettext(message: str) -> str:
    return translations(_current.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(_current.get()).ngettext(singular, plural, n)


def N_(message: str) -> str:  # noqa: N802 (the gettext convention, and pybabel's default keyword)
    """Marks a message for extraction; it is translated where it is shown (`_()` in the template)."""
    return message


@cache
def locale(code: str) -> Locale:
    try:
        return Locale.parse(code)
    except (UnknownLocaleError, ValueError):
        return Locale.parse(DEFAULT_LANGUAGE)


def request_language(*, api: bool, lang: str | None, cookie: str | None, accept: str | None) -> str:
    """The language of a request's words: a page's is `?lang=` > the switch's cookie > `Accept-Language` >
    English; the API's (paths under /v1) is `lang` > `Accept-Language` > English (no cookie: a client says it)."""
    return (
        valid_language(lang)
        or (None if api else valid_language(cookie))
        or accepted_language(accept)
        or DEFAULT_LANGUAGE
    )


def text_direction() -> str:
    """`ltr` or `rtl` for the page language (CLDR), for `<html dir>`."""
    return "rtl" if locale(_current.get()).text_direction == "rtl" else "ltr"


def country_name(code: str | None, english: str) -> str:
    """A State's name in the page language from CLDR ("MEX" -> "Mexique" in French); `english` otherwise."""
    language_code = _current.get()
    if not code or language_code == DEFAULT_LANGUAGE:
        return english
    country = pycountry.countries.get(alpha_3=str(code).upper())
    if country is None:
        return english
    return str(locale(language_code).territories.get(country.alpha_2, english))


def language_name(code: str | None, english: str) -> str:
    """A language's name in the page language from CLDR ("es" -> "espagnol" in French); `english` otherwise."""
    language_code = _current.get()
    if not code or language_code == DEFAULT_LANGUAGE:
        return english
    return str(locale(language_code).languages.get(str(code).lower(), english))


def number(value: object, digits: int | None = None) -> str:
    """A number in the page language's format: 1,234.5 in English, 1 234,5 in French, 1234,5 in Spanish."""
    if value is None:
        return ""
    amount = value if isinstance(value, int | float | Decimal) else Decimal(str(value))
    if digits is not None:
        pattern = "#,##0" + ("." + "0" * digits if digits else "")
        return format_decimal(amount, format=pattern, locale=locale(_current.get()))
    return format_decimal(amount, locale=locale(_current.get()))


def plain_count(value: int) -> str:
    """A count in words the API gives too: plain digits in English ("2289", as it always said), CLDR's otherwise."""
    return str(value) if _current.get() == DEFAULT_LANGUAGE else number(value)


def percent(value: float, digits: int = 0) -> str:
    """A share (0.25) as a percentage in the page language: "25%", "25 %"."""
    pattern = "#,##0" + ("." + "0" * digits if digits else "") + "%"
    return format_percent(value, format=pattern, locale=locale(_current.get()))


def day(value: date | datetime | None, form: str = "medium") -> str:
    """A date in the page language ("7 Dec 2026", "7 déc. 2026", "7 dic 2026")."""
    if value is None:
        return ""
    return format_date(value, format=form, locale=locale(_current.get()))


def money(amount: object, currency: str = "USD") -> str:
    """An amount of money in the page language ("$1,200.00", "1 200,00 $US")."""
    if amount is None:
        return ""
    value = amount if isinstance(amount, int | float | Decimal) else Decimal(str(amount))
    return format_currency(value, currency, locale=locale(_current.get()))


def word_list(items: Iterable[object]) -> str:
    """Words joined as the page language joins a list (CLDR): "a, b, and c", "a, b et c", "a, b y c"."""
    words = [str(item) for item in items]
    return format_list(words, locale=locale(_current.get())) if words else ""


def quoted(text: object) -> str:
    """A phrase between the page language's quotation marks (the catalogue says which: “…”, « … »)."""
    return gettext("“%(text)s”") % {"text": text}


def language_switch() -> list[tuple[str, str, bool]]:
    """The switch's entries: (code, the language's own name from CLDR, is it the current one?)."""
    here = _current.get()
    return [(code, (locale(code).get_display_name(code) or code).capitalize(), code == here) for code in PAGE_LANGUAGES]
