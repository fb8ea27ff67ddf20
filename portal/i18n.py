"""Translation helpers usable from services (no request needed).

Services mark messages with ``_l``; the string resolves in the active locale
when a page renders it, or in English (the source language) on the CLI.
"""

from flask_babel import gettext, lazy_gettext, ngettext

_l = lazy_gettext

__all__ = ["_l", "gettext", "lazy_gettext", "ngettext"]
