"""Words for the codes the pages show: States, languages, kinds, kinds of help, regions, themes.

A person reads "Mexico", "Spanish", "Review of laws and policies", never "MEX",
"es" or "legal_review". Everything here is pure (no request, no database), so the
templates, the explanations and the tests share one spelling of each label.
"""

from __future__ import annotations

import re
from functools import lru_cache

import pycountry
from markupsafe import Markup, escape

from app.reference.regions import REGION_LABELS
from app.reference.themes import controlled_themes, theme_group, theme_name
from app.web.i18n import N_, country_name

KIND_LABELS = {
    "un_entity": N_("UN entity"),
    "state": N_("Government or development agency"),
    "regional_organization": N_("Regional organisation"),
    "international_organization": N_("International organisation outside the UN"),
    "nhri": N_("National human rights institution"),
    "ngo": N_("Non-governmental organisation"),
    "academic": N_("University or research centre"),
    "private": N_("Private sector"),
    "other": N_("Other"),
}

# The kinds of help (`modality` in the API), as a State would ask for them.
MODALITY_LABELS = {
    "training": N_("Training"),
    "legal_review": N_("Review of laws and policies"),
    "expert_deployment": N_("Experts working alongside you"),
    "funding": N_("Funding"),
    "data_systems": N_("Data and information systems"),
    "peer_exchange": N_("Exchanges with peers in other countries"),
    "equipment": N_("Equipment"),
    "other": N_("Other help"),
}

# The same, as what a provider "offers" in a sentence ("offers training and review of laws").
MODALITY_PHRASES = {
    "training": N_("training"),
    "legal_review": N_("review of laws and policies"),
    "expert_deployment": N_("experts on the ground"),
    "funding": N_("funding"),
    "data_systems": N_("data systems"),
    "peer_exchange": N_("peer exchanges"),
    "equipment": N_("equipment"),
    "other": N_("other help"),
}

STATUS_LABELS = {
    "open": N_("Open"),
    "matched": N_("Partner found"),
    "in_progress": N_("In progress"),
    "closed": N_("Closed"),
    "planned": N_("Planned"),
    "ongoing": N_("Ongoing"),
    "completed": N_("Completed"),
    "supported": N_("Supported"),
    "noted": N_("Noted"),
}

PRIORITY_LABELS = {"low": N_("Low"), "medium": N_("Medium"), "high": N_("High")}

VISIBILITY_LABELS = {
    "public": N_("Everyone"),
    "providers": N_("Providers only"),
    "state_only": N_("Only my State"),
}

# The fields of a need or an activity, as a page names them in a change ("Start date", never "start_date").
FIELD_LABELS = {
    "title": N_("Title"),
    "description": N_("What was done"),
    "outcomes": N_("Outcomes"),
    "modality": N_("Kind of help"),
    "status": N_("Status"),
    "start_date": N_("Start date"),
    "end_date": N_("End date"),
    "funding_source": N_("Funding"),
    "need_id": N_("The need it answers"),
    "provider_id": N_("Provider"),
    "state": N_("State"),
    "recommendation_ids": N_("Recommendations"),
    "themes": N_("Themes"),
    "languages": N_("Languages"),
    "priority": N_("Priority"),
    "visibility": N_("Who can see it"),
}

# Abbreviations in theme names, spelled out on their first use on a page.
ABBREVIATIONS = {
    "CID": "cruel, inhuman or degrading",
    "CP": "civil and political",
    "ESC": "economic, social and cultural",
    "NHRI": "national human rights institution",
    "UPR": "Universal Periodic Review",
}
_ABBREVIATION_RE = re.compile(r"\b(" + "|".join(ABBREVIATIONS) + r")\b")


@lru_cache(maxsize=512)
def state_name(code: str | None) -> str:
    """A State's English short name ("MEX" -> "Mexico"); the code itself when unknown."""
    if not code:
        return ""
    country = pycountry.countries.get(alpha_3=str(code).upper())
    if country is None:
        return str(code)
    name = str(getattr(country, "common_name", None) or country.name)
    if ", " in name:
        # pycountry inverts some names ("Congo, The Democratic Republic of the"): use the natural order.
        official = getattr(country, "official_name", None)
        head, tail = name.split(", ", 1)
        name = str(official) if official else f"{tail} {head}"
        name = name.removeprefix("The ")
    return name


def local_state_name(code: str | None) -> str:
    """A State's name in the request's language (CLDR: "Mexique", "México"); the English short name otherwise."""
    return country_name(code, state_name(code))


def state_possessive(code: str | None) -> str:
    """ "Mexico's", "the Philippines'"-style possessive of a State's name."""
    name = state_name(code)
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def label(value: object) -> str:
    """A code as words: kinds, kinds of help, regions, statuses; otherwise `snake_case` -> "Snake case"."""
    text = str(value)
    for table in (KIND_LABELS, MODALITY_LABELS, REGION_LABELS, STATUS_LABELS, PRIORITY_LABELS, VISIBILITY_LABELS):
        if text in table:
            return table[text]
    text = text.replace("_", " ")
    return text[:1].upper() + text[1:]


def field_label(field: object) -> str:
    """A field's name as words, in English (translate it where it is shown); `snake_case` -> "Snake case" otherwise."""
    text = str(field)
    return FIELD_LABELS.get(text) or label(text)


def theme_text(theme: str) -> str:
    """A theme with its abbreviations spelled out, as plain text (for options and titles); a code as its label."""
    theme = theme_name(theme)

    def spell(match: re.Match[str]) -> str:
        abbr = match.group(1)
        if f"({abbr})" in theme:
            return abbr
        words = ABBREVIATIONS[abbr]
        return f"{words} ({abbr})"

    text = _ABBREVIATION_RE.sub(spell, theme)
    return text[:1].upper() + text[1:]


def theme_markup(theme: str, seen: set[str] | None) -> Markup:
    """A theme for running text: each abbreviation spelled out the first time a page uses it, then `<abbr>`."""
    theme = theme_name(theme)
    parts: list[str] = []
    last = 0
    at_start = True
    for match in _ABBREVIATION_RE.finditer(theme):
        abbr = match.group(1)
        parts.append(str(escape(theme[last : match.start()])))
        words = ABBREVIATIONS[abbr]
        if f"({abbr})" in theme:
            parts.append(str(escape(abbr)))
        elif seen is not None and abbr in seen:
            parts.append(f'<abbr title="{escape(words)}">{escape(abbr)}</abbr>')
        else:
            spelled = words[:1].upper() + words[1:] if at_start and match.start() == 0 else words
            parts.append(f"{escape(spelled)} ({escape(abbr)})")
            if seen is not None:
                seen.add(abbr)
        last = match.end()
        at_start = False
    parts.append(str(escape(theme[last:])))
    return Markup("".join(parts))


def theme_options(counts: dict[str, int] | None = None) -> list[tuple[str, str, str | None]]:
    """(code, label, heading) of every controlled theme, in the UHRI order; with `counts`, only those counted,
    each label followed by its count, and after them any counted value that is not a code."""
    found: list[tuple[str, str, str | None]] = []
    for theme in controlled_themes():
        if counts is None:
            found.append((theme.code, theme.label, theme.group))
        elif theme.code in counts:
            found.append((theme.code, f"{theme.label} ({counts[theme.code]:,})", theme.group))
    codes = {code for code, _, _ in found}
    found += [(v, f"{v} ({n:,})", "Other labels") for v, n in sorted((counts or {}).items()) if v not in codes]
    return found


def theme_heading(value: str) -> str | None:
    """The heading a theme's code stands under, for grouping lists."""
    return theme_group(value)


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z“\"(])")


def first_sentence(text: str, limit: int = 240) -> str:
    """The first sentence of a description, cut at a word boundary near `limit` characters."""
    sentence = _SENTENCE_END.split(" ".join(text.split()), maxsplit=1)[0]
    if len(sentence) <= limit:
        return sentence
    return sentence[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"
