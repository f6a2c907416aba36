"""The API's words for people in the client's language: `Accept-Language` picks French or Spanish.

Only words change (problem titles, theme labels in facets); codes, field names and values never do,
and an answer to a request without `Accept-Language` (or with no language the API speaks) is the
English one, byte for byte. The catalogue is the pages' (app/locale, `make i18n`).
"""

from __future__ import annotations

from fastapi import Request

from app.core.i18n import DEFAULT_LANGUAGE, N_, accepted_language, language
from app.core.i18n import gettext as _gettext
from app.reference.themes import translated_label

ACCEPT_LANGUAGE_DESCRIPTION = (
    "The language of the words for people in the answer: `fr` or `es` (quality values honoured, "
    "e.g. `es-MX,es;q=0.9,en;q=0.5`), otherwise English. It changes problem `title`s and the theme "
    "labels of facets; codes, field names and values never change."
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


def api_language(request: Request | None) -> str | None:
    """fr or es when the client's `Accept-Language` asks for it; None for English (the answer unchanged)."""
    if request is None:
        return None
    found = accepted_language(request.headers.get("accept-language"))
    return found if found and found != DEFAULT_LANGUAGE else None


def translate(text: str, code: str) -> str:
    """A catalogued message in a language (the message itself when the catalogue lacks it)."""
    with language(code):
        return _gettext(text)


def theme_label(label: str, code: str | None) -> str:
    return translated_label(label, code) if code else label
