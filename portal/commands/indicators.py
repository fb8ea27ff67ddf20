"""``portal indicators …``: list the A2 indicators and export them (a stable contract)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import click


def register(main: click.Group) -> None:
    from portal.cli import PortalGroup

    @main.group(cls=PortalGroup)
    def indicators() -> None:
        """The A2 "Samspill" indicators (INDICATORS.md)."""

    @indicators.command("list")
    def list_() -> None:
        """Print each indicator's id, name, unit, measures and definition."""
        from portal.services.indicators import definitions

        for d in definitions():
            click.echo(f"{d['id']}\t{d['name']}\t({d['unit']})")
            click.echo(f"\tmeasures: {', '.join(d['measures'])}")
            click.echo(f"\t{d['definition']}")

    @indicators.command("export")
    @click.option("--from", "date_from", required=True, help="First day, YYYY-MM-DD.")
    @click.option("--to", "date_to", required=True, help="Last day (inclusive), YYYY-MM-DD.")
    @click.option("--by", default="", help="Breakdowns, comma-separated (e.g. faculty,form).")
    @click.option("--unit", default=None, help="Only events of this unit code (and below).")
    @click.option("--format", "fmt", type=click.Choice(["csv", "xlsx", "json"]),
                  default="csv", show_default=True)
    @click.option("--as-of", "as_of", type=int, default=None,
                  help="Reproduce an export that saw this last event id.")
    @click.option("--detailed", is_flag=True,
                  help="One row per counted collaboration (pseudonymised) instead of totals.")
    @click.option("--out", "out", required=True, type=click.Path(dir_okay=False),
                  help="The file to write.")
    def export(date_from, date_to, by, unit, fmt, as_of, detailed, out) -> None:
        """Export the indicators for a period; nothing is written on an error."""
        from portal.cli import session_scope
        from portal.services.indicator_exports import export as run_export

        target = Path(out)
        if not target.parent.exists():
            raise click.ClickException(f"no such directory: {target.parent}")
        app, unit_of_work = session_scope()
        with app.app_context(), unit_of_work as db:
            result, content = run_export(db, date_from=date_from, date_to=date_to, by=by,
                                         unit=unit, as_of=as_of, fmt=fmt, detailed=detailed)
        # Write atomically: a failure leaves no half-written file behind.
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".indicators-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(content)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        meta = result["meta"]
        click.echo(f"wrote {target} ({fmt}): period {meta['period']['from']}..."
                   f"{meta['period']['to']}, last event {meta['last_event_id']}, "
                   f"generated {meta['generated_at']}")
