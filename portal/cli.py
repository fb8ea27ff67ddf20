"""The ``portal`` command.

Every subcommand works from any working directory. Errors a user can fix are
printed as one line on stderr with a non-zero exit, never a traceback.
"""

from __future__ import annotations

import sys

import click

from portal.config import ConfigError, load_settings


class PortalGroup(click.Group):
    def invoke(self, ctx: click.Context):
        from portal.services.errors import ServiceError, ValidationFailed

        try:
            return super().invoke(ctx)
        except ValidationFailed as exc:
            _fail(exc.one_line())
        except (ServiceError, ConfigError) as exc:
            _fail(str(exc))


def _fail(message: str, code: int = 1):
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def make_app():
    from portal import create_app

    return create_app()


def session_scope():
    """A unit of work for CLI commands, on a migrated database."""
    from portal import migrate
    from portal.db import transaction

    app = make_app()
    settings = app.config["PORTAL_SETTINGS"]
    if migrate.current_revision(app.extensions["portal.engine"]) != migrate.head_revision(
            settings.database_url):
        _fail("the database is not migrated to the current schema: run `portal db upgrade`")
    return app, transaction(app.extensions["portal.sessionmaker"])


@click.group(cls=PortalGroup)
def main() -> None:
    """Samspill: the university's collaboration portal with working life."""


# ---------------------------------------------------------------- database
@main.group(cls=PortalGroup)
def db() -> None:
    """Database schema migrations."""


@db.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Migrate the database up to REVISION (default: the newest)."""
    from portal import migrate

    settings = load_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    migrate.upgrade(settings.database_url, revision)
    click.echo(f"database at {migrate_current(settings)}")


@db.command("downgrade")
@click.argument("revision", default="-1")
def db_downgrade(revision: str) -> None:
    """Migrate the database down to REVISION (default: one step; 'base' for empty)."""
    from portal import migrate

    settings = load_settings()
    migrate.downgrade(settings.database_url, revision)
    click.echo(f"database at {migrate_current(settings) or 'base'}")


@db.command("current")
def db_current() -> None:
    """Print the database's migration revision and the newest one."""
    from portal import migrate

    settings = load_settings()
    click.echo(f"current: {migrate_current(settings) or 'base'}")
    click.echo(f"head: {migrate.head_revision(settings.database_url)}")


def migrate_current(settings) -> str | None:
    from portal import migrate
    from portal.db import make_engine

    engine = make_engine(settings.database_url)
    try:
        return migrate.current_revision(engine)
    finally:
        engine.dispose()


# ---------------------------------------------------------------- serve
@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int)
@click.option("--demo", is_flag=True, help="Seed demo data once (a no-op if already seeded).")
def serve(host: str, port: int, threads: int, demo: bool) -> None:
    """Run the portal on a production WSGI server (waitress)."""
    import waitress

    from portal import migrate

    settings = load_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    # Idempotent: an empty data dir is migrated, a current one is left alone.
    migrate.upgrade(settings.database_url)
    from portal import logs

    logs.to_terminal()
    app = make_app()
    if demo:
        from portal.services.demo import seed_demo

        result = seed_demo(app.extensions["portal.sessionmaker"], settings=settings)
        click.echo(result.summary())
    from portal.search_sync import apply_pending

    # Bring the search index up to date (built on first start) before serving.
    apply_pending(app, lock_timeout=60)
    scheduler = None
    if settings.scheduler:
        from portal.jobs import Scheduler

        # Behind the database lease: of several serve/worker processes one runs the jobs.
        scheduler = Scheduler(app)
        scheduler.start()
    click.echo(f"Samspill on http://{host}:{port}/ (data in {settings.data_dir})")
    try:
        waitress.serve(app, host=host, port=port, threads=threads, ident="samspill")
    finally:
        if scheduler is not None:
            scheduler.stop(wait=False)


def _register_feature_commands() -> None:
    # Feature commands live beside their services; each module adds its own.
    import importlib

    for name in ("portal.commands.users", "portal.commands.demo", "portal.commands.importing",
                 "portal.commands.search", "portal.commands.academic",
                 "portal.commands.indicators", "portal.commands.jobs",
                 "portal.commands.privacy"):
        importlib.import_module(name).register(main)


_register_feature_commands()
