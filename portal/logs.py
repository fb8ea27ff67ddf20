"""The portal's own log file, ``data_dir/logs/portal.log``.

It lives in the data directory so that account erasure can find and scrub it
(see ``portal.services.privacy``); what goes to stderr is the operator's.
"""

from __future__ import annotations

import logging
from pathlib import Path

from portal.config import Settings

LOGGER_NAME = "portal"
_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_handler: logging.FileHandler | None = None


def log_dir(settings: Settings) -> Path:
    return settings.data_dir / "logs"


def log_path(settings: Settings) -> Path:
    return log_dir(settings) / "portal.log"


def configure(settings: Settings) -> None:
    """Send the ``portal`` loggers to this data dir's log file (one file per process:
    a second app in the same process, as in tests, takes the handler over)."""
    global _handler
    logger = logging.getLogger(LOGGER_NAME)
    if not settings.log_file:
        return
    path = log_path(settings)
    if _handler is not None:
        if Path(_handler.baseFilename) == path:
            return
        logger.removeHandler(_handler)
        _handler.close()
    path.parent.mkdir(parents=True, exist_ok=True)
    _handler = logging.FileHandler(path, encoding="utf-8", delay=True)
    _handler.setFormatter(logging.Formatter(_FORMAT))
    logger.addHandler(_handler)
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.INFO)


def to_terminal() -> None:
    """Long-running commands (serve, worker) also log to stderr, through the root
    logger so that waitress and APScheduler share the one handler."""
    logging.basicConfig(level=logging.INFO, format=_FORMAT)


def release() -> None:
    """Close the file so it can be rewritten (erasure scrubs it in place)."""
    if _handler is not None:
        _handler.close()  # delay=True: reopened on the next record
