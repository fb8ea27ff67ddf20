"""The bilingual subject thesaurus and the collaboration-form terminology bridge.

Both are used at *query* time (query expansion), so a word a coordinator adds
is effective at once and the index never needs rebuilding for it:

* ``data/thesaurus_nb_en.tsv``: subject terms, bokmål ↔ English, one concept a line;
* the canonical collaboration forms of GLOSSARY.md with their nb/en words, read
  from the portal's ``portal/data/collaboration_forms.json`` (the one table the
  indicators use too); a form word expands to every word of that form in both
  languages ("internship" → "praksisplass", "utplassering", …);
* optional extra synonyms (coordinators' words kept in the database), layered
  over the shipped files per query: see :meth:`Thesaurus.layered`.

Terms are matched on their words in three normal forms (as typed, bokmål stem,
English stem), so "praksisplasser", "internships" and "master's thesis" find
their entries without listing inflected forms.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

from .analysis import normalise, stem_en, stem_nb, words

DATA_DIR = Path(__file__).resolve().parent / "data"
THESAURUS_FILE = DATA_DIR / "thesaurus_nb_en.tsv"
LEVELS_FILE = DATA_DIR / "study_levels.tsv"
FORMS_FILE = Path(__file__).resolve().parent.parent / "portal" / "data" / "collaboration_forms.json"
MAX_TERM_WORDS = 6


@dataclass(frozen=True)
class Term:
    text: str
    lang: str | None  # "nb", "en", or None: search it in both languages


@dataclass(frozen=True)
class Concept:
    terms: tuple[Term, ...]
    form: str | None = None  # canonical collaboration form (glossary concepts)
    form_kind: str | None = None  # "opportunity" | "recorded"
    source: str = "thesaurus"  # "thesaurus" | "glossary" | "levels" | "extra"
    field: str | None = None
    level: str | None = None  # study level named by the concept (study_levels.tsv)


@dataclass(frozen=True)
class TokenForms:
    """One query word in the three forms thesaurus keys are made of."""

    raw: str
    nb: str
    en: str

    @classmethod
    def of(cls, word: str) -> TokenForms:
        return cls(word, stem_nb(word), stem_en(word))


def term_words(text: str) -> list[str]:
    return [w for w, _, _ in words(normalise(text))]


def _keys(text: str) -> set[tuple[str, ...]]:
    ws = term_words(text)
    if not ws or len(ws) > MAX_TERM_WORDS:
        return set()
    return {tuple(ws), tuple(stem_nb(w) for w in ws), tuple(stem_en(w) for w in ws)}


@dataclass(eq=False)  # compared and hashed by identity (the layering cache keys on it)
class Thesaurus:
    concepts: list[Concept]
    _index: dict[tuple[str, ...], list[int]] = field(default_factory=dict, repr=False)
    _max_len: int = 1

    def __post_init__(self):
        for i, concept in enumerate(self.concepts):
            for term in concept.terms:
                for key in _keys(term.text):
                    ids = self._index.setdefault(key, [])
                    if i not in ids:
                        ids.append(i)
                    self._max_len = max(self._max_len, len(key))

    def __len__(self) -> int:
        return len(self.concepts)

    def forms(self) -> dict[str, Concept]:
        return {c.form: c for c in self.concepts if c.form}

    def lookup(self, text: str) -> list[Concept]:
        """Concepts that have ``text`` (any inflection) as one of their terms."""
        ids: list[int] = []
        for key in _keys(text):
            ids.extend(i for i in self._index.get(key, ()) if i not in ids)
        return [self.concepts[i] for i in ids]

    def match_stem(self, term: str) -> list[Concept]:
        """Concepts with a one-word term whose stem (or plain form) is ``term``."""
        return [self.concepts[i] for i in self._index.get((term,), ())]

    def match(self, tokens: Sequence[TokenForms], start: int) -> tuple[int, list[Concept]]:
        """The longest run of words from ``start`` that is a term: (length, concepts).

        (0, []) when no term starts there.
        """
        for n in range(min(self._max_len, len(tokens) - start), 0, -1):
            span = tokens[start:start + n]
            ids: list[int] = []
            for key in (tuple(t.raw for t in span), tuple(t.nb for t in span),
                        tuple(t.en for t in span)):
                ids.extend(i for i in self._index.get(key, ()) if i not in ids)
            if ids:
                return n, [self.concepts[i] for i in ids]
        return 0, []

    def layered(self, extra) -> Thesaurus:
        """This thesaurus with extra synonyms on top (cached for repeated use).

        ``extra`` is either a mapping or an iterable of word groups:

        * ``{"placement": ["hospitering", "sommerpraksis"]}``: a key naming a
          canonical form adds the words to that form;
        * ``{"droneteknologi": ["UAV", "unmanned aerial vehicles"]}``: a key that
          is already a term adds the words to its concepts, otherwise the key
          and its words become a new concept;
        * a value may also be ``{"nb": [...], "en": [...]}`` to give languages;
        * ``[["ROV", "fjernstyrt undervannsfarkost"], …]``: each group is a concept.
        """
        frozen = _freeze_extra(extra)
        if not frozen:
            return self
        return _layer(self, frozen)


def _freeze_extra(extra) -> tuple:
    """A hashable, order-independent form of ``extra`` (for the cache)."""
    if not extra:
        return ()
    out = []
    items = extra.items() if isinstance(extra, Mapping) else ((None, g) for g in extra)
    for key, value in items:
        terms: list[tuple[str, str | None]] = []
        if isinstance(value, Mapping):
            for lang, ws in value.items():
                lang_ = lang if lang in ("nb", "en") else None
                terms.extend((str(w), lang_) for w in _as_list(ws))
        else:
            terms.extend((str(w), None) for w in _as_list(value))
        terms = [(w.strip(), lang) for w, lang in terms if w and str(w).strip()]
        k = str(key).strip() if key is not None else None
        if terms or k:
            out.append((k, tuple(sorted(set(terms), key=lambda t: (t[0], t[1] or "")))))
    return tuple(sorted(out, key=lambda x: (x[0] or "", x[1])))


def _as_list(value) -> list:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return list(value)


@lru_cache(maxsize=32)
def _layer(base: Thesaurus, frozen: tuple) -> Thesaurus:
    concepts = list(base.concepts)
    forms = {c.form: i for i, c in enumerate(concepts) if c.form}
    for key, terms in frozen:
        new_terms = tuple(Term(w, lang) for w, lang in terms)
        targets: list[int] = []
        if key is not None:
            norm = key.replace("_", " ").strip().casefold()
            if key in forms or norm.replace(" ", "_") in forms:
                targets = [forms.get(key, forms.get(norm.replace(" ", "_")))]
            else:
                found = base.lookup(key)
                targets = [i for i, c in enumerate(base.concepts) if any(c is f for f in found)]
        if targets:
            for i in targets:
                c = concepts[i]
                concepts[i] = replace(c, terms=c.terms + tuple(t for t in new_terms
                                                               if t not in c.terms))
        else:
            head = (Term(key, None),) if key else ()
            concepts.append(Concept(head + new_terms, source="extra"))
    return Thesaurus(concepts)


# --------------------------------------------------------------- loading
def read_tsv(path: str | Path) -> list[Concept]:
    """Concepts of a thesaurus file (format in the file's header)."""
    concepts = []
    for lineno, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        cols = line.split("\t")
        if len(cols) < 2:
            raise ValueError(f"{path}:{lineno}: expected 'nb<TAB>en[<TAB>field]'")
        nb = [t.strip() for t in cols[0].split("|") if t.strip()]
        en = [t.strip() for t in cols[1].split("|") if t.strip()]
        fld = cols[2].strip() if len(cols) > 2 and cols[2].strip() else None
        terms = tuple(Term(t, "nb") for t in nb) + tuple(Term(t, "en") for t in en)
        if terms:
            concepts.append(Concept(terms, field=fld))
    return concepts


def read_forms(path: str | Path) -> list[Concept]:
    """Collaboration-form concepts from the glossary file (GLOSSARY.md's table)."""
    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    concepts = []
    for row in raw["forms"]:
        form = row["form"]
        terms = (tuple(Term(w, "nb") for w in row.get("nb", ()))
                 + tuple(Term(w, "en") for w in row.get("en", ()))
                 + (Term(form.replace("_", " "), None),))
        concepts.append(Concept(terms, form=form, form_kind=row.get("kind"), source="glossary"))
    return concepts


def read_levels(path: str | Path) -> list[Concept]:
    """Study-level concepts: ``level<TAB>nb terms<TAB>en terms``."""
    concepts = []
    for lineno, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        cols = line.split("\t")
        if len(cols) < 3:
            raise ValueError(f"{path}:{lineno}: expected 'level<TAB>nb<TAB>en'")
        terms = tuple(Term(t.strip(), "nb") for t in cols[1].split("|") if t.strip()) + tuple(
            Term(t.strip(), "en") for t in cols[2].split("|") if t.strip())
        concepts.append(Concept(terms, source="levels", level=cols[0].strip()))
    return concepts


@lru_cache(maxsize=8)
def load(thesaurus_path: str | None = None, forms_path: str | None = None) -> Thesaurus:
    """The shipped thesaurus and glossary (cached per pair of paths)."""
    concepts = read_tsv(thesaurus_path or THESAURUS_FILE)
    concepts += read_levels(LEVELS_FILE)
    forms_file = Path(forms_path) if forms_path else FORMS_FILE
    if forms_file.exists():
        concepts += read_forms(forms_file)
    return Thesaurus(concepts)


def expand_words(text: str, extra=None) -> list[str]:
    """Every term that ``text`` expands to (for people and tests: what does X find?)."""
    th = load().layered(extra)
    out: list[str] = []
    for c in th.lookup(text):
        out.extend(t.text for t in c.terms if t.text not in out)
    return out


def iter_terms(concepts: Iterable[Concept]) -> Iterable[Term]:
    for c in concepts:
        yield from c.terms
