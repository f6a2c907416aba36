"""Why a partner fits, in words a diplomat can read, from the match service's structured explanation.

The match service explains each score with the shared themes, the shared terms
(each a lower-cased span of the asking text, strongest first) and one signal per
component (presence, language, kind of help, history). This module turns that
into what a page shows:

- the shared themes;
- at most three meaningful phrases: whole words of the asking text (not "ill" cut
  from "ill-treatment"), nothing spanning two sentences or a list ("child. trafficking",
  "economic, social"), no stop word or too-general word at either end, no phrase
  contained in a theme or in another phrase shown;
- separate, plain ticks: "works in Mexico", "works in Spanish", "offers training";
- a band (strong, good, possible) instead of a bare score.

Pure functions only: no request, no database, no framework.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from app.reference.languages import language_label
from app.reference.regions import REGION_LABELS, region_of
from app.reference.vocab import SCORE_GOOD as GOOD
from app.reference.vocab import SCORE_STRONG as STRONG
from app.services.matching import UPR_STOP_WORDS, fold_accents
from app.web.i18n import DEFAULT_LANGUAGE, N_, current_language, gettext, language_name, word_list
from app.web.labels import MODALITY_PHRASES, local_state_name, state_possessive

MAX_PHRASES = 3

# The score bands (strong, good, possible) are shared with the analytics: see app/reference/vocab.py.
BAND_SENTENCE = N_(
    "Strong means a score of 0.35 or more (about the best sixth of the partners suggested on the demo data), "
    "good 0.25 to 0.35 (about half of them), possible below 0.25."
)
BAND_LABELS = {"strong": N_("Strong match"), "good": N_("Good match"), "possible": N_("Possible match")}

# Words too general to say why two texts fit, even when both use them: the UPR's own
# vocabulary ("recommendations", "human rights") and words of any project description.
GENERAL_WORDS = frozenset(
    """
    area areas authorities authority based better bring building create creates drafted equal focus force
    general government help human improve improving independent independently international issue issues
    level levels match matter national nations need needs new opportunities person persons planned policies
    policy political programme programmes promote prompt promptly provide provides public recommendation
    recommendations related right rights standards support supported united work working works
    address addressing advice carry carrying combat combating eliminate enforcement federal prevent preventing
    raise raising sensitize sensitise young
    """.split()  # noqa: SIM905
)
_WORD_RE = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")
_SPLITS_RE = re.compile(r"[.;:!?,&()\[\]/]|\s[-–—]\s")


@dataclass(frozen=True, slots=True)
class Band:
    """A score in words."""

    name: str  # "strong", "good" or "possible"
    score: float

    @property
    def label(self) -> str:
        """The band in words, in the language of the request (app/http/middleware.py sets it)."""
        return gettext(BAND_LABELS.get(self.name, BAND_LABELS["possible"]))


def band_of(score: float) -> Band:
    """The band of a score: strong (>= STRONG), good (>= GOOD) or possible."""
    return Band("strong" if score >= STRONG else "good" if score >= GOOD else "possible", score)


@dataclass(frozen=True, slots=True)
class Reasons:
    """What the page says about one match."""

    themes: tuple[str, ...]
    phrases: tuple[str, ...]
    ticks: tuple[str, ...]
    band: Band


def _words(phrase: str) -> list[str]:
    return _WORD_RE.findall(phrase)


def _is_whole(phrase: str, folded_text: str) -> bool:
    """True when `phrase` occurs in the text as whole words (not followed by "-treatment", say)."""
    words = phrase.split()
    pattern = r"\s+".join(re.escape(w) for w in words)
    return re.search(rf"(?<![\w'’-]){pattern}(?![\w'’-]|-\w)", folded_text) is not None


def _acceptable(phrase: str, folded_text: str) -> bool:
    if _SPLITS_RE.search(phrase):
        return False  # spans two sentences, a list or a parenthesis
    words = _words(phrase)
    if not words or " ".join(words) != " ".join(phrase.split()):
        return False
    first, last = words[0], words[-1]
    if first in UPR_STOP_WORDS or last in UPR_STOP_WORDS:
        return False
    if first in GENERAL_WORDS or last in GENERAL_WORDS:
        return False
    if len(words) == 1 and (len(first) < 4 or first.isdigit() or first.endswith(("ed", "ly"))):
        return False  # a stray verb form ("carried" out of "carried out") or adverb says nothing alone
    return _is_whole(phrase, folded_text)


def meaningful_phrases(
    terms: Iterable[str], *, source: str, themes: Sequence[str] = (), limit: int = MAX_PHRASES
) -> list[str]:
    """At most `limit` phrases of `terms` (strongest first) a person can read as a reason.

    `source` is the text the terms were cut from (the asking side of the match).
    A longer phrase replaces the shorter ones it contains.

    >>> text = "Investigate complaints of torture or ill-treatment. Ratify the Convention against Torture."
    >>> terms = ["torture or ill", "ill", "ill-treatment. ratify", "convention against torture", "complaints"]
    >>> meaningful_phrases(terms, source=text)
    ['convention against torture', 'complaints']
    """
    folded_text = fold_accents(source).lower()
    covered = [fold_accents(t).lower() for t in themes]
    shown: list[str] = []
    for raw in terms:
        phrase = " ".join(fold_accents(raw).lower().split())
        if not phrase or not _acceptable(phrase, folded_text):
            continue
        if any(_contains(other, phrase) for other in [*shown, *covered]):
            continue
        shown = [p for p in shown if not _contains(phrase, p)]
        shown.append(phrase)
    return shown[:limit]


def _contains(longer: str, shorter: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(shorter)}(?!\w)", longer) is not None


# The ticks are built while a request is answered, so gettext() gives them in its language.


def presence_tick(value: float, state: str | None) -> str | None:
    """ "works in Mexico" (1), "works in Mexico's region (...)" (0.6), "works worldwide" (0.3)."""
    if value <= 0 or not state:
        return None
    if value >= 1:
        return gettext("works in %(place)s") % {"place": local_state_name(state)}
    if value >= 0.6:
        region = region_of(state)
        if region not in REGION_LABELS:
            return gettext("works in the region of %(state)s") % {"state": local_state_name(state)}
        where = gettext(REGION_LABELS[region])
        if current_language() == DEFAULT_LANGUAGE:  # English says "Mexico's region", a possessive no catalogue has
            return f"works in {state_possessive(state)} region ({where})"
        return gettext("works in the region of %(state)s (%(region)s)") % {
            "state": local_state_name(state),
            "region": where,
        }
    return gettext("works worldwide")


def language_tick(wanted: Iterable[str], offered: Iterable[str]) -> str | None:
    common = sorted({language_name(c, language_label(c)) for c in set(wanted) & set(offered)})
    return gettext("works in %(languages)s") % {"languages": word_list(common)} if common else None


def modality_tick(wanted: Iterable[str], offered: Iterable[str]) -> str | None:
    common = [m for m in MODALITY_PHRASES if m in set(wanted) & set(offered)]
    offers = word_list(gettext(MODALITY_PHRASES[m]) for m in common)
    return gettext("offers %(help)s") % {"help": offers} if common else None


def history_tick(value: float, state: str | None) -> str | None:
    if value >= 1 and state:
        return gettext("has cooperated with %(state)s") % {"state": local_state_name(state)}
    if value > 0:
        return gettext("has cooperated on these themes")
    return None


def reasons(
    *,
    score: float,
    themes: Sequence[str],
    terms: Sequence[str],
    signals: Mapping[str, float],
    source: str,
    state: str | None,
    wanted_languages: Iterable[str] = (),
    offered_languages: Iterable[str] = (),
    wanted_modalities: Iterable[str] = (),
    offered_modalities: Iterable[str] = (),
) -> Reasons:
    """Everything a page says about one match, from the service's explanation and the two sides' facts.

    `signals` maps each component that applied ("presence", "language", ...) to its value in [0, 1].
    """
    ticks = [
        presence_tick(signals["presence"], state) if "presence" in signals else None,
        language_tick(wanted_languages, offered_languages) if signals.get("language", 0) > 0 else None,
        modality_tick(wanted_modalities, offered_modalities) if signals.get("modality", 0) > 0 else None,
        history_tick(signals["history"], state) if "history" in signals else None,
    ]
    return Reasons(
        themes=tuple(themes),
        phrases=tuple(meaningful_phrases(terms, source=source, themes=themes)),
        ticks=tuple(t for t in ticks if t),
        band=band_of(score),
    )
