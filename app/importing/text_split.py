"""Recommendation texts as OHCHR publishes them: HTML, a paragraph number, the recommending States.

A published recommendation reads ``115.6 Ratify the ICRMW (Iran (Islamic Republic
of));`` and may come wrapped in HTML (``<p>...</p>``). `split_published` returns the
paragraph number (``115.6``), the text alone (``Ratify the ICRMW``) and the States
named in the trailing parentheses (``["Iran (Islamic Republic of)"]``), the way the
shared data set stores `paragraph`, `text` and `recommending_states`. Entries that
merge several States' recommendations (``A (France); B (Fiji);``) keep every part,
joined by "; ", and name every State.

A parenthesis is an attribution only when every name in it is a country the
resolver knows (or "(Unknown)"), so ``(ICRMW)`` or ``(2009-2014)`` stay in the text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from html.parser import HTMLParser

from app.reference.countries import resolve_iso3

UNRECORDED_NAMES = frozenset({"", "unknown", "(unknown)"})
_PARAGRAPH = re.compile(r"^\s*(\d{1,3}(?:\.\d{1,3}){1,3})\.?(?=\s)")
_BLOCK_TAGS = frozenset({"p", "br", "div", "li", "ul", "ol", "tr", "td", "h1", "h2", "h3", "h4", "h5", "h6"})
_NAME_SPLIT = re.compile(r"\s*,\s*|\s+(?:and|et|y)\s+|\s*;\s*")
# A country name (in the text's language) -> its ISO3 code, or None when it is not a country.
Resolver = Callable[[str], "str | None"]


def is_unrecorded(name: str) -> bool:
    """True for the names sources use when the recommending State is not recorded."""
    return " ".join(name.split()).casefold() in UNRECORDED_NAMES


class _TextOnly(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.pieces: list[str] = []

    def handle_data(self, data: str) -> None:
        self.pieces.append(data)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCK_TAGS:
            self.pieces.append(" ")


def strip_html(value: str) -> str:
    """The text of an HTML fragment (tags dropped, entities decoded), whitespace collapsed."""
    if "<" not in value and "&" not in value:
        return " ".join(value.split())
    if "<" not in value:
        return " ".join(html.unescape(value).split())
    parser = _TextOnly()
    parser.feed(value)
    parser.close()
    return " ".join("".join(parser.pieces).split())


def _trailing_group(text: str) -> tuple[str, str] | None:
    """(text before, content) of a balanced parenthesis closing the text, or None."""
    if not text.endswith(")"):
        return None
    depth = 0
    for index in range(len(text) - 1, -1, -1):
        char = text[index]
        if char == ")":
            depth += 1
        elif char == "(":
            depth -= 1
            if depth == 0:
                return text[:index].rstrip(), text[index + 1 : -1].strip()
    return None


def _as_states(content: str, resolve: Resolver) -> list[str] | None:
    """The names in an attribution's parentheses, or None when it is not one."""
    if is_unrecorded(content) or content.casefold() == "unknown":
        return [content]
    if resolve(content) is not None:
        return [content]
    names = [n for n in _NAME_SPLIT.split(content) if n]
    if names and all(resolve(n) is not None for n in names):
        return names
    return None


def _peel(text: str, resolve: Resolver) -> tuple[str, list[str]]:
    """Remove the attributions closing one recommendation; the names in reading order."""
    text = text.rstrip(" ;.")
    states: list[str] = []
    while True:
        found = _trailing_group(text)
        if found is None:
            break
        before, content = found
        names = _as_states(content, resolve)
        if names is None or not before:
            break
        states[:0] = names
        text = before.rstrip(" ;")
    return text, states


def _split_parts(text: str, resolve: Resolver) -> list[str]:
    """Cut a merged entry after each attribution followed by ";" (``A (France); B (Fiji)``)."""
    parts: list[str] = []
    start = 0
    for match in re.finditer(r"\)\s*;\s*", text):
        candidate = text[start : match.start() + 1]
        _, states = _peel(candidate, resolve)
        if states:
            parts.append(candidate)
            start = match.end()
    parts.append(text[start:])
    return [p for p in parts if p.strip(" ;.")]


def split_published(raw: str, resolve: Resolver = resolve_iso3) -> tuple[str | None, str, list[str]]:
    """(paragraph, text, recommending State names) of a published recommendation.

    `resolve` tells a country name from other words in parentheses: English and UN
    names by default; a French or Spanish text passes one that knows that language's
    names too (`app.reference.countries.resolver_for`).

    >>> split_published("<p>115.6 Ratify the ICRMW (Iran (Islamic Republic of));</p>")
    ('115.6', 'Ratify the ICRMW', ['Iran (Islamic Republic of)'])
    >>> split_published("62.6. Ratify the ICCPR (Poland) (Montenegro);")
    ('62.6', 'Ratify the ICCPR', ['Poland', 'Montenegro'])
    >>> split_published("88.4 Adopt the plan (2009-2014) (Portugal, Slovakia); Fund it (Fiji);")
    ('88.4', 'Adopt the plan (2009-2014); Fund it', ['Portugal', 'Slovakia', 'Fiji'])
    """
    text = strip_html(raw)
    paragraph = None
    match = _PARAGRAPH.match(text)
    if match:
        paragraph = match.group(1)
        text = text[match.end() :].strip()
    texts: list[str] = []
    states: list[str] = []
    for part in _split_parts(text, resolve):
        body, names = _peel(part.strip(), resolve)
        texts.append(body)
        for name in names:
            if name not in states:
                states.append(name)
    return paragraph, "; ".join(t for t in texts if t), states


__all__ = ["UNRECORDED_NAMES", "is_unrecorded", "split_published", "strip_html"]
