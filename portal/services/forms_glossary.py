"""The terminology bridge: canonical collaboration forms and their local words.

The shipped default is ``portal/data/collaboration_forms.json`` (GLOSSARY.md's
table). A coordinator-edited copy may be passed as ``path`` (for example one
kept in the data directory); the file is read once per path and cached.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from portal.paths import DATA_DIR

DEFAULT_PATH = DATA_DIR / "collaboration_forms.json"


@dataclass(frozen=True)
class FormEntry:
    form: str
    kind: str  # "opportunity" | "recorded"
    nb: tuple[str, ...]
    en: tuple[str, ...]

    @property
    def words(self) -> tuple[str, ...]:
        return self.nb + self.en


@dataclass(frozen=True)
class Glossary:
    entries: tuple[FormEntry, ...]
    by_label: dict[str, str]

    def entry(self, form: str) -> FormEntry | None:
        return next((e for e in self.entries if e.form == form), None)

    def forms(self, kind: str | None = None) -> tuple[str, ...]:
        return tuple(e.form for e in self.entries if kind is None or e.kind == kind)


def _normal(label: str) -> str:
    return re.sub(r"\s+", " ", label.replace("_", " ")).strip().casefold()


@lru_cache(maxsize=8)
def _load(path: str) -> Glossary:
    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    entries, by_label = [], {}
    for row in raw["forms"]:
        entry = FormEntry(row["form"], row["kind"], tuple(row.get("nb", ())),
                          tuple(row.get("en", ())))
        if entry.kind not in ("opportunity", "recorded"):
            raise ValueError(f"{path}: form {entry.form} has unknown kind {entry.kind!r}")
        entries.append(entry)
        by_label.setdefault(_normal(entry.form), entry.form)
        for word in entry.words:
            by_label.setdefault(_normal(word), entry.form)
    return Glossary(tuple(entries), by_label)


def load(path: str | Path | None = None) -> Glossary:
    return _load(str(path or DEFAULT_PATH))


def canonical_form_for_label(label: str | None, *, path: str | Path | None = None) -> str | None:
    """The canonical form a local word means (case-insensitive), or None if unknown.

    The canonical names themselves are accepted too (``guest_lecture``,
    ``guest lecture``).
    """
    if not label or not label.strip():
        return None
    return load(path).by_label.get(_normal(label))


def kind_of(form: str, *, path: str | Path | None = None) -> str | None:
    entry = load(path).entry(form)
    return entry.kind if entry is not None else None


def synonyms(form: str, *, path: str | Path | None = None) -> tuple[str, ...]:
    entry = load(path).entry(form)
    return entry.words if entry is not None else ()
