"""`portal privacy` commands."""

from __future__ import annotations

import click


def register(main: click.Group) -> None:
    """Filled in by the privacy feature."""
