"""Where the project's own files live, independent of the working directory.

The portal is installed editable (``pip install -e .``), so the project root is
the parent of this package; templates, static files and migrations sit there
as DESIGN.md lays them out.
"""

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_DIR.parent
TEMPLATES_DIR = PROJECT_ROOT / "templates"
STATIC_DIR = PROJECT_ROOT / "static"
MIGRATIONS_DIR = PROJECT_ROOT / "migrations"
ALEMBIC_INI = PROJECT_ROOT / "alembic.ini"
DATA_DIR = PACKAGE_DIR / "data"
TRANSLATIONS_DIR = PACKAGE_DIR / "translations"
