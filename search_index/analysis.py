"""Text analysis for Norwegian bokmål and English.

One tokenizer for both languages, then per language: lower case, stop words,
stemming (Whoosh's Snowball stemmers, with a few corrections for bokmål
below). The same plain functions analyse documents (through the Whoosh
analyzer classes at the bottom) and queries (``search_index.query``), so the
two can never drift apart.

Compounds (bokmål writes them as one word: "vannkraftverk", "helseteknologi")
are *not* split here. They are handled at query time by decompounding against
the index's own vocabulary (``search_index.query``): a query word is matched
against indexed words that start with it ("vannkraft" → "vannkraftverk") or
end with it ("sensor" → "trykksensor"). We chose that over subword n-gram
fields because n-grams multiply the postings written for every word (our
rebuild budget is ≥ 1,000 documents/s in pure Python), rank poorly (every
shared 4-gram looks like a match), and cannot tell a real compound boundary
from a coincidence; the vocabulary approach costs nothing at indexing time,
always uses the current vocabulary, and needs no shipped word list.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from whoosh.analysis import Token, Tokenizer
from whoosh.lang import stopwords_for_language
from whoosh.lang.snowball.english import EnglishStemmer
from whoosh.lang.snowball.norwegian import NorwegianStemmer

LANGUAGES = ("nb", "en")

# Letters and digits; "ph.d.", "e-helse", "master's" fall apart at the
# punctuation, identically in documents and queries.
_WORD_RE = re.compile(r"[^\W_]+", re.UNICODE)
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]")
MAX_TOKEN_CHARS = 60  # longer "words" are noise (hashes, base64); they are skipped

NB_STOPWORDS = frozenset(stopwords_for_language("no"))
EN_STOPWORDS = frozenset(stopwords_for_language("en")) | {"s"}
STOPWORDS = {"nb": NB_STOPWORDS, "en": EN_STOPWORDS}


def normalise(text: str) -> str:
    """NFKC, without control characters (queries arrive from anywhere)."""
    if not text:
        return ""
    return _CONTROL_RE.sub(" ", unicodedata.normalize("NFKC", text))


def words(text: str) -> list[tuple[str, int, int]]:
    """Lower-cased words with their character offsets in ``text``.

    Single letters are dropped (they come from "e-helse", "master's", initials);
    single digits are kept.
    """
    out = []
    for m in _WORD_RE.finditer(text):
        w = m.group().casefold()
        if (len(w) < 2 and not w.isdigit()) or len(w) > MAX_TOKEN_CHARS:
            continue
        out.append((w, m.start(), m.end()))
    return out


# --------------------------------------------------------------- stemming
class _NbSnowball(NorwegianStemmer):
    # Snowball's step 3 strips "-els" ("folkehelse" → "folkeh"), which hides
    # the compound head "helse"; we keep it ("folkehels", like "hels").
    _NorwegianStemmer__step3_suffixes = ("hetslov", "eleg", "elig", "elov", "slov", "leg",
                                         "eig", "lig", "lov", "ig")


_nb_snowball = _NbSnowball().stem
_en_snowball = EnglishStemmer().stem

_NB_SYNCOPE_EL = re.compile(r"([bcdfghjklmnpqrstvwxz])\1?el$")
_NB_CONS_R = re.compile(r"([bcdfghjklmnpqstvwxz])r$")
_EN_ISE = re.compile(r"(?<=[a-z]{3})is(e|ed|es|ing|ation|ations|er|ers)$")


@lru_cache(maxsize=200_000)
def stem_nb(word: str) -> str:
    """Bokmål stem: Snowball plus corrections for regular inflection it misses.

    * agent nouns and verbs: "lærere", "lærerne", "læreren" → "lærer" before stemming,
      "analyserer", "analysert" meet "analyse";
    * neuters in -a: "klimaet", "temaene" meet "klima", "tema";
    * Latin neuters: "museum" meets "museet"/"museer" ("muse"), "studium" meets "studier";
    * syncope: "legemiddel" meets "legemidler" ("legemidl"), "regel" meets "regler";
      "teater" meets "teatre", "vinter" meets "vintre".
    """
    w = word
    if len(w) >= 7 and w.endswith(("erne", "eren", "erer")):
        w = w[:-2]
    elif len(w) >= 6 and w.endswith("ere"):
        w = w[:-1]
    s = _nb_snowball(w)
    if len(s) >= 7 and s.endswith("er"):  # "analysert" → Snowball "analyser"
        s = s[:-2]
    elif len(s) >= 4 and s.endswith("a"):  # "klimaet" → "klima", like "klima" → "klim"
        s = s[:-1]
    if len(s) >= 6 and s.endswith("um"):
        s = s[:-2]
    if len(s) >= 5:
        m = _NB_SYNCOPE_EL.search(s)
        if m:
            s = s[: m.start()] + m.group(1) + "l"
        elif _NB_CONS_R.search(s):
            s = s[:-1]
    return s


@lru_cache(maxsize=200_000)
def stem_en(word: str) -> str:
    """English stem (Snowball/Porter2), British and American spellings merged."""
    w = word.replace("’", "'")
    if w.endswith("'s"):
        w = w[:-2]
    w = _EN_ISE.sub(r"iz\1", w)
    return _en_snowball(w)


STEMMERS = {"nb": stem_nb, "en": stem_en}


def stem(word: str, lang: str) -> str:
    return STEMMERS[lang](word)


def analyse(text: str, lang: str) -> list[str]:
    """Stems of the non-stop words of ``text`` in ``lang`` (the indexed terms)."""
    stops, fn = STOPWORDS[lang], STEMMERS[lang]
    return [fn(w) for w, _, _ in words(normalise(text)) if w not in stops]


def index_terms(text: str, lang: str | None) -> list[str]:
    """The terms of ``text`` in order (positions are list indexes): the fast path
    used when indexing. ``lang`` None: lower-cased words, no stop words removed,
    no stemming (names of organisations and places).

    Same result as :func:`analyse`/:func:`simple`, without character offsets.
    """
    if not text:
        return []
    ws = _WORD_RE.findall(normalise(text).casefold())
    if lang is None:
        return [w for w in ws if (len(w) > 1 or w.isdigit()) and len(w) <= MAX_TOKEN_CHARS]
    stops, fn = STOPWORDS[lang], STEMMERS[lang]
    return [fn(w) for w in ws
            if (len(w) > 1 or w.isdigit()) and len(w) <= MAX_TOKEN_CHARS and w not in stops]


def simple(text: str) -> list[str]:
    """Lower-cased words, no stemming: names of organisations and places."""
    return [w for w, _, _ in words(normalise(text))]


# --------------------------------------------------------------- Whoosh glue
class LanguageAnalyzer(Tokenizer):
    """Whoosh analyzer: tokenise, lower-case, drop stop words, stem — in one pass.

    One class instead of a Tokenizer | Filter chain: fewer generator layers
    when indexing, which matters for rebuild speed.
    """

    def __init__(self, lang: str = "nb", stemming: bool = True):
        if lang not in LANGUAGES:
            raise ValueError(f"unknown language {lang!r}")
        self.lang = lang
        self.stemming = stemming

    def __eq__(self, other):
        return (isinstance(other, LanguageAnalyzer) and self.lang == other.lang
                and self.stemming == other.stemming)

    def __hash__(self):
        return hash((self.lang, self.stemming))

    def __call__(self, value, positions=False, chars=False, keeporiginal=False,
                 removestops=True, start_pos=0, start_char=0, tokenize=True, mode="",
                 **kwargs):
        stops = STOPWORDS[self.lang] if self.stemming else ()
        fn = STEMMERS[self.lang] if self.stemming else None
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        text = normalise(value) if tokenize else value
        items = words(text) if tokenize else [(value.casefold(), 0, len(value))]
        pos = start_pos
        for w, s, e in items:
            if w in stops:
                if not removestops:
                    t.stopped = True
                    t.text = w
                    t.boost = 1.0
                    if positions:
                        t.pos = pos
                    if chars:
                        t.startchar, t.endchar = start_char + s, start_char + e
                    yield t
                continue
            t.stopped = False
            if keeporiginal:
                t.original = w
            t.text = fn(w) if fn else w
            t.boost = 1.0
            if positions:
                t.pos = pos
                pos += 1
            if chars:
                t.startchar, t.endchar = start_char + s, start_char + e
            yield t


def nb_analyzer() -> LanguageAnalyzer:
    return LanguageAnalyzer("nb")


def en_analyzer() -> LanguageAnalyzer:
    return LanguageAnalyzer("en")


def simple_analyzer() -> LanguageAnalyzer:
    return LanguageAnalyzer("nb", stemming=False)
