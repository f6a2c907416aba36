"""The controlled vocabulary of themes and of affected persons, and how every source label maps onto it.

One home for it: `themes.json` is read here only. Its themes are OHCHR's Universal Human Rights
Index (UHRI) themes with their codes ("A12", "Acceptance of international norms"); every label a
source uses (the 54 UPR Info issues, the UHRI themes of cycles 3-4, the coded themes of cycle 2)
maps to one or more codes, each row saying how it was decided. The affected persons are one list
of groups, with the variants that are not mere spellings mapped onto it.

Two labels are the same label when they differ only by case, "&" or "and", punctuation or
spacing (`label_key`): "Budget &resources" is "Budget & resources", "women" is "Women". Importers
store the one spelling of each label (`theme_label`, `affected_groups`); the stored theme labels
stay what the ranking reads, and the index the filters and facets use holds the codes
(`theme_index_values`). What people see and filter on is the controlled list.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

THEMES_FILE = Path(__file__).resolve().parent / "themes.json"
CODE = re.compile(r"^[A-H][0-9]{1,2}$")
# A label printed code first, as OHCHR's matrices do: "A12 Acceptance of international norms".
_CODED_LABEL = re.compile(r"^\s*([A-Ha-h][0-9]{1,2})\s+\S")
_NOT_WORD = re.compile(r"[^0-9a-z]+")
_AMPERSAND = re.compile(r"\s*&\s*")
#: The scheme whose spellings are kept as they are: its labels are the theme tagger's classes.
RANKING_SCHEME = "upr_info_issues"


@dataclass(frozen=True, slots=True)
class ControlledTheme:
    """One theme of the controlled list."""

    code: str
    label: str
    group: str
    source: str


@dataclass(frozen=True, slots=True)
class _Vocabulary:
    themes: Mapping[str, ControlledTheme]  # code -> theme, in the file's order
    codes_by_key: Mapping[str, tuple[str, ...]]  # label key -> codes
    spelling_by_key: Mapping[str, str]  # label key -> the one stored spelling
    groups: tuple[str, ...]  # the controlled affected persons, sorted
    groups_by_key: Mapping[str, tuple[str, ...]]  # label key -> controlled groups


def label_key(label: str) -> str:
    """What two spellings of one label share: case-folded, "&" read as "and", punctuation and spacing dropped.

    >>> label_key("Budget &resources") == label_key("budget and Resources")
    True
    """
    text = _AMPERSAND.sub(" and ", label.casefold())
    return " ".join(_NOT_WORD.sub(" ", text).split())


def clean_label(label: str) -> str:
    """A label with its spacing made regular: single spaces, one space either side of "&"."""
    return " ".join(_AMPERSAND.sub(" & ", label).split())


def _file() -> Any:
    with open(THEMES_FILE, encoding="utf-8") as handle:
        return json.load(handle)


@lru_cache(maxsize=1)
def _vocabulary() -> _Vocabulary:
    data = _file()
    themes = {t["code"]: ControlledTheme(t["code"], t["label"], t["group"], t["source"]) for t in data["themes"]}
    rows: list[dict[str, Any]] = data["mapping"]
    codes: dict[str, tuple[str, ...]] = {}
    spelling: dict[str, str] = {}
    # One spelling per label: the ranking scheme's own (its labels are the tagger's classes), then the
    # controlled label, then the first source row's.
    for row in rows:
        if row["scheme"] == RANKING_SCHEME:
            spelling.setdefault(label_key(row["label"]), row["label"])
    for theme in themes.values():
        codes[label_key(theme.label)] = (theme.code,)
        spelling.setdefault(label_key(theme.label), theme.label)
    for row in rows:
        key = label_key(row["label"])
        codes[key] = tuple(dict.fromkeys([*codes.get(key, ()), *row["codes"]]))
        spelling.setdefault(key, row["label"])
    groups = tuple(sorted(str(g) for g in data["affected_persons"]))
    by_key: dict[str, tuple[str, ...]] = {label_key(g): (g,) for g in groups}
    for row in data["affected_persons_mapping"]:
        by_key[label_key(row["label"])] = tuple(row["to"])
    return _Vocabulary(
        MappingProxyType(themes), MappingProxyType(codes), MappingProxyType(spelling), groups, MappingProxyType(by_key)
    )


def controlled_themes() -> tuple[ControlledTheme, ...]:
    """The controlled themes, in the order of the UHRI list."""
    return tuple(_vocabulary().themes.values())


def is_code(value: str) -> bool:
    """Whether a value is a code of the controlled list ("A12", "a12")."""
    code = value.strip().upper()
    return bool(CODE.match(code)) and code in _vocabulary().themes


def theme_codes(label: str) -> tuple[str, ...]:
    """The controlled codes a label (a code, a controlled label or any source's label) maps to; () if unknown."""
    if is_code(label):
        return (label.strip().upper(),)
    found = _vocabulary().codes_by_key.get(label_key(label), ())
    if not found:
        coded = _CODED_LABEL.match(label)
        if coded is not None and is_code(coded.group(1)):
            return (coded.group(1).upper(),)
    return found


def theme_label(label: str) -> str:
    """The one stored spelling of a source label ("Budget &resources" -> "Budget & resources (...)").

    A label printed code first ("A12 Acceptance of international norms") is stored as its code's controlled label.
    """
    vocabulary = _vocabulary()
    spelling = vocabulary.spelling_by_key.get(label_key(label))
    if spelling is not None:
        return spelling
    coded = _CODED_LABEL.match(label)
    if coded is not None and is_code(coded.group(1)):
        return vocabulary.themes[coded.group(1).upper()].label
    return clean_label(label)


def theme_labels(labels: Iterable[str]) -> list[str]:
    """`theme_label` of each, each once, in order."""
    return list(dict.fromkeys(theme_label(label) for label in labels if label.strip()))


def theme_index_values(labels: Iterable[str]) -> list[str]:
    """What the theme index holds for a record's labels: their codes, or the label itself when it maps to none."""
    found: list[str] = []
    for label in labels:
        found += theme_codes(label) or (theme_label(label),)
    return list(dict.fromkeys(found))


def resolve_theme(value: str) -> tuple[str, ...]:
    """The index values a `theme=` filter value finds: a code, a controlled label or any source label."""
    return theme_codes(value) or (theme_label(value),)


def theme_name(value: str) -> str:
    """A theme index value in words: a code as its controlled label, any other value as it is."""
    theme = _vocabulary().themes.get(value)
    return theme.label if theme is not None else value


def shown_themes(labels: Iterable[str]) -> list[str]:
    """The controlled labels of a record's (or a profile's) theme labels, each once, in order."""
    return list(dict.fromkeys(theme_name(v) for v in theme_index_values(labels)))


def spellings_of(values: Iterable[str]) -> frozenset[str]:
    """Every known spelling (case-folded) of the labels indexed under these values: what free-text stores match."""
    return _spellings_of(tuple(sorted(set(values))))


@lru_cache(maxsize=512)
def _spellings_of(values: tuple[str, ...]) -> frozenset[str]:
    wanted = set(values)
    vocabulary = _vocabulary()
    found = {v.casefold() for v in wanted if v not in vocabulary.themes}
    labels = [*vocabulary.spelling_by_key.values(), *(str(r["label"]) for r in _file()["mapping"])]
    labels += [t.label for t in vocabulary.themes.values()]
    found.update(label.casefold() for label in labels if wanted & set(theme_index_values([label])))
    return frozenset(found)


@lru_cache(maxsize=1)
def _primary_issues() -> Mapping[str, tuple[str, ...]]:
    """Code -> the ranking scheme's labels whose first code it is ("D25" -> Torture and other CID treatment)."""
    found: dict[str, list[str]] = {}
    for row in _file()["mapping"]:
        if row["scheme"] == RANKING_SCHEME:
            found.setdefault(row["codes"][0], []).append(row["label"])
    return MappingProxyType({code: tuple(labels) for code, labels in found.items()})


def ranking_themes(labels: Iterable[str]) -> list[str]:
    """A provider's declared themes as the ranking reads them (the theme tagger's classes are UPR Info issues).

    A UPR Info issue, and any label that is not a controlled theme's code or label, stays as it is: every
    profile that declares those is ranked exactly as before. A controlled theme chosen on the profile form
    ("A12", "Acceptance of international norms") is read as the UPR Info issues filed first under it
    ("International instruments"); one no issue is filed first under stays as it is.
    """
    vocabulary = _vocabulary()
    controlled = {label_key(t.label): t.code for t in vocabulary.themes.values()}
    ranked: set[str] = {str(r["label"]) for r in _file()["mapping"] if r["scheme"] == RANKING_SCHEME}
    found: list[str] = []
    for label in labels:
        code = label.strip().upper() if is_code(label) else controlled.get(label_key(label))
        if label in ranked or code is None:
            found.append(label)
        else:
            found += _primary_issues().get(code, (label,))
    return list(dict.fromkeys(found))


@dataclass(frozen=True, slots=True)
class ThemeChoice:
    """What a theme choice (ticked codes, typed labels) gives against the labels a profile had."""

    codes: list[str]  # the controlled themes chosen, in order: what the form shows ticked
    labels: list[str]  # the labels to store
    unknown: list[str]  # typed values that are no theme of the list


def choose_themes(posted: Iterable[str], existing: Iterable[str] = ()) -> ThemeChoice:
    """Read a theme choice: codes, controlled labels or any source's label; anything else is unknown.

    A label the profile had stays as it is while every controlled theme it maps to is still chosen (so a
    profile saved unchanged keeps exactly its labels, and ranks as before); a label outside the list that
    it had may be kept too. Each other chosen theme is stored as its controlled label.
    """
    had = list(dict.fromkeys(existing))
    codes: list[str] = []
    unknown: list[str] = []
    kept_free: list[str] = []
    for value in posted:
        text = clean_label(value)
        if not text:
            continue
        found = theme_codes(text)
        if found:
            codes += found
        elif text in had:
            kept_free.append(text)
        else:
            unknown.append(text)
    codes = list(dict.fromkeys(codes))
    kept = [label for label in had if theme_codes(label) and set(theme_codes(label)) <= set(codes)]
    covered = {code for label in kept for code in theme_codes(label)}
    labels = kept + kept_free + [theme_name(code) for code in codes if code not in covered]
    return ThemeChoice(codes, list(dict.fromkeys(labels)), list(dict.fromkeys(unknown)))


def theme_group(code: str) -> str | None:
    """The heading of the list a code stands under."""
    theme = _vocabulary().themes.get(code)
    return theme.group if theme is not None else None


def affected_persons() -> tuple[str, ...]:
    """The controlled groups of affected persons, sorted."""
    return _vocabulary().groups


def affected_group_labels(label: str) -> tuple[str, ...]:
    """The controlled groups a source's affected-persons label maps to (the label, spaced regularly, if none)."""
    found = _vocabulary().groups_by_key.get(label_key(label))
    if found:
        return found
    cleaned = clean_label(label)
    return (cleaned[:1].upper() + cleaned[1:],)


def affected_groups(labels: Iterable[str]) -> list[str]:
    """The controlled groups of a record's affected-persons labels, each once, in order."""
    found: list[str] = []
    for label in labels:
        if label.strip():
            found += affected_group_labels(label)
    return list(dict.fromkeys(found))


def mapping_rows() -> list[dict[str, object]]:
    """The mapping rows of the data file, as written (for the check script and the docs)."""
    rows: list[dict[str, object]] = _file()["mapping"]
    return rows


__all__ = [
    "ControlledTheme",
    "ThemeChoice",
    "affected_group_labels",
    "choose_themes",
    "affected_groups",
    "affected_persons",
    "clean_label",
    "controlled_themes",
    "is_code",
    "label_key",
    "mapping_rows",
    "ranking_themes",
    "resolve_theme",
    "spellings_of",
    "shown_themes",
    "theme_codes",
    "theme_group",
    "theme_index_values",
    "theme_label",
    "theme_labels",
    "theme_name",
]


@lru_cache(maxsize=1)
def _translated_labels() -> Mapping[str, Mapping[str, str]]:
    """label key of an English theme, group or affected-person label -> {language: label} (themes.json)."""
    data = _file()
    found: dict[str, dict[str, str]] = {}
    for theme in data["themes"]:
        found[label_key(theme["label"])] = {
            key.removeprefix("label_"): text for key, text in theme.items() if key.startswith("label_") and text
        }
    for code, labels in data.get("groups_translated", {}).items():
        found[label_key(data["groups"][code])] = dict(labels)
    for label, labels in data.get("affected_persons_translated", {}).items():
        found[label_key(label)] = dict(labels)
    return MappingProxyType(found)


def translated_label(label: str, language: str) -> str:
    """A controlled theme, theme group or affected-person label (or a theme code) in French or Spanish, from
    themes.json; the label itself in English or when the vocabulary has no translation of it."""
    if language == "en":
        return label
    english = theme_name(label.strip().upper()) if is_code(label) else label
    return _translated_labels().get(label_key(english), {}).get(language, english)
