"""The need form's state: what is chosen, what is browsed, and the title that follows the selection.

Choosing the recommendations is `app.web.picker`'s (ticks kept across themes and
pages, in the page itself). The title's number is computed from what is ticked, as
long as the State has not written its own title.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from starlette.datastructures import FormData

from app.core.jsontypes import JsonObject
from app.reference.themes import translated_label
from app.reference.vocab import MAX_RECOMMENDATIONS
from app.web.explain import DraftView
from app.web.forms import first, int_or, parse_languages
from app.web.i18n import N_, current_language, gettext, ngettext, number, word_list
from app.web.picker import PickState

TITLE_MAX = 200


class Cited(Protocol):
    """What the title needs of a recommendation."""

    @property
    def id(self) -> str: ...

    @property
    def themes(self) -> list[str]: ...


def need_title(recommendations: Sequence[Cited]) -> str:
    """ "Women's rights: support to implement 42 supported recommendations", naming the themes that cover them.

    >>> from types import SimpleNamespace as R
    >>> need_title([R(id="a", themes=["Torture"]), R(id="b", themes=["Torture", "Detention"])])
    'Torture: support to implement 2 supported recommendations'
    >>> need_title([R(id="a", themes=["Torture"]), R(id="b", themes=["Women"]), R(id="c", themes=["Water"])])
    'Torture, Water and other themes: support to implement 3 supported recommendations'
    """
    n = len(recommendations)
    if n == 0:
        return ""
    counts = Counter(t for r in recommendations for t in dict.fromkeys(r.themes))
    remaining = {r.id for r in recommendations}
    names: list[str] = []
    for theme in sorted(counts, key=lambda t: (-counts[t], t)):
        covered = {r.id for r in recommendations if theme in r.themes} & remaining
        if covered:
            names.append(theme)
            remaining -= covered
        if not remaining or len(names) == 2:
            break
    # In the language of the request that files the need (its title is the State's own words from then on).
    language = current_language()
    names = [translated_label(name, language) for name in names]
    tail = ngettext(
        "support to implement %(num)s supported recommendation",
        "support to implement %(num)s supported recommendations",
        n,
    ) % {"num": number(n)}
    if not names:
        return ngettext(
            "Support to implement %(num)s supported recommendation",
            "Support to implement %(num)s supported recommendations",
            n,
        ) % {"num": number(n)}
    others = N_("%(themes)s and other themes")
    label = gettext(others) % {"themes": ", ".join(names)} if remaining else word_list(names)
    title = gettext("%(themes)s: %(tail)s") % {"themes": label, "tail": tail}
    if len(title) > TITLE_MAX:
        short = names[0][: TITLE_MAX - len(tail) - 20].rstrip()
        title = gettext("%(themes)s: %(tail)s") % {"themes": gettext(others) % {"themes": short}, "tail": tail}
    return title


@dataclass
class NeedFormState(PickState):
    """Everything the need form shows and sends back."""

    title: str = ""
    auto_title: str = ""
    description: str = ""
    priority: str = "medium"
    visibility: str = "public"
    status: str = "open"
    languages: list[str] = field(default_factory=list)
    other_languages: str = ""
    modalities: list[str] = field(default_factory=list)
    version: int = 0

    @classmethod
    def from_form(cls, form: FormData) -> NeedFormState:
        """Read the posted form; languages given by name are turned into codes (or an error)."""
        languages, errors = parse_languages([str(v) for v in form.getlist("languages")], first(form, "other_languages"))
        values = cls(
            title=" ".join(str(form.get("title") or "").split()),
            auto_title=" ".join(str(form.get("auto_title") or "").split()),
            description=str(form.get("description") or "").strip(),
            priority=first(form, "priority") or "medium",
            visibility=first(form, "visibility") or "public",
            status=first(form, "status") or "open",
            languages=languages,
            other_languages="",
            modalities=list(dict.fromkeys(str(v) for v in form.getlist("modalities"))),
            version=int_or(first(form, "version"), 0),
            errors=errors,
        )
        values.read_pick(form)
        return values

    def retitle(self, cited: Sequence[Cited]) -> None:
        """Follow the selection with the title, unless the State wrote a title of its own."""
        fresh = need_title(cited)
        if not self.title or self.title == self.auto_title:
            self.title = fresh
        self.auto_title = fresh

    def payload(self) -> JsonObject:
        """The fields the need services take (NeedCreate / NeedUpdate)."""
        return {
            "title": self.title,
            "description": self.description,
            "recommendation_ids": self.chosen,
            "languages": self.languages,
            "modalities": self.modalities,
            "priority": self.priority,
            "visibility": self.visibility,
        }


def merge_drafts(drafts: Sequence[DraftView]) -> list[tuple[str, list[str]]]:
    """One draft per theme: the drafts of a theme split in several parts become one (at most 200 ids)."""
    merged: dict[str, list[str]] = {}
    for draft in drafts:
        ids = merged.setdefault(draft.theme, [])
        ids.extend(i for i in draft.recommendation_ids if i not in ids)
    items = [(theme, ids[:MAX_RECOMMENDATIONS]) for theme, ids in merged.items()]
    return sorted(items, key=lambda item: (-len(item[1]), item[0]))


# Sentences for the need form's mistakes (pydantic error type -> what to do).
LABELS: Mapping[str, str] = {
    "title": N_("The title"),
    "description": N_("The description"),
    "recommendation_ids": N_("Recommendations"),
    "languages": N_("Languages"),
    "modalities": N_("Kinds of help"),
    "priority": N_("Priority"),
    "visibility": N_("Who can see it"),
    "status": N_("Status"),
    "state": N_("State"),
}
MESSAGES: Mapping[tuple[str, str], str] = {
    ("recommendation_ids", "too_short"): N_("Tick at least one recommendation the need is about."),
    ("recommendation_ids", "too_long"): N_("A need may cite at most %(max)s recommendations; untick some."),
    ("title", "string_too_short"): N_("Give the need a title of at least 3 characters."),
    ("title", "missing"): N_("Give the need a title."),
    ("title", "string_too_long"): N_("Shorten the title to 200 characters or fewer."),
    ("description", "string_too_long"): N_("Shorten the description to 10,000 characters or fewer."),
}
