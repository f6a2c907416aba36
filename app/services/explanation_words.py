"""A match explanation's words in the request's language (French, Spanish), from the engine's English.

The engine (matching/) writes each signal's `detail` and the `summary` in fixed English phrases
("works in MEX", "offers training, legal review", "shares: torture, detention; works worldwide") and
never imports the app, so the words are put into the request's language here, at the API's edge:
each phrase is a catalogued message with its values (a State through CLDR, a language through CLDR,
a region, a theme or a kind of help through the catalogue or the controlled vocabulary). Terms cut
from the asking text stay as written; a phrase the engine may add later and this module does not know
stays in English rather than be guessed.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from app.core.i18n import N_, country_name, current_language, gettext, language_name, word_list
from app.models.match import Explanation, SignalOut
from app.reference.languages import language_code
from app.reference.themes import translated_label

_REGION = re.compile(r"^works in the region \((?P<region>.+)\)$")
_LISTED = re.compile(r"^(?P<lead>works in|offers|shared themes:|has cooperated with) (?P<items>.+)$")
_FIXED = {
    "shared words": N_("shared words"),
    "no shared theme": N_("no shared theme"),
    "none of the requested languages": N_("none of the requested languages"),
    "works worldwide": N_("works worldwide"),
    "no presence recorded in the State or its region": N_("no presence recorded in the State or its region"),
    "offers none of the modalities asked": N_("offers none of the modalities asked"),
    "has cooperated on these themes": N_("has cooperated on these themes"),
    "no cooperation recorded": N_("no cooperation recorded"),
}
# The kinds of help as the engine spells them ("legal review": the code with spaces).
_MODALITIES = {
    "training": N_("training"),
    "legal review": N_("review of laws and policies"),
    "expert deployment": N_("experts working alongside you"),
    "funding": N_("funding"),
    "data systems": N_("data and information systems"),
    "peer exchange": N_("exchanges with peers"),
    "equipment": N_("equipment"),
    "other": N_("other help"),
}


def _state(code: str) -> str:
    return country_name(code, code)


def _language(name: str) -> str:
    code = language_code(name)
    return language_name(code, name) if code else name


def _theme(label: str) -> str:
    return translated_label(label, current_language())


def _modality(words: str) -> str:
    return gettext(_MODALITIES[words]) if words in _MODALITIES else words


def signal_words(name: str, detail: str) -> str:
    """One signal's detail in the request's language (`name` says what "works in ..." is about)."""
    if detail in _FIXED:
        return gettext(_FIXED[detail])
    region = _REGION.match(detail)
    if region:
        return gettext("works in the region (%(region)s)") % {"region": gettext(region["region"])}
    listed = _LISTED.match(detail)
    if not listed:
        return detail
    lead, items = listed["lead"], listed["items"].split(", ")
    each: Callable[[str], str]
    if lead == "works in" and name == "presence":
        return gettext("works in %(place)s") % {"place": _state(listed["items"])}
    if lead == "works in":
        message, each = N_("works in %(languages)s"), _language
    elif lead == "offers":
        message, each = N_("offers %(help)s"), _modality
    elif lead == "shared themes:":
        message, each = N_("shared themes: %(themes)s"), _theme
    else:
        return gettext("has cooperated with %(state)s") % {"state": _state(listed["items"])}
    key = message.split("%(")[1].split(")")[0]
    return gettext(message) % {key: ", ".join(each(item) for item in items)}


def summary_words(summary: str, signals: dict[str, SignalOut], themes: list[str]) -> str:
    """The one-line summary in the request's language: "shares: ..." then the signals' details, as the engine
    wrote them, each put into words on its own."""
    by_detail = {signal.detail: name for name, signal in signals.items()}
    known = set(themes)
    parts = []
    for part in summary.split("; ") if summary else []:
        if part.startswith("shares: "):
            items = [_theme(item) if item in known else item for item in part.removeprefix("shares: ").split(", ")]
            parts.append(gettext("shares: %(items)s") % {"items": word_list(items)})
        else:
            parts.append(signal_words(by_detail.get(part, ""), part))
    return "; ".join(parts)


def in_request_language(explanation: Explanation) -> Explanation:
    """The explanation with its words (summary, signal details) in the request's language; English unchanged."""
    if current_language() == "en":
        return explanation
    signals = {
        name: signal.model_copy(update={"detail": signal_words(name, signal.detail)})
        for name, signal in explanation.signals.items()
    }
    summary = summary_words(explanation.summary, explanation.signals, explanation.themes)
    return explanation.model_copy(update={"signals": signals, "summary": summary})
