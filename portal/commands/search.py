"""``portal search …``: query, rebuild and verify the search index (a stable contract)."""

from __future__ import annotations

import json
import sys

import click

from portal.models.vocab import OPPORTUNITY_KINDS, STUDY_LEVELS


def register(main: click.Group) -> None:
    from portal.cli import PortalGroup

    @main.group(cls=PortalGroup)
    def search() -> None:
        """Full-text search over published opportunities."""

    @search.command("query")
    @click.argument("text", default="")
    @click.option("--kind", type=click.Choice(OPPORTUNITY_KINDS))
    @click.option("--level", type=click.Choice(STUDY_LEVELS))
    @click.option("--lang", "language", type=click.Choice(["nb", "en"]))
    @click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 100))
    @click.option("--json", "as_json", is_flag=True, help="Print JSON: {total, results: [...]}.")
    def query(text, kind, level, language, limit, as_json):
        """Search for TEXT (empty: list by deadline)."""
        from portal.cli import session_scope
        from portal.search_sync import index_dir
        from portal.services.terminology import extra_synonyms
        from search_index.query import search as run_search

        app, unit = session_scope()
        with app.app_context(), unit as db:
            synonyms = extra_synonyms(db)
        filters = {k: v for k, v in (("kind", kind), ("level", level), ("language", language)) if v}
        result = run_search(index_dir(app), text, filters=filters, per_page=limit,
                            extra_synonyms=synonyms, facets=False)
        if result.notice == "no_index":
            raise click.ClickException("the search index is not built: run `portal search rebuild`")
        if as_json:
            click.echo(json.dumps(result.as_dict(), ensure_ascii=False))
            return
        if result.did_you_mean:
            click.echo(f"did you mean: {result.did_you_mean}")
        click.echo(f"{result.total} found")
        for h in result.hits:
            ext = f" [{h.external_id}]" if h.external_id is not None else ""
            click.echo(f"{h.score:8.3f}  {h.id}{ext}  {h.kind:<13}  {h.title}")

    @search.command("rebuild")
    def rebuild():
        """Build the index anew from the database."""
        from portal.cli import session_scope
        from portal.search_sync import directory_dir, index_dir
        from search_index import directory, indexer

        app, _unit = session_scope()
        with click.progressbar(length=0, label="indexing", file=sys.stderr) as bar:
            def progress(done: int, total: int) -> None:
                bar.length = total
                bar.update(done - bar.pos)

            n = indexer.rebuild(app.extensions["portal.sessionmaker"], index_dir(app),
                                progress=progress)
        click.echo(f"indexed {n} opportunities")
        d = directory.rebuild_directory(app.extensions["portal.sessionmaker"], directory_dir(app))
        click.echo(f"indexed {d} organisations, units and courses in the directory")

    @search.command("verify")
    def verify():
        """Count entities whose indexed state differs from the database (exit 1 if any)."""
        from portal.cli import session_scope
        from portal.search_sync import directory_dir, index_dir
        from search_index import directory, indexer

        app, _unit = session_scope()
        source = app.extensions["portal.sessionmaker"]
        found = indexer.drift(source, index_dir(app))
        in_directory = directory.directory_drift(source, directory_dir(app))
        total = found.count + in_directory
        click.echo(f"drift: {total} (missing {len(found.missing)}, extra {len(found.extra)}, "
                   f"stale {len(found.stale)}, directory {in_directory})")
        if total:
            sys.exit(1)
