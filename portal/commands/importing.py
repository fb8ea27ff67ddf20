"""``portal import …``: bulk loads for administrators."""

from __future__ import annotations

import sys
from pathlib import Path

import click


def register(main: click.Group) -> None:
    from portal.cli import PortalGroup

    @main.group("import", cls=PortalGroup)
    def import_() -> None:
        """Bulk imports."""

    @import_.command("opportunities")
    @click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
    @click.option("--as", "as_email", default=None,
                  help="Administrator or coordinator to import as (default: the first admin).")
    def opportunities_cmd(file: Path, as_email: str | None) -> None:
        """Import and publish opportunities from a JSON Lines FILE (one object a line)."""
        from portal.cli import session_scope
        from portal.services import importer

        if not file.is_file():
            raise click.UsageError(f"no such file: {file}")
        lines = file.read_text(encoding="utf-8").splitlines()
        app, unit = session_scope()
        total = sum(1 for line in lines if line.strip())
        with app.app_context(), unit as db:
            actor = importer.default_actor(db, as_email)
            with click.progressbar(length=total, label="importing", file=sys.stderr) as bar:
                report = importer.import_opportunities(db, actor, lines, progress=bar.update)
        from portal.search_sync import sync_after_commit

        sync_after_commit(app)
        click.echo(f"imported {report.imported} opportunities "
                   f"({report.organisations_created} new organisations, unverified)")
