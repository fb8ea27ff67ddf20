"""Every user-facing string has a Norwegian (bokmål) translation, compiled and current."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "portal" / "translations" / "nb" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")


def _extract(tmp_path) -> set[str]:
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "-q", "extract", "-F", "babel.cfg",
         "-k", "_l", "-k", "lazy_gettext", "-o", str(pot), "."],
        cwd=ROOT, check=True, capture_output=True,
    )
    with pot.open("rb") as fh:
        return {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fh) if m.id}


def test_every_message_is_translated_to_bokmal(tmp_path):
    wanted = _extract(tmp_path)
    with PO.open("rb") as fh:
        catalog = read_po(fh)
    translated = {
        (m.id if isinstance(m.id, str) else m.id[0])
        for m in catalog
        if m.id and m.string and (all(m.string) if isinstance(m.string, tuple) else True)
        and not m.fuzzy
    }
    missing = sorted(wanted - translated)
    assert not missing, f"{len(missing)} untranslated (run pybabel extract/update): {missing[:20]}"


def _key(value):
    return tuple(value) if isinstance(value, (list, tuple)) else value


def test_compiled_catalog_matches_po():
    with PO.open("rb") as fh:
        po = {_key(m.id): _key(m.string) for m in read_po(fh) if m.id and m.string and not m.fuzzy}
    with MO.open("rb") as fh:
        mo = {_key(m.id): _key(m.string) for m in read_mo(fh) if m.id}
    assert po == mo, "messages.mo is stale: run pybabel compile -d portal/translations"
