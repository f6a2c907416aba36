"""Text preprocessing tuned for UPR recommendation text.

The pipeline, applied identically to corpus documents and to queries:

1. **Accent folding** (optional): Unicode NFKD decomposition, then combining
   marks are dropped, so ``"Côte d'Ivoire"`` and ``"cote d'ivoire"`` meet.
2. **Tokenisation** with :data:`TOKEN_PATTERN`: runs of letters/digits
   (``"OPCAT"``, ``"1325"``, ``"COVID"``), and numbers written with inner
   separators (``"2.5"``, ``"1,000"``) kept whole.  Hyphens and apostrophes
   split (``"non-discrimination"`` -> ``non``, ``discrimination``).
3. **Lower-casing and stop words**: English function words plus the
   boilerplate of UPR recommendations (:data:`UPR_BOILERPLATE`) are dropped,
   as are one-letter tokens (the ``s`` of ``"women's"``).
4. **Light stemming** with the Snowball English stemmer, so ``"tortured"``
   and ``"torture"`` both become ``tortur``.  Numbers are not stemmed.  Most
   acronyms pass through the stemmer unchanged (``opcat``, ``cedaw``) or
   lose a plural (``NHRIs`` -> ``nhri``, a rule of ours); the few it would mangle are listed
   in :data:`NO_STEM` and kept whole, whatever their case, so that
   ``"AIDS"`` does not become ``aid`` and ``"CÔTE D'IVOIRE"`` in capitals
   still meets ``"Côte d'Ivoire"``.

Word bigrams are built by the matcher from consecutive *kept* terms (stop
words removed first, as scikit-learn does), so ``"prevention of torture"``
yields the bigram ``"prevent tortur"``.

Terms are stems, which are not always words; that is why the matcher shows
explanation terms with the surface text of the *query* (see
:meth:`Analyzer.analyze_spans`).

Examples
--------
>>> a = Analyzer()
>>> a.analyze("Continue efforts to ratify the OPCAT and prevent torture")
['ratifi', 'opcat', 'prevent', 'tortur']
>>> a.analyze("Côte d'Ivoire") == a.analyze("cote d'ivoire")
True
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Collection
from typing import Final

__all__ = [
    "ENGLISH_STOP_WORDS",
    "NO_STEM",
    "UPR_BOILERPLATE",
    "UPR_STOP_WORDS",
    "TOKEN_PATTERN",
    "TOKEN_RE",
    "Analyzer",
    "fold_accents",
    "resolve_stop_words",
]

#: Regular expression for tokens: numbers with inner ``.``/``,`` separators,
#: or runs of letters and digits (no underscore).
TOKEN_PATTERN: Final[str] = r"\d+(?:[.,]\d+)+|[^\W_]+"
#: Compiled :data:`TOKEN_PATTERN`.
TOKEN_RE: Final[re.Pattern[str]] = re.compile(TOKEN_PATTERN)

#: English function words.  Hand-written rather than scikit-learn's list,
#: which also drops content words that matter here ("system", "fire",
#: "interest", "found", "bill", "computer"...).
ENGLISH_STOP_WORDS: Final[frozenset[str]] = frozenset(
    [
        "a",
        "about",
        "above",
        "across",
        "after",
        "afterwards",
        "again",
        "against",
        "all",
        "almost",
        "alone",
        "along",
        "already",
        "also",
        "although",
        "always",
        "am",
        "among",
        "amongst",
        "an",
        "and",
        "another",
        "any",
        "anyhow",
        "anyone",
        "anything",
        "anyway",
        "anywhere",
        "are",
        "around",
        "as",
        "at",
        "be",
        "became",
        "because",
        "become",
        "becomes",
        "becoming",
        "been",
        "before",
        "beforehand",
        "behind",
        "being",
        "below",
        "beside",
        "besides",
        "between",
        "beyond",
        "both",
        "but",
        "by",
        "can",
        "cannot",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "done",
        "down",
        "during",
        "each",
        "eg",
        "either",
        "else",
        "elsewhere",
        "etc",
        "even",
        "ever",
        "every",
        "everyone",
        "everything",
        "everywhere",
        "except",
        "few",
        "for",
        "former",
        "formerly",
        "from",
        "had",
        "has",
        "have",
        "having",
        "he",
        "hence",
        "her",
        "here",
        "hereafter",
        "hereby",
        "herein",
        "hereupon",
        "hers",
        "herself",
        "him",
        "himself",
        "his",
        "how",
        "however",
        "i",
        "ie",
        "if",
        "in",
        "inc",
        "indeed",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "latter",
        "latterly",
        "least",
        "less",
        "ltd",
        "many",
        "may",
        "me",
        "meanwhile",
        "might",
        "mine",
        "more",
        "moreover",
        "most",
        "mostly",
        "much",
        "must",
        "my",
        "myself",
        "namely",
        "neither",
        "never",
        "nevertheless",
        "next",
        "no",
        "nobody",
        "none",
        "noone",
        "nor",
        "not",
        "nothing",
        "now",
        "nowhere",
        "of",
        "off",
        "often",
        "on",
        "once",
        "one",
        "only",
        "onto",
        "or",
        "other",
        "others",
        "otherwise",
        "our",
        "ours",
        "ourselves",
        "out",
        "over",
        "own",
        "per",
        "perhaps",
        "please",
        "rather",
        "re",
        "same",
        "shall",
        "she",
        "should",
        "since",
        "so",
        "some",
        "somehow",
        "someone",
        "something",
        "sometime",
        "sometimes",
        "somewhere",
        "still",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "themselves",
        "then",
        "thence",
        "there",
        "thereafter",
        "thereby",
        "therefore",
        "therein",
        "thereupon",
        "these",
        "they",
        "this",
        "those",
        "though",
        "through",
        "throughout",
        "thru",
        "thus",
        "to",
        "together",
        "too",
        "toward",
        "towards",
        "under",
        "until",
        "up",
        "upon",
        "us",
        "very",
        "via",
        "was",
        "we",
        "well",
        "were",
        "what",
        "whatever",
        "when",
        "whence",
        "whenever",
        "where",
        "whereafter",
        "whereas",
        "whereby",
        "wherein",
        "whereupon",
        "wherever",
        "whether",
        "which",
        "while",
        "whither",
        "who",
        "whoever",
        "whole",
        "whom",
        "whose",
        "why",
        "will",
        "with",
        "within",
        "without",
        "would",
        "yet",
        "you",
        "your",
        "yours",
        "yourself",
        "yourselves",
    ]
)

# Boilerplate of UPR recommendations.  Chosen from document frequencies in the
# shared corpus (30,456 recommendations, counts in brackets): these words open
# or pad most recommendations ("Continue its efforts to take the necessary
# measures to ensure ...") and say nothing about the *topic*, which is what a
# provider of technical cooperation is matched on.  They would otherwise
# dominate short queries.  We drop surface forms (not stems), so that content
# words sharing a stem survive: "adoption" (of children), "statement",
# "measurement", "effectiveness" stay.  Words such as "ratify", "implement",
# "national", "human", "rights" carry meaning and are left to IDF.
UPR_BOILERPLATE: Final[frozenset[str]] = frozenset(
    [
        "continue",
        "continues",
        "continued",
        "continuing",
        "effort",
        "efforts",
        "measure",
        "measures",
        "ensure",
        "ensures",
        "ensured",
        "ensuring",
        "including",
        "include",
        "includes",
        "strengthen",
        "strengthens",
        "strengthened",
        "consider",
        "considers",
        "considered",
        "considering",
        "necessary",
        "adopt",
        "adopts",
        "adopted",
        "adopting",
        "take",
        "takes",
        "taken",
        "taking",
        "step",
        "steps",
        "further",
        "furthermore",
        "pursue",
        "pursues",
        "pursued",
        "pursuing",
        "intensify",
        "intensifies",
        "intensified",
        "intensifying",
        "state",
        "states",
        "country",
        "countries",
        "effective",
        "effectively",
        "particular",
        "particularly",
        "especially",
        "order",
        "view",
        "aimed",
        "aim",
        "aims",
        "accordance",
        "line",
        "regard",
        "regards",
        "regarding",
        "fully",
        "appropriate",
        "relevant",
        "possible",
        "make",
        "makes",
        "making",
        "undertake",
        "enhance",
        "enhancing",
        "redouble",
    ]
)
# Counts behind the list: continue 5571, measures 4263, ensure 4243,
# efforts 4200, including 2683, strengthen 2175, consider 1965, necessary 1399,
# effective 1356, adopt 1326, order 1217 ("in order to"), particular 1122,
# aimed 869, country 876, particularly 843, steps 818, accordance 806,
# fully 801, especially 774, view 746 ("with a view to"), line 724 ("in line
# with"), ensuring 655, appropriate 642, intensify 573, relevant 548,
# effectively 543, enhance 510, make 502, possible 451, step 445, regard 441,
# regarding 403.  ("state" is mostly "the State", "States parties".)

#: English function words plus UPR boilerplate: the ``stop_words="upr"`` set.
UPR_STOP_WORDS: Final[frozenset[str]] = ENGLISH_STOP_WORDS | UPR_BOILERPLATE

#: Words the stemmer must not touch: the all-capital tokens of the shared
#: corpus that Snowball would change (204 distinct all-capital tokens, these
#: are the ones it mangles: AIDS -> aid, ICPPED -> icp, OSCE -> osc...).
NO_STEM: Final[frozenset[str]] = frozenset({"aids", "unaids", "icpped", "iced", "osce", "napie"})

_CACHE_LIMIT: Final[int] = 1_000_000
_MISSING: Final = object()


def fold_accents(text: str) -> str:
    """Remove accents with NFKD decomposition (ASCII text is returned as is).

    Parameters
    ----------
    text : str
        Any text.

    Returns
    -------
    str
        ``text`` without combining marks.

    Examples
    --------
    >>> fold_accents("Côte d'Ivoire, Türkiye")
    "Cote d'Ivoire, Turkiye"
    """
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def resolve_stop_words(stop_words: str | Collection[str] | None) -> frozenset[str]:
    """Turn the ``stop_words`` parameter into a set of lower-case words.

    Parameters
    ----------
    stop_words : {"upr", "english"}, collection of str or None
        ``"upr"``: English plus UPR boilerplate; ``"english"``: English
        function words only; ``None``: keep every word; a collection: exactly
        those words (lower-cased).

    Returns
    -------
    frozenset of str

    Raises
    ------
    ValueError
        For an unknown string.

    Examples
    --------
    >>> "continue" in resolve_stop_words("upr"), "continue" in resolve_stop_words("english")
    (True, False)
    >>> sorted(resolve_stop_words(["Foo", "bar"]))
    ['bar', 'foo']
    """
    if stop_words is None:
        return frozenset()
    if isinstance(stop_words, str):
        if stop_words == "upr":
            return UPR_STOP_WORDS
        if stop_words == "english":
            return ENGLISH_STOP_WORDS
        raise ValueError(f"stop_words must be 'upr', 'english', None or a collection of words, got {stop_words!r}")
    return frozenset(str(w).lower() for w in stop_words)


class Analyzer:
    """Turn text into the list of unigram terms used by the matcher.

    The mapping from a surface token to its term is cached (tokens repeat a
    lot), so the per-token cost is one dictionary look-up.  The cache is only
    ever added to, which is safe for concurrent readers under CPython; it
    stops growing at one million entries.

    Parameters
    ----------
    stop_words : {"upr", "english"}, collection of str or None, default "upr"
        See :func:`resolve_stop_words`.
    strip_accents : bool, default True
        Fold accents with :func:`fold_accents`.
    stem : bool, default True
        Apply the Snowball English stemmer (package ``snowballstemmer``) to
        words that are not acronyms or numbers.

    Examples
    --------
    >>> Analyzer().analyze("NHRIs and the NHRI; tortured, torture; 1,000 victims; AIDS")
    ['nhri', 'nhri', 'tortur', 'tortur', '1,000', 'victim', 'aids']
    >>> Analyzer(stem=False, stop_words=None).analyze("The Tortured")
    ['the', 'tortured']
    """

    def __init__(
        self,
        stop_words: str | Collection[str] | None = "upr",
        strip_accents: bool = True,
        stem: bool = True,
    ) -> None:
        self.stop_words: frozenset[str] = resolve_stop_words(stop_words)
        self.strip_accents = bool(strip_accents)
        self.stem = bool(stem)
        self._cache: dict[str, str | None] = {}
        self._stem_word: Callable[[str], str] | None = _load_stemmer() if self.stem else None

    def __getstate__(self) -> dict[str, object]:
        state = self.__dict__.copy()
        state["_stem_word"] = None  # snowball stemmers are rebuilt on load
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._stem_word = _load_stemmer() if self.stem else None

    def normalize(self, text: str) -> str:
        """Fold accents if configured (case is kept, tokens decide it).

        Examples
        --------
        >>> Analyzer().normalize("Côte")
        'Cote'
        """
        return fold_accents(text) if self.strip_accents else text

    def term(self, token: str) -> str | None:
        """Return the term of one surface token, or ``None`` if it is dropped.

        Examples
        --------
        >>> a = Analyzer()
        >>> a.term("CEDAW"), a.term("Efforts"), a.term("girls"), a.term("s")
        ('cedaw', None, 'girl', None)
        """
        cached = self._cache.get(token, _MISSING)
        if cached is not _MISSING:
            return cached  # type: ignore[return-value]
        result = self._compute_term(token)
        if len(self._cache) < _CACHE_LIMIT:
            self._cache[token] = result
        return result

    def _compute_term(self, token: str) -> str | None:
        low = token.lower()
        if low in self.stop_words:
            return None
        if len(low) < 2 and not low.isdigit():
            return None
        if not low.isalpha() or self._stem_word is None or low in NO_STEM:
            return low  # numbers, mixed letters/digits, protected acronyms
        if len(token) >= 3 and token[-1] == "s" and token[:-1].isupper():
            return low[:-1]  # plural acronym: NHRIs, NGOs -> nhri, ngo
        stemmed: str = self._stem_word(low)
        return stemmed

    def analyze(self, text: str) -> list[str]:
        """Return the unigram terms of ``text`` in order (stop words removed).

        Parameters
        ----------
        text : str

        Returns
        -------
        list of str

        Examples
        --------
        >>> Analyzer().analyze("Take measures to combat trafficking in persons")
        ['combat', 'traffick', 'person']
        """
        if self.strip_accents and not text.isascii():
            text = fold_accents(text)
        get = self._cache.get
        out: list[str] = []
        append = out.append
        for token in TOKEN_RE.findall(text):
            term = get(token, _MISSING)
            if term is _MISSING:
                term = self.term(token)
            if term is not None:
                append(term)  # type: ignore[arg-type]
        return out

    def analyze_spans(self, text: str) -> tuple[str, list[tuple[str, int, int]]]:
        """Like :meth:`analyze`, also returning where each term was found.

        Returns
        -------
        normalized : str
            ``text`` after accent folding; spans index into it.
        spans : list of (term, start, end)

        Examples
        --------
        >>> norm, spans = Analyzer().analyze_spans("Prevention of torture")
        >>> [(t, norm[s:e]) for t, s, e in spans]
        [('prevent', 'Prevention'), ('tortur', 'torture')]
        """
        text = self.normalize(text)
        spans: list[tuple[str, int, int]] = []
        for m in TOKEN_RE.finditer(text):
            term = self.term(m.group())
            if term is not None:
                spans.append((term, m.start(), m.end()))
        return text, spans


def _load_stemmer() -> Callable[[str], str]:
    """Return the ``stemWord`` function of a Snowball English stemmer."""
    try:
        import snowballstemmer
    except ImportError as exc:  # pragma: no cover - dependency is declared
        raise ImportError(
            "stemming needs the 'snowballstemmer' package (pip install snowballstemmer), or pass stem=False"
        ) from exc
    stem_word: Callable[[str], str] = snowballstemmer.stemmer("english").stemWord
    return stem_word
