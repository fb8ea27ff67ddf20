"""``portal indicators …``: list the A2 indicators and export them (a stable contract)."""

from __future__ import annotations

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
        from portal.files import write_atomically

        write_atomically(target, content)
        meta = result["meta"]
        click.echo(f"wrote {target} ({fmt}): period {meta['period']['from']}..."
                   f"{meta['period']['to']}, last event {meta['last_event_id']}, "
                   f"generated {meta['generated_at']}")

    @indicators.group("denominators", cls=PortalGroup)
    def denominators() -> None:
        """Students, theses and academic FTE per unit and academic year (for normalising)."""

    @denominators.command("load")
    @click.argument("path", type=click.Path(dir_okay=False))
    def denominators_load(path) -> None:
        """Load FILE.csv (unit,year,students,theses,academic_fte; year 2024 = 2024/25).

        Every line is checked first; on any error nothing is written."""
        from portal.cli import session_scope
        from portal.services.denominators import load_csv

        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise click.ClickException(f"cannot read {path}: {exc}") from None
        app, unit_of_work = session_scope()
        with app.app_context(), unit_of_work as db:
            n = load_csv(db, text)
        click.echo(f"loaded {n} denominator line(s) from {path}")

    @denominators.command("list")
    def denominators_list() -> None:
        """Print the loaded denominators."""
        from portal.cli import session_scope
        from portal.services.denominators import list_denominators

        app, unit_of_work = session_scope()
        with app.app_context(), unit_of_work as db:
            rows = list_denominators(db)
            click.echo("unit\tyear\tstudents\ttheses\tacademic_fte\tloaded_at")
            for d in rows:
                click.echo(f"{d.unit_code}\t{d.year}/{(d.year + 1) % 100:02d}\t{d.students}\t"
                           f"{d.theses}\t{d.academic_fte}\t{d.loaded_at.isoformat()}")
