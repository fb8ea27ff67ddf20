"""What the index beside the data holds, relative to the search change log.

The index directory keeps the last applied change-log sequence number in a
small file, so the portal can tell how far behind the database it is.
"""

from __future__ import annotations

from pathlib import Path

SEQUENCE_FILE = "applied_seq"


def index_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "search-index"


def applied_sequence(data_dir: Path) -> int | None:
    path = index_dir(data_dir) / SEQUENCE_FILE
    try:
        return int(path.read_text().strip())
    except FileNotFoundError:
        return None
    except ValueError:
        return None


def describe(data_dir: Path, latest_change_seq: int) -> dict:
    applied = applied_sequence(data_dir)
    if applied is None:
        return {"state": "not_built", "applied_seq": None, "latest_seq": latest_change_seq,
                "pending": latest_change_seq}
    pending = max(latest_change_seq - applied, 0)
    return {"state": "current" if pending == 0 else "behind", "applied_seq": applied,
            "latest_seq": latest_change_seq, "pending": pending}
