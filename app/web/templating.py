"""Jinja2 rendering for the pages: one autoescaping environment, one `render()`, page headers.

Every HTML answer, pages and error pages alike, goes through `render()`, which
adds the visitor's context, the session cookie and the security headers.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context
from markupsafe import Markup

from app.core.config import get_settings
from app.reference.languages import language_label
from app.reference.themes import affected_groups, shown_themes, theme_name, translated_label
from app.reference.validation import is_iso3
from app.reference.vocab import FORM_LANGUAGES
from app.services.coverage import SESSION_YEARS, session_with_year
from app.web import i18n
from app.web.flash import Flash, clear_flash, flash_message, set_flash
from app.web.labels import (
    MODALITY_LABELS,
    field_label,
    first_sentence,
    label,
    local_state_name,
    state_name,
    theme_markup,
    theme_options,
    theme_text,
)
from app.web.reasons import BAND_SENTENCE
from app.web.session import WebContext

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"

# No inline script or style anywhere: the stylesheet is /static, charts are inline SVG
# styled by that stylesheet, and there is no JavaScript at all.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def query_url(request: Request, **changes: object) -> str:
    """This page's path and query with some parameters replaced (None removes one)."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in changes]
    params += [(k, str(v)) for k, v in changes.items() if v is not None and v != ""]
    query = urlencode(params)
    return request.url.path + (f"?{query}" if query else "")


def language_choices(current: list[str]) -> list[tuple[str, str]]:
    """(code, name) of the languages a form offers as boxes: the common ones and any already chosen, by name."""
    codes = dict.fromkeys([*FORM_LANGUAGES, *current])
    names = ((code, i18n.language_name(code, language_label(code))) for code in codes)  # CLDR, in the page's language
    return sorted(names, key=lambda pair: pair[1].casefold())


@pass_context
def _theme(context: Context, theme: str) -> Markup:
    """A theme in running text: abbreviations spelled out on their first use on this page; in French or
    Spanish, the vocabulary's label in that language (written out in full)."""
    language = i18n.current_language()
    if language != i18n.DEFAULT_LANGUAGE:
        return Markup.escape(translated_label(theme_name(str(theme)), language))
    seen = context.get("_abbreviations_seen")
    return theme_markup(str(theme), seen if isinstance(seen, set) else None)


def _theme_text(theme: str) -> str:
    language = i18n.current_language()
    if language != i18n.DEFAULT_LANGUAGE:
        return translated_label(theme_name(str(theme)), language)
    return theme_text(theme)


def _options_in_page_language(options: list[tuple[str, str, str | None]]) -> list[tuple[str, str, str | None]]:
    """theme_options' (code, "label (count)", heading) with the label and the heading in the page language."""
    language = i18n.current_language()
    if language == i18n.DEFAULT_LANGUAGE:
        return options
    shown = []
    for code, text, heading in options:
        english = theme_name(code)
        if english != code and text.startswith(english):
            text = translated_label(english, language) + text[len(english) :]
        shown.append((code, text, translated_label(heading, language) if heading else heading))
    return shown


environment = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    extensions=["jinja2.ext.i18n"],
)
# `_()`, `gettext`, `ngettext` and `{% trans %}` read the language of the render under way (a context
# variable set by `render()`), so pages of different languages render concurrently without sharing state.
environment.policies["ext.i18n.trimmed"] = True  # a `{% trans %}` block's line breaks are not part of its message
environment.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
# Labels of codes are marked N_() in app/web/labels.py and translated here, in the page language.
environment.filters["label"] = lambda value: i18n.gettext(label(value))
environment.filters["quoted"] = i18n.quoted
environment.filters["word_list"] = i18n.word_list
environment.filters["field_label"] = lambda value: i18n.gettext(field_label(value))
environment.filters["count"] = lambda value: i18n.number(int(value))  # 21959 -> "21,959", "21 959"
# Numbers, dates and money in the page language (CLDR through Babel), never formatted by hand.
environment.filters["number"] = i18n.number
environment.filters["percent"] = i18n.percent
environment.filters["day"] = i18n.day
environment.filters["money"] = i18n.money
environment.filters["label_pair"] = lambda value: (value, i18n.gettext(label(value)))
environment.filters["modality_label"] = lambda value: i18n.gettext(MODALITY_LABELS.get(str(value), label(value)))
environment.filters["modality_pair"] = lambda value: (
    value,
    i18n.gettext(MODALITY_LABELS.get(str(value), label(value))),
)
environment.filters["state_option"] = lambda code: (code, i18n.country_name(code, state_name(code)))
environment.filters["theme_option"] = lambda pair: (pair[0], f"{_theme_text(pair[0])} ({i18n.number(pair[1])})")
environment.filters["pair"] = lambda value: (value, value)
environment.filters["translated_pair"] = lambda pair: (pair[0], i18n.gettext(pair[1]))  # (code, N_-marked words)
environment.filters["cycle_option"] = lambda cycle: (cycle, i18n.gettext("Cycle %(cycle)s") % {"cycle": cycle})
environment.filters["session_option"] = lambda number: (number, i18n.gettext("Session %(number)s") % {"number": number})
environment.filters["sdg_option"] = lambda pair: (pair[0], f"{pair[0]}. {pair[1]}")
environment.filters["facet_option"] = lambda facet: (facet.value, f"{facet.value} ({i18n.number(facet.count)})")
environment.filters["state_name"] = local_state_name
environment.filters["recommending_states"] = lambda r: ", ".join(
    [local_state_name(code) for code in r.recommending_states or []] or list(r.recommending_state_names or [])
)
environment.filters["first_sentence"] = first_sentence
# `{% if code is unknown_country %}`: a filter's country code no country has (the page says so, plainly).
environment.tests["unknown_country"] = lambda code: bool(code) and not is_iso3(str(code))
# A UPR Working Group session with its year ("Session 31 (2018)"), so a reader need not know the calendar.
environment.filters["session_year_option"] = lambda number: (
    number,
    i18n.gettext("Session %(number)s (%(year)s)") % {"number": number, "year": SESSION_YEARS[int(number)]}
    if int(number) in SESSION_YEARS
    else i18n.gettext("Session %(number)s") % {"number": number},
)
environment.filters["session_year"] = lambda number: SESSION_YEARS.get(int(number), "")
environment.filters["session_with_year"] = session_with_year
environment.filters["language_name"] = lambda code: i18n.language_name(code, language_label(code))
environment.filters["theme"] = _theme
environment.filters["theme_text"] = _theme_text
# A record's or a profile's theme labels as the controlled themes people see; affected persons likewise.
environment.filters["shown_themes"] = shown_themes
environment.filters["shown_groups"] = affected_groups
# The theme facet as checkbox options (code, "label (count)", heading), in the UHRI order.
environment.filters["theme_facet_options"] = lambda facets: _options_in_page_language(
    theme_options({str(f.value): f.count for f in facets})
)
environment.filters["page_theme_options"] = _options_in_page_language
# A controlled label (theme, theme group, affected persons) as it is, in French or Spanish when the page is.
environment.filters["in_page_language"] = lambda text: translated_label(str(text), i18n.current_language())
environment.globals["theme_options"] = lambda counts=None: _options_in_page_language(theme_options(counts))
environment.globals["query_url"] = query_url
environment.globals["band_sentence"] = BAND_SENTENCE
environment.globals["language_switch"] = i18n.language_switch
environment.globals["text_direction"] = i18n.text_direction
environment.globals["page_language"] = i18n.current_language
# Who the administrator is, for the pages that say whom to ask (CONTACT_EMAIL; None when unset).
environment.globals["admin_contact"] = lambda: get_settings().CONTACT_EMAIL


def page_headers(response: HTMLResponse | RedirectResponse, web: WebContext | None) -> None:
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["Vary"] = "Cookie, Accept-Language"
    if web is not None:
        web.apply(response)


def render(
    request: Request, name: str, context: Mapping[str, object] | None = None, *, status_code: int = 200
) -> HTMLResponse:
    """Render a template as a page for this request's visitor."""
    web: WebContext | None = getattr(request.state, "web", None)
    message = flash_message(request)
    with i18n.language(i18n.page_language(request)):
        html = environment.get_template(name).render(
            request=request, web=web, _abbreviations_seen=set(), flash=message, **(context or {})
        )
    response = HTMLResponse(html, status_code=status_code)
    page_headers(response, web)
    clear_flash(request, response)
    return response


def remember_language(response: HTMLResponse | RedirectResponse, code: str, *, secure: bool) -> None:
    """The switch's choice, kept a year in a cookie (a language the pages do not speak is ignored)."""
    if code in i18n.PAGE_LANGUAGES:
        response.set_cookie(
            i18n.LANGUAGE_COOKIE,
            code,
            max_age=i18n.LANGUAGE_COOKIE_MAX_AGE,
            httponly=True,
            samesite="lax",
            secure=secure,
        )


def redirect(request: Request, url: str, *, flash: Flash | None = None) -> RedirectResponse:
    """A 303 See Other (the answer to a successful form POST), carrying any session change.

    `flash`: the confirmation the next page shows once ("Your need is saved.").
    """
    response = RedirectResponse(url, status_code=303)
    page_headers(response, getattr(request.state, "web", None))
    if flash is not None:
        set_flash(response, flash, secure=request.url.scheme == "https")
    return response


def safe_next(url: str | None, default: str = "/") -> str:
    """A local path to return to after sign-in; anything else (//host, https://...) is ignored."""
    if url and url.startswith("/") and not url.startswith("//") and "\\" not in url and "\n" not in url:
        return url
    return default


class Pager:
    """What the pagination partial needs: the window shown and the offsets of its neighbours."""

    def __init__(self, *, total: int, limit: int, offset: int) -> None:
        self.total, self.limit, self.offset = total, limit, offset

    @property
    def first(self) -> int:
        return min(self.offset + 1, self.total)

    @property
    def last(self) -> int:
        return min(self.offset + self.limit, self.total)

    @property
    def previous_offset(self) -> int | None:
        return max(0, self.offset - self.limit) if self.offset > 0 else None

    @property
    def next_offset(self) -> int | None:
        return self.offset + self.limit if self.offset + self.limit < self.total else None

    @property
    def page(self) -> int:
        return self.offset // self.limit + 1

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.limit))
