"""Submit a page's form as a browser would: the successful controls of the form, then the changes a person makes."""

from __future__ import annotations

from html.parser import HTMLParser


class _FormReader(HTMLParser):
    def __init__(self, action: str) -> None:
        super().__init__(convert_charrefs=True)
        self.action = action
        self.inside = False
        self.fields: list[tuple[str, str]] = []
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []
        self._textarea: str | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v or "") for k, v in attrs}
        if tag == "form":
            self.inside = a.get("action") == self.action and a.get("method", "get").lower() == "post"
            return
        if not self.inside:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind in {"checkbox", "radio"}:
                if "checked" in a:
                    self.fields.append((name, a.get("value", "on")))
            elif kind not in {"submit", "button", "image", "reset"}:
                self.fields.append((name, a.get("value", "")))
        elif tag == "select" and name:
            self._select, self._options = name, []
        elif tag == "option" and self._select is not None:
            self._options.append((a.get("value", ""), "selected" in a))
        elif tag == "textarea" and name:
            self._textarea, self._text = name, ""

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select" and self._select is not None:
            chosen = [v for v, selected in self._options if selected] or [v for v, _ in self._options[:1]]
            self.fields += [(self._select, v) for v in chosen]
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self.fields.append((self._textarea, self._text.removeprefix("\n")))
            self._textarea = None


def form_fields(html: str, action: str) -> list[tuple[str, str]]:
    """The name/value pairs the POST form with this action would send, as the page renders it."""
    reader = _FormReader(action)
    reader.feed(html)
    return reader.fields


def with_changes(
    fields: list[tuple[str, str]],
    *,
    set_: dict[str, str] | None = None,
    tick: list[str] | None = None,
    untick: list[str] | None = None,
    press: tuple[str, str] | None = None,
) -> list[tuple[str, str]]:
    """The fields after typing (`set_`), ticking and unticking recommendation boxes, and pressing a button."""
    out = [(k, v) for k, v in fields if k not in (set_ or {})]
    out += list((set_ or {}).items())
    out = [(k, v) for k, v in out if not (k == "recommendation_ids" and v in (untick or []))]
    out += [("recommendation_ids", v) for v in tick or []]
    if press:
        out.append(press)
    return out
