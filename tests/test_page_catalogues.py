"""The French and Spanish catalogues are complete: every message the pages mark is translated, none fuzzy,
and no template shows text that is not marked for translation."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from jinja2 import Environment

from app.web.i18n import LOCALE_DIR, PAGE_LANGUAGES
from app.web.templating import environment

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "app" / "templates"
TRANSLATED = [code for code in PAGE_LANGUAGES if code != "en"]
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def extracted() -> set[str]:
    """The msgids `make i18n` would extract now (babel.cfg's rules, read from babel.cfg), singular forms."""
    with (ROOT / "babel.cfg").open() as handle:
        method_map, options = parse_mapping_cfg(handle)
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
    ids = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options, keywords=keywords
    ):
        ids.add(message[0] if isinstance(message, tuple) else message)
    return ids


@pytest.fixture(scope="module")
def marked() -> set[str]:
    return extracted()


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_marked_message_is_in_the_catalogue_and_translated(language: str, marked: set[str]) -> None:
    with (LOCALE_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle, locale=language)
    entries = {(m.id[0] if isinstance(m.id, tuple) else m.id): m for m in catalog if m.id}
    missing = sorted(marked - entries.keys())
    assert not missing, f"{language}: not in the catalogue (run `make i18n`, then translate): {missing[:5]}"
    fuzzy = sorted(key for key, m in entries.items() if m.fuzzy)
    assert not fuzzy, f"{language}: fuzzy (check the translation, then remove the flag): {fuzzy[:5]}"
    forms = {key: (m.string if isinstance(m.string, tuple) else (m.string,)) for key, m in entries.items()}
    empty = sorted(key for key, strings in forms.items() if not all(strings))
    assert not empty, f"{language}: untranslated: {empty[:5]}"
    # A translation keeps the message's placeholders (a lost %(state)s would drop a State's name).
    for key, strings in forms.items():
        for string in strings:
            assert set(PLACEHOLDER.findall(string)) <= set(PLACEHOLDER.findall(key)) | {"num"}, (language, key)
            if not isinstance(entries[key].id, tuple):
                assert set(PLACEHOLDER.findall(string)) == set(PLACEHOLDER.findall(key)), (language, key)


def test_the_extraction_finds_the_pages_messages(marked: set[str]) -> None:
    """The extraction itself works, so an empty result can never pass the test above."""
    assert {"Skip to main content", "Find a State by name", "Recommendation to %(state)s"} <= marked


# Text a person reads: element text, and these attributes.
READ_ATTRIBUTES = {"title", "placeholder", "aria-label", "alt", "label", "aria-description"}
WORDS = re.compile(r"[A-Za-z]{2,}")
TRANS_BLOCK = re.compile(r"{%-?\s*trans\b.*?{%-?\s*endtrans\s*-?%}", re.S)
STATEMENT = re.compile(r"{%.*?%}|{#.*?#}", re.S)
EXPRESSION = re.compile(r"{{.*?}}", re.S)
# Calls whose string arguments are translated (or are formats, not words).
TRANSLATING = {"_", "gettext", "ngettext", "N_", "day"}


class _VisibleText(HTMLParser):
    """The words a template shows outside `{{ _() }}` and `{% trans %}` (expressions stand in as a NUL)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._hidden += tag in ("script", "style")
        read = [(name, value) for name, value in attrs if name in READ_ATTRIBUTES and value and WORDS.search(value)]
        self.found += [f'{tag} {name}="{value}"' for name, value in read]

    def handle_endtag(self, tag: str) -> None:
        self._hidden -= tag in ("script", "style")

    def handle_data(self, data: str) -> None:
        if not self._hidden and WORDS.search(data) and not data.strip().startswith("aria-"):
            self.found.append(" ".join(data.split()))


def unmarked_text(source: str) -> list[str]:
    """Element text and read attributes with words in them that no `_()` or `{% trans %}` marks."""
    markup = EXPRESSION.sub("\x00", STATEMENT.sub("", TRANS_BLOCK.sub("\x00", source)))
    parser = _VisibleText()
    parser.feed(markup)
    return parser.found


def unmarked_literals(source: str) -> list[str]:
    """String literals in `{{ }}` / `{% %}` that read as words (a capital or a space) and are not translated.

    Comparisons (`== 'planned'`), template names and the arguments of `_()`, `ngettext()` and `day()`
    are not words a page shows."""
    tokens = [t for t in Environment(extensions=["jinja2.ext.i18n"]).lex(source) if t[1] != "whitespace"]
    found = []
    for index, (line, kind, value) in enumerate(tokens):
        text = value[1:-1]
        if kind != "string" or not WORDS.search(text) or not re.search(r"[A-Z ]", text):
            continue
        before = [t[2] for t in tokens[max(0, index - 6) : index]]
        if before[-2:-1] and before[-2] in TRANSLATING and before[-1] == "(":
            continue
        if before and before[-1] == "," and "ngettext" in before:
            continue  # the plural form
        if before and before[-1] in ("==", "!=", "in", "import", "extends", "include", "from"):
            continue
        if before[-2:] == ["rel", "="]:
            continue
        found.append(f"line {line}: {value}")
    return found


@pytest.mark.parametrize("template", sorted(str(p.relative_to(TEMPLATES)) for p in TEMPLATES.rglob("*.html")))
def test_every_word_a_template_shows_is_marked_for_translation(template: str) -> None:
    environment.get_template(template)  # it compiles: a broken template is never "fully marked"
    source = (TEMPLATES / template).read_text(encoding="utf-8")
    unmarked = unmarked_text(source) + unmarked_literals(source)
    assert not unmarked, f"{template}: wrap in {{{{ _(...) }}}} or {{% trans %}}: {unmarked[:8]}"


def test_the_unmarked_text_check_finds_unmarked_text() -> None:
    """The check itself sees text, attributes and literals left in English, and passes marked ones."""
    source = (
        "<h1>Record an activity</h1><input placeholder=\"Your name\"> {{ m.summary(errors, 'Not saved') }}"
        '<p>{{ _("Marked") }}</p>{% trans n=1 %}Also {{ n }} marked{% endtrans %}'
        "{% if a == 'planned' %}{{ x|day('dd MMM y') }}{% endif %}"
    )
    assert unmarked_text(source) == ["Record an activity", 'input placeholder="Your name"']
    assert unmarked_literals(source) == ["line 1: 'Not saved'"]
