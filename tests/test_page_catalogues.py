"""The French and Spanish catalogues are complete: every message the pages mark is translated, none fuzzy."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from app.web.i18n import LOCALE_DIR, PAGE_LANGUAGES

ROOT = Path(__file__).resolve().parent.parent
TRANSLATED = [code for code in PAGE_LANGUAGES if code != "en"]
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def extracted() -> set[str]:
    """The msgids `make i18n` would extract now (babel.cfg's rules), singular forms."""
    method_map = [("app/web/**.py", "python"), ("app/http/**.py", "python"), ("app/templates/**.html", "jinja2")]
    options = {"app/templates/**.html": {"extensions": "jinja2.ext.i18n", "trimmed": "true"}}
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
