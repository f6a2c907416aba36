"""The API's words for people in the client's language: `Accept-Language` picks French or Spanish.

Only words change (problem titles, theme labels in facets); codes, field names and values never do,
and an answer to a request without `Accept-Language` (or with no language the API speaks) is the
English one, byte for byte. The catalogue is the pages' (app/locale, `make i18n`).
"""

from __future__ import annotations

from fastapi import Request

from app.core.i18n import DEFAULT_LANGUAGE, N_, current_language, language
from app.core.i18n import gettext as _gettext
from app.reference.themes import translated_label

ACCEPT_LANGUAGE_DESCRIPTION = (
    "The language of the words for people in the answer: `fr` or `es` (quality values honoured, "
    "e.g. `es-MX,es;q=0.9,en;q=0.5`; a `lang` query parameter, where an operation has one, wins), otherwise "
    "English. It changes problem `title`s and `detail`s, the theme labels of facets and vocabularies, and "
    "the `summary` and signal `detail`s of match explanations; codes, field names and values never change."
)

# The problems' titles (app/core/errors.py and the HTTP layer), for the catalogue.
PROBLEM_TITLES = (
    N_("Internal server error"),
    N_("Bad request"),
    N_("Malformed JSON body"),
    N_("Authentication required"),
    N_("Forbidden"),
    N_("Not found"),
    N_("Conflict"),
    N_("Precondition failed"),
    N_("Payload too large"),
    N_("Validation error"),
    N_("Precondition required"),
    N_("Too many requests"),
    N_("Service unavailable"),
    N_("Database unavailable"),
    N_("Insufficient storage"),
    N_("Idempotency key reused"),
    N_("Method not allowed"),
    N_("Not acceptable"),
    N_("Unsupported media type"),
)


def api_language(request: Request | None = None) -> str | None:
    """fr or es when the client asks for it (`lang`, else `Accept-Language`: the request runs in that language,
    app/http/middleware.py); None for English (the answer unchanged)."""
    found = current_language()
    return found if found != DEFAULT_LANGUAGE else None


def translate(text: str, code: str) -> str:
    """A catalogued message in a language (the message itself when the catalogue lacks it)."""
    with language(code):
        return _gettext(text)


def theme_label(label: str, code: str | None) -> str:
    return translated_label(label, code) if code else label
