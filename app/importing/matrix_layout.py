"""OHCHR's matrix of recommendations (thematic list): one entry of the table, and its text layout.

After each review OHCHR publishes, per State under review, a table whose rows are
grouped under "Theme: A12 Acceptance of international norms" headings; each row is
one recommendation:

    Recommendation: 28.4 Continue working towards ratification of the ICCPR (New Zealand);
                    Accelerate the ratification of the ICCPR (Uruguay) (Mali);
                    Source of position: A/HRC/40/6/Add.1 - Para. 2
    Position:       Supported
    Full list of themes:
                    A12 Acceptance of international norms
                    D1 Civil & political rights - general measures of implementation
                    S16 SDG 16 - peace, justice and strong institutions
                    Affected persons:
                    - general

The page header names the review: "UPR of China (3rd Cycle – 31st session)".

`Entry` is one row's cells as lines; `convert_entry` makes it a record of the shared
schema (`core.build_record` checks it): id `<cycle>-<ISO3>-<paragraph>` (the shared
data's rule for rows with a paragraph number, so re-importing changes nothing), the
paragraph number, text and recommending States split off by `text_split` (an entry
that merges several States' recommendations stays one record naming every State, as
in the other importers), the position, the "Source of position" as the source
document, the theme lines as the source prints them, code first ("A12 Acceptance of
international norms", scheme `uhri_coded`), "S16 ..." lines as SDG 16 and the
"Affected persons" items as affected groups.

`text_entries` reads the same layout from plain text (a .txt, or the text of a
PDF): the cells one after the other, one per line, long lines possibly wrapped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from app.core.jsontypes import JsonObject
from app.importing.core import Record, build_record, expected_cycle
from app.importing.text_split import is_unrecorded, split_published
from app.importing.uhri import POSITIONS
from app.reference.countries import country_name, resolve_iso3, resolve_iso3_spaced

SOURCE = "ohchr_thematic_list"
THEME_SCHEME = "uhri_coded"
SOURCE_OF_POSITION = "source of position"
AFFECTED = ("affected persons", "groups of persons")
# "UPR of China (3rd Cycle – 31st session)", the page header of every matrix.
REVIEW_TITLE = re.compile(
    r"UPR\s+of\s+(?P<state>[^()\t]+?(?:\([^()]*\))?)\s*\(\s*(?P<cycle>\d{1,2})\s*(?:st|nd|rd|th)?\s+cycle\s*"
    r"[-\u2013\u2014,;]\s*(?P<session>\d{1,3})\s*(?:st|nd|rd|th)?\s+session\s*\)",
    re.IGNORECASE,
)
PARAGRAPH = re.compile(r"^\d{1,3}\.\d{1,3}(?:\.\d{1,3})?\.?\s")
# A theme line: its code (letter and digits, "S" alone for the SDGs in general) then its label.
THEME_LINE = re.compile(r"^[A-Z]\d{0,3}\s+\S")
SDG_LINE = re.compile(r"^S(\d{1,2})\b")
SDG_CELL = re.compile(r"^(?:S|SDG\s*)?(\d{1,2})\b", re.IGNORECASE)
# The table's header cells, one per line or on one line, repeated where a page breaks the table.
HEADER_CELLS = frozenset(
    {"recommendation", "position", "full list of themes", "assessment/comments on level of implementation", "sdgs"}
)
PAGE_LINE = re.compile(r"^page\s+\d+\s+of\s+\d+$", re.IGNORECASE)
EXPECTED_LAYOUT = (
    "the matrix of recommendations laid out as text: a header 'UPR of <State> (<n>th Cycle – <n>th session)', "
    "then per recommendation its paragraph number and text with the recommending State(s) in parentheses, "
    "a 'Source of position: <symbol> - Para. N' line, the position (Supported or Noted), its theme lines "
    "('A12 Acceptance of international norms') and 'Affected persons:' items"
)


@dataclass(frozen=True, slots=True)
class Review:
    """The review a matrix belongs to: State under review (ISO3 and name), cycle, session; None where unknown."""

    state: str | None = None
    state_name: str | None = None
    cycle: int | None = None
    session: int | None = None
    title: str | None = None  # the text the values were read from


@dataclass(slots=True)
class Entry:
    """One recommendation's cells, as lines: text, source of position, position, themes (and SDG column)."""

    number: int  # the table row, or the line the entry starts on
    text: list[str] = field(default_factory=list)
    source_of_position: str | None = None
    position: str | None = None
    themes: list[str] = field(default_factory=list)
    sdgs: list[str] = field(default_factory=list)


def read_title(text: str) -> Review | None:
    """The review named by a matrix's header ("UPR of China (3rd Cycle – 31st session)"), or None."""
    found = REVIEW_TITLE.search(" ".join(text.split()))
    if found is None:
        return None
    name = found.group("state").strip()
    return Review(
        state=resolve_iso3_spaced(name),
        state_name=name,
        cycle=int(found.group("cycle")),
        session=int(found.group("session")),
        title=found.group(0),
    )


def settle_review(found: Review | None, given: Review) -> tuple[Review | None, str | None]:
    """The review from the document, completed by the options; or why it cannot be known.

    An option that contradicts the document is an error (naming both), never a silent choice.
    """
    doc = found or Review()
    said = f"its header says {doc.title!r}" if doc.title else ""
    if doc.state_name and doc.state is None and given.state is None:
        return None, f"{said}, but {doc.state_name!r} is not a State the importer knows; give the `state` option"
    pairs = (
        ("state", doc.state, given.state),
        ("cycle", doc.cycle, given.cycle),
        ("session", doc.session, given.session),
    )
    conflicts = [
        f"the `{name}` option says {theirs}"
        for name, mine, theirs in pairs
        if mine is not None and theirs is not None and mine != theirs
    ]
    if conflicts:
        return None, f"{said}; {' and '.join(conflicts)}"
    state = doc.state or given.state
    session = doc.session or given.session
    cycle = doc.cycle or given.cycle or (expected_cycle(session) if session else None)
    missing = [n for n, v in (("state", state), ("session", session), ("cycle", cycle)) if v is None]
    if missing:
        where = "its header" if doc.title else "no header 'UPR of <State> (<n>th Cycle – <n>th session)'"
        return None, (
            f"the State under review, cycle and session could not all be read from the document ({where}); "
            f"give {', '.join(f'the `{m}` option' for m in missing)}"
        )
    assert state is not None and session is not None and cycle is not None
    name = doc.state_name if doc.state == state and doc.state_name else country_name(state)
    return Review(state, name, cycle, session, doc.title), None


def _clean(line: str) -> str:
    return " ".join(line.replace("\u00a0", " ").split())


def split_cell(lines: Iterable[str], entry: Entry) -> None:
    """The Recommendation cell: text lines up to the "Source of position:" line, which names the source document."""
    for raw in lines:
        line = _clean(raw)
        if not line:
            continue
        head, colon, rest = line.partition(":")
        if colon and head.strip().casefold() == SOURCE_OF_POSITION:
            entry.source_of_position = rest.strip()
        else:
            entry.text.append(line)


def _starts_entry(entry: Entry | None, state: str, line: str) -> bool:
    """Whether a line opening with a paragraph number starts the next entry, or continues a wrapped text.

    Inside a text, only when the text so far ends as a recommendation ends (";", "." or ")")
    and the number is of the same report section ("28.5" after "28.4"): a wrapped line may
    open with "186.185, 186.193" when the text cites earlier paragraphs.
    """
    if entry is None or state != "text":
        return True
    section = entry.text[0].split(".", 1)[0]
    return entry.text[-1].endswith((";", ".", ")")) and line.split(".", 1)[0] == section


def text_entries(lines: Iterable[tuple[int, str]]) -> Iterator[Entry | Review]:
    """The entries (and the review header, when found) of a matrix laid out as text lines.

    An entry starts at a line opening with a paragraph number (`_starts_entry`); its text runs to the
    "Source of position:" line; the next line is its position; the lines after it,
    up to the next entry or "Theme:" heading, are its themes and affected persons.
    """
    entry: Entry | None = None
    state = "text"
    title_found = False
    for number, raw in lines:
        line = _clean(raw)
        if not line or PAGE_LINE.match(line):
            continue
        if not title_found and (review := read_title(line)) is not None:
            title_found = True
            yield review
            continue
        if REVIEW_TITLE.search(line) or line.casefold() in HEADER_CELLS or line.startswith("Recommendation Position"):
            continue  # the page header and the table's header row, repeated on every page
        if line.startswith("Theme:") or (PARAGRAPH.match(line) and _starts_entry(entry, state, line)):
            if entry is not None:
                yield entry
            entry = None
            if line.startswith("Theme:"):
                continue
            entry, state = Entry(number, [line]), "text"
            continue
        if entry is None:
            continue  # before the first recommendation: titles, notes
        head, colon, rest = line.partition(":")
        if state == "text" and colon and head.strip().casefold() == SOURCE_OF_POSITION:
            entry.source_of_position, state = rest.strip(), "position"
        elif state == "text" and (line.casefold() in POSITIONS or (colon and head.strip().casefold() in AFFECTED)):
            # A position or the affected persons while the text runs: the "Source of position" line
            # is missing. The entry ends its text here (and is refused for it), so the next
            # recommendation is not read as the rest of this one.
            if line.casefold() in POSITIONS:
                entry.position = line
            else:
                entry.themes.append(line)
            state = "themes"
        elif state == "text":
            entry.text.append(line)
        elif state == "position":
            entry.position, state = line, "themes"
        else:
            entry.themes.append(line)
    if entry is not None:
        yield entry


def _themes(entry: Entry, problems: list[tuple[str, str]]) -> tuple[list[str], list[int], list[str]]:
    """(themes as printed, SDG goals, affected groups) of the theme lines; wrapped lines joined back."""
    themes: list[str] = []
    sdgs: list[int] = []
    groups: list[str] = []
    in_groups = False
    last: list[str] | None = None  # the list a wrapped line continues
    for line in entry.themes:
        head, colon, rest = line.partition(":")
        if colon and head.strip().casefold() in AFFECTED:
            in_groups, last = True, None
            line = rest.strip()
            if not line:
                continue
        if in_groups:
            if line[:1] in "-\u2013\u2022":
                groups.append(line.lstrip("-\u2013\u2022 ").strip())
                last = groups
            elif last is groups and groups:
                groups[-1] = f"{groups[-1]} {line}"
            else:
                groups.append(line)
                last = groups
            continue
        sdg = SDG_LINE.match(line)
        if sdg is not None:
            goal = int(sdg.group(1))
            if not 1 <= goal <= 17:
                problems.append(("sdgs", f"{line[:60]!r} names SDG {goal}; expected S1 to S17"))
            elif goal not in sdgs:
                sdgs.append(goal)
            last = None
        elif THEME_LINE.match(line):
            themes.append(line)
            last = themes
        elif last is themes and themes:
            themes[-1] = f"{themes[-1]} {line}"
        else:
            problems.append(
                (
                    "themes",
                    f"cannot read {line[:60]!r}; expected a theme line such as 'A12 Acceptance of international "
                    "norms', 'S16 SDG 16 - ...' or 'Affected persons:' followed by '- <group>' lines",
                )
            )
    for value in entry.sdgs:  # a separate SDG column: "S16", "SDG 16" or "16 - Peace, justice ..." per line
        column = SDG_CELL.match(_clean(value))
        if column is None or not 1 <= int(column.group(1)) <= 17:
            problems.append(("sdgs", f"cannot read {value[:60]!r}; expected an SDG such as 'S16' or 'SDG 16'"))
        elif int(column.group(1)) not in sdgs:
            sdgs.append(int(column.group(1)))
    return themes, sdgs, groups


def convert_entry(entry: Entry, review: Review) -> tuple[Record | None, list[tuple[str, str]]]:
    """One matrix entry as a stored record, or the problems found (each naming the paragraph)."""
    problems: list[tuple[str, str]] = []
    raw_text = " ".join(entry.text)
    lenient = resolve_iso3_spaced
    paragraph, text, names = split_published(raw_text, lenient)
    label = f"paragraph {paragraph}" if paragraph else "the recommendation"
    if paragraph is None:
        problems.append(("paragraph", f"{raw_text[:60]!r} does not open with a paragraph number such as '28.4'"))
    if not names:
        tail = raw_text.rstrip(" ;.")[-60:]
        problems.append(
            (
                "recommending_states",
                f"{label}: no recommending State the importer knows in the parentheses closing its text "
                f"(...{tail!r}); expected a State's name such as '(France)' or '(Iran (Islamic Republic of))'",
            )
        )
    position_raw = _clean(entry.position or "")
    response = POSITIONS.get(position_raw.casefold()) if position_raw else None
    if not position_raw:
        problems.append(("position", f"{label} has no position; expected Supported or Noted"))
    elif response is None:
        problems.append(("position", f"{label}: unknown position {position_raw[:60]!r}; expected Supported or Noted"))
    if entry.source_of_position is None:
        problems.append(
            ("source_of_position", f"{label} has no 'Source of position: <symbol> - Para. N' line after its text")
        )
    themes, sdgs, groups = _themes(entry, problems)
    if problems:
        return None, problems
    codes: list[str | None] = [None if is_unrecorded(n) else (resolve_iso3(n) or lenient(n)) for n in names]
    mapped: JsonObject = {
        "id": f"{review.cycle}-{review.state}-{paragraph}",
        "source": SOURCE,
        "cycle": review.cycle,
        "session": review.session,
        "state_under_review": review.state_name or review.state,
        "state_under_review_iso3": review.state,
        "recommending_states": names,
        "recommending_states_iso3": codes,
        "text": text,
        "response": response,
        "response_raw": position_raw.lower(),
        "themes": themes,
        "theme_scheme": THEME_SCHEME if themes else None,
        "sdgs": sdgs,
        "affected_groups": groups,
        "source_document": entry.source_of_position,
        "paragraph": paragraph,
    }
    record, errors = build_record(mapped)
    return record, [(f, f"{label}: {r}") for f, r in errors]


__all__ = [
    "EXPECTED_LAYOUT",
    "SOURCE",
    "THEME_SCHEME",
    "Entry",
    "Review",
    "convert_entry",
    "read_title",
    "text_entries",
]
