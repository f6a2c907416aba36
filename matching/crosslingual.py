"""Matching across languages: a French or Spanish text is read in English before it is ranked.

The ranking (TF-IDF over English stems, the theme tagger trained on English recommendations) reads
English. A text in French or Spanish is recognised (:func:`detect_language`, ``py3langid``, whose
model ships in its package) and its words are replaced by their English translations from a
:class:`Lexicon`: a table of French and Spanish word forms and their English translation, built
once, offline, by the Apertium machine-translation engine (:func:`build_lexicon`; ``upr-match
train`` writes it beside the tagger). Reading a text is then a dictionary look-up per word: no
translation engine runs while a request waits, and no text leaves the machine.

Text recognised as English (or as anything else) is returned unchanged, character for character: the
ranking of English text is exactly the ranking without this module.

Why words and not whole sentences: the ranking reads bags of words (stems, word n-grams, the
tagger's features), which word-for-word translation gives nearly as well as Apertium's full
translation, at a look-up's cost (docs/benchmarks/cross-language.md).

Examples
--------
>>> lexicon = Lexicon({"es": {"tortura": "torture", "policia": "police", "formar": "train"}})
>>> reader = CrossLingual(lexicon, detect=lambda text: "es")
>>> reader.english("Formar a la policía contra la tortura")
'train a la police contra la torture'
>>> CrossLingual(lexicon, detect=lambda text: "en").english("Train the police")
'Train the police'
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import shutil
import subprocess
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, Final

from matching.preprocessing import TOKEN_RE, fold_accents

__all__ = [
    "APERTIUM_PAIRS",
    "LEXICON_FILE",
    "TRANSLATED",
    "CrossLingual",
    "Lexicon",
    "LexiconError",
    "apertium_available",
    "apertium_translate",
    "build_lexicon",
    "detect_language",
]

#: The languages read through the lexicon (into English).
TRANSLATED: Final[tuple[str, ...]] = ("fr", "es")
#: The languages the detector chooses among: English and those it can read.
DETECTED: Final[tuple[str, ...]] = ("en", *TRANSLATED)
#: The file name of the lexicon beside the tagger (``MODEL_DIR``).
LEXICON_FILE: Final[str] = "crosslingual-lexicon.json.gz"
#: Apertium language pairs: English into Spanish, Spanish into French (the lexicon's sources), and back.
APERTIUM_PAIRS: Final[dict[str, tuple[str, ...]]] = {
    "en-es": ("eng-spa",),
    "es-fr": ("es-fr",),
    "es-en": ("spa-eng",),
    "fr-en": ("fr-es", "spa-eng"),  # French through Spanish: Apertium has no French-English pair
}
#: Fewer words than this and a text is not worth guessing the language of: it is read as written.
MIN_WORDS: Final[int] = 3
#: The detector's probability under which the language is not told (English false alarms score 0.65-0.75).
CONFIDENCE: Final[float] = 0.9
#: Word forms kept per language, most frequent first.
MAX_WORDS: Final[int] = 60_000
_CACHE_LIMIT: Final[int] = 4096
#: Words as written whose English is remembered, per language.
_WORDS_LIMIT: Final[int] = 500_000
#: Translated texts whose language is remembered (:meth:`CrossLingual.origin`): every French or Spanish need.
_ORIGIN_LIMIT: Final[int] = 200_000


class LexiconError(ValueError):
    """A lexicon file that cannot be read (names the file and what was wrong)."""


# --------------------------------------------------------------------------- language


_identifier: Any = None
_identifier_lock = threading.Lock()


def _langid() -> Any:
    """The ``py3langid`` identifier, restricted to :data:`DETECTED`, loaded once per process."""
    global _identifier
    with _identifier_lock:
        if _identifier is None:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier

            identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
            identifier.set_languages(list(DETECTED))
            _identifier = identifier
    return _identifier


def detect_language(text: str) -> str | None:
    """The language of ``text`` among English, French and Spanish (ISO 639-1), or None when it is too
    short to tell (fewer than :data:`MIN_WORDS` words), the detector is less sure than
    :data:`CONFIDENCE`, or it is not installed.

    Examples
    --------
    >>> detect_language("Ratifier le Protocole facultatif se rapportant à la Convention contre la torture")
    'fr'
    >>> detect_language("Ratificar el Protocolo Facultativo de la Convención contra la Tortura")
    'es'
    >>> detect_language("Ratify the Optional Protocol to the Convention against Torture")
    'en'
    >>> detect_language("Ratify OPCAT") is None
    True
    """
    if len(TOKEN_RE.findall(text)) < MIN_WORDS:
        return None
    try:
        identifier = _langid()
    except ImportError:
        return None
    language, probability = identifier.classify(text)
    return str(language) if probability >= CONFIDENCE else None


# --------------------------------------------------------------------------- the lexicon


def _key(word: str) -> str:
    return fold_accents(word.lower())


_SNOWBALL: Final[dict[str, str]] = {"fr": "french", "es": "spanish"}


@lru_cache(maxsize=8)
def _stemmer(language: str) -> Callable[[str], str]:
    """The Snowball stemmer of ``language`` (thread-safe: one per call under a lock), identity if none."""
    name = _SNOWBALL.get(language)
    if name is None:
        return str
    import snowballstemmer

    stemmer = snowballstemmer.stemmer(name)
    lock = threading.Lock()

    def stem(word: str) -> str:
        with lock:
            result: str = stemmer.stemWord(word)
        return result

    return stem


@dataclass(frozen=True)
class Lexicon:
    """French and Spanish word forms (lower case, accents folded) and their English translation.

    ``words[language][form]`` is the English of one word form (one or a few words); ``source`` says
    how it was built.
    """

    words: Mapping[str, Mapping[str, str]]
    source: Mapping[str, Any] = field(default_factory=dict)

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(sorted(self.words))

    @property
    def digest(self) -> str:
        """A short hash of the content: stored theme vectors are read again when it changes."""
        material = json.dumps(self.words, sort_keys=True, ensure_ascii=False).encode("utf-8")
        return hashlib.sha256(material).hexdigest()[:16]

    def translate(self, language: str, text: str) -> str:
        """``text`` with each word the lexicon knows in ``language`` replaced by its English.

        Words it does not know (names, acronyms such as OPCAT, numbers) are kept as written;
        punctuation and line breaks are kept, so sentences and clauses stay where they were.
        """
        table = self.words.get(language)
        if not table:
            return text
        known = self._known.setdefault(language, {})

        def one(match: re.Match[str]) -> str:
            word = match.group()
            found = known.get(word)
            if found is None:
                found = self._word(language, table, word)
                if len(known) < _WORDS_LIMIT:
                    known[word] = found
            return found

        return TOKEN_RE.sub(one, text)

    def _word(self, language: str, table: Mapping[str, str], word: str) -> str:
        """The English of one word as written: its form, else another form of the same stem, else itself."""
        key = _key(word)
        found = table.get(key)
        if found is None and len(key) > 3 and key.isalpha():
            found = self._stems[language].get(_stemmer(language)(key))  # "torturas", "formees"
        return word if found is None else found

    @cached_property
    def _known(self) -> dict[str, dict[str, str]]:
        """Per language, the words already looked up as written (a query's words repeat across requests)."""
        return {}

    @cached_property
    def _stems(self) -> dict[str, dict[str, str]]:
        """Per language, the Snowball stem of each known form and the English of the first such form in the
        table's order (alphabetical in a saved lexicon)."""
        out: dict[str, dict[str, str]] = {}
        for language, table in self.words.items():
            stem = _stemmer(language)
            by_stem: dict[str, str] = {}
            for form, english in table.items():
                by_stem.setdefault(stem(form), english)
            out[language] = by_stem
        return out

    def save(self, path: Path) -> Path:
        """Write the lexicon as gzipped JSON (written aside, then moved: a reader never sees half a file)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        body = json.dumps({"source": dict(self.source), "words": self.words}, ensure_ascii=False, sort_keys=True)
        partial = path.with_name(path.name + ".partial")
        partial.write_bytes(gzip.compress(body.encode("utf-8"), mtime=0))
        partial.replace(path)
        return path

    @classmethod
    def load(cls, path: Path) -> Lexicon:
        """Read a lexicon written by :meth:`save`; :class:`LexiconError` names the file and the fault."""
        try:
            data = json.loads(gzip.decompress(path.read_bytes()).decode("utf-8"))
        except (OSError, EOFError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise LexiconError(f"{path}: not a lexicon written by `upr-match train` ({exc})") from exc
        words = data.get("words") if isinstance(data, dict) else None
        if not isinstance(words, dict) or not all(
            isinstance(table, dict) and all(isinstance(v, str) for v in table.values()) for table in words.values()
        ):
            raise LexiconError(f"{path}: expected {{'words': {{language: {{word: english}}}}}}")
        return cls(words=words, source=data.get("source") or {})


class CrossLingual:
    """Reads a text in English: French and Spanish through the :class:`Lexicon`, anything else as written.

    Thread-safe; remembers the last few thousand texts it read (a need's text is read for each match).
    """

    def __init__(self, lexicon: Lexicon, *, detect: Callable[[str], str | None] = detect_language) -> None:
        self.lexicon = lexicon
        self._detect = detect
        self._cache: dict[str, tuple[str | None, str]] = {}
        self._origin: dict[str, str] = {}
        self._lock = threading.Lock()

    @property
    def digest(self) -> str:
        return self.lexicon.digest

    def read(self, text: str) -> tuple[str | None, str]:
        """(the detected language, the text in English): the text itself unless French or Spanish."""
        found = self._cache.get(text)
        if found is not None:
            return found
        language = self._detect(text) if text.strip() else None
        english = self.lexicon.translate(language, text) if language and language in self.lexicon.words else text
        with self._lock:
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[text] = (language, english)
            if language and language in self.lexicon.words and len(self._origin) < _ORIGIN_LIMIT:
                self._origin[english] = str(language)
        return language, english

    def origin(self, english: str) -> str | None:
        """The language a text this reader gave was read from (``"fr"``, ``"es"``); None for a text it did
        not translate (English, or never read here).

        >>> reader = CrossLingual(Lexicon({"es": {"tortura": "torture"}}), detect=lambda text: "es")
        >>> reader.origin(reader.english("la tortura")), reader.origin("the torture in prisons")
        ('es', None)
        """
        return self._origin.get(english)

    def english(self, text: str) -> str:
        return self.read(text)[1]

    def written(self, text: str, english: str) -> str:
        """The words of ``text`` that gave the English words ``english`` (a term of an explanation), as written.

        Each English word is looked up among the translations of ``text``'s own words; one no word gave
        stays in English. Text not read through the lexicon: ``english`` unchanged.

        >>> lexicon = Lexicon({"es": {"tortura": "torture", "fiscales": "prosecutors"}})
        >>> reader = CrossLingual(lexicon, detect=lambda t: "es")
        >>> reader.written("Formar a los fiscales contra la tortura", "prosecutors torture")
        'fiscales tortura'
        """
        language = self.read(text)[0]
        if not language or language not in self.lexicon.words:
            return english
        table = self.lexicon.words[language]
        gave: dict[str, str] = {}
        for word in TOKEN_RE.findall(text):
            for part in TOKEN_RE.findall(self.lexicon._word(language, table, word)):
                gave.setdefault(fold_accents(part).lower(), word)
        return TOKEN_RE.sub(lambda m: gave.get(fold_accents(m.group()).lower(), m.group()), english)


# --------------------------------------------------------------------------- building it with Apertium


def apertium_available() -> str | None:
    """None when Apertium and the pairs the lexicon needs are installed, else what is missing."""
    if shutil.which("apertium") is None:
        return "the `apertium` command is not installed (Debian: apertium apertium-eng-spa apertium-fr-es)"
    try:
        listed = subprocess.run(["apertium", "-l"], capture_output=True, text=True, timeout=30, check=True).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        return f"`apertium -l` failed: {exc}"
    have = set(listed.split())
    missing = sorted({mode for modes in APERTIUM_PAIRS.values() for mode in modes} - have)
    return f"Apertium lacks the language pairs {', '.join(missing)}" if missing else None


#: Texts are sent to Apertium as paragraphs (a blank line between two): it keeps them apart.
_SEPARATOR: Final[str] = "\n\n"


def apertium_translate(texts: Sequence[str], pair: str, *, chunk: int = 2000) -> list[str]:
    """``texts`` machine-translated by Apertium (``pair`` of :data:`APERTIUM_PAIRS`), one call per ``chunk``.

    Apertium's marks of unknown and doubtful words (``*``, ``#``, ``@``) are removed. Raises
    ``RuntimeError`` when Apertium fails or answers a different number of texts.
    """
    out = [" ".join(t.split()) for t in texts]
    for mode in APERTIUM_PAIRS[pair]:
        done: list[str] = []
        for start in range(0, len(out), chunk):
            part = out[start : start + chunk]
            run = subprocess.run(
                ["apertium", "-u", "-f", "txt", mode],
                input=_SEPARATOR.join(part),
                capture_output=True,
                text=True,
                check=False,
            )
            answers = [" ".join(a.split()) for a in run.stdout.strip("\n").split(_SEPARATOR)]
            if run.returncode != 0 or len(answers) != len(part):
                raise RuntimeError(
                    f"apertium {mode} answered {len(answers)} texts for {len(part)} (exit {run.returncode}): "
                    f"{run.stderr.strip()[:300]}"
                )
            done += answers
        out = done
    return out


def _forms(texts: Iterable[str]) -> list[str]:
    """The word forms of ``texts`` (lower case, letters only), most frequent first."""
    counts = Counter(w.lower() for t in texts for w in TOKEN_RE.findall(t) if w.isalpha() and len(w) > 1)
    return [w for w, _ in counts.most_common(MAX_WORDS)]


def build_lexicon(
    english_texts: Sequence[str],
    *,
    translate: Callable[[Sequence[str], str], list[str]] = apertium_translate,
    progress: Callable[[str], None] = lambda message: None,
) -> Lexicon:
    """The French and Spanish words of ``english_texts``' translations, each with its English.

    ``english_texts`` (the recommendations) are translated into Spanish and French; every word form
    of those translations is then translated back into English on its own. A form Apertium does not
    know keeps no entry (it is read as written).
    """
    progress(f"translating {len(english_texts):,} texts into Spanish")
    spanish = translate(english_texts, "en-es")
    progress("into French")
    french = translate(spanish, "es-fr")
    words: dict[str, dict[str, str]] = {}
    for language, texts, back in (("es", spanish, "es-en"), ("fr", french, "fr-en")):
        forms = _forms(texts)
        progress(f"{len(forms):,} {language} word forms back into English")
        answers = translate(forms, back)
        table: dict[str, str] = {}
        for form, answer in zip(forms, answers, strict=True):
            english = " ".join(w for w in TOKEN_RE.findall(answer.replace("*", "")) if w)
            key = _key(form)
            if english and key not in table and english.lower() != form:
                table[key] = english.lower()
        words[language] = table
    return Lexicon(words=words, source={"engine": "apertium", "texts": len(english_texts)})
