"""What the index beside the data holds, relative to the search change log.

The index directory keeps, next to the Whoosh files:

* ``applied_seq``: the last change-log sequence number applied (every change
  up to it is in the index, except the pending gaps below);
* ``pending_gaps.json``: sequence numbers below ``applied_seq`` that were not
  yet visible when it was written (a transaction that took its number earlier
  but committed later, on PostgreSQL); they are looked for again until they
  appear or time out (rolled back);
* ``indexer.lock``: held (``flock``) by the one process writing the index.

Files are replaced atomically (write to a temporary file, fsync, rename), so
a crash leaves either the old or the new content.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
from pathlib import Path

SEQUENCE_FILE = "applied_seq"
GAPS_FILE = "pending_gaps.json"
LOCK_FILE = "indexer.lock"


def index_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "search-index"


def applied_sequence(data_dir: Path) -> int | None:
    return read_applied_seq(index_dir(data_dir))


def describe(data_dir: Path, latest_change_seq: int) -> dict:
    applied = applied_sequence(data_dir)
    if applied is None:
        return {"state": "not_built", "applied_seq": None, "latest_seq": latest_change_seq,
                "pending": latest_change_seq}
    pending = max(latest_change_seq - applied, 0)
    return {"state": "current" if pending == 0 else "behind", "applied_seq": applied,
            "latest_seq": latest_change_seq, "pending": pending}


# --------------------------------------------------------------- files in the index directory
def read_applied_seq(ix_dir: str | Path) -> int | None:
    """The applied sequence number stored in ``ix_dir``, or None (never built)."""
    try:
        return int((Path(ix_dir) / SEQUENCE_FILE).read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def write_applied_seq(ix_dir: str | Path, seq: int) -> None:
    atomic_write(Path(ix_dir) / SEQUENCE_FILE, f"{int(seq)}\n")


def read_gaps(ix_dir: str | Path) -> dict[int, float]:
    """Pending gaps: sequence number → when it was first missed (epoch seconds)."""
    try:
        raw = json.loads((Path(ix_dir) / GAPS_FILE).read_text())
        return {int(k): float(v) for k, v in raw.items()}
    except (FileNotFoundError, ValueError, AttributeError):
        return {}


def write_gaps(ix_dir: str | Path, gaps: dict[int, float]) -> None:
    path = Path(ix_dir) / GAPS_FILE
    if not gaps:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        return
    atomic_write(path, json.dumps({str(k): v for k, v in sorted(gaps.items())}))


def atomic_write(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` so that readers see the old or the new file whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# --------------------------------------------------------------- one writer at a time
class IndexBusy(RuntimeError):
    """Another process holds the index writer lock."""


@contextlib.contextmanager
def writer_lock(ix_dir: str | Path, *, timeout: float | None = 60.0):
    """Hold the inter-process writer lock of ``ix_dir`` (an ``flock`` on a lock file).

    ``timeout`` seconds to wait (None: wait forever, 0: do not wait); raises
    :class:`IndexBusy` when it cannot be had. The lock is released by the
    kernel if the process dies, so a crash never leaves it stuck.
    """
    import fcntl

    path = Path(ix_dir)
    path.mkdir(parents=True, exist_ok=True)
    fd = os.open(path / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | (fcntl.LOCK_NB if deadline is not None else 0))
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise IndexBusy(f"another process is writing the search index in {path}") from None
                time.sleep(0.05)
        try:
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
