"""``portal demo``: seed the demo university and its partners (once)."""

from __future__ import annotations

import click


def register(main: click.Group) -> None:
    @main.command("demo")
    @click.option("--seed", default=1, show_default=True, type=int,
                  help="Random seed: the same seed gives the same data.")
    @click.option("--scale", type=click.Choice(["small", "medium", "large"]), default="medium",
                  show_default=True, help="How much data to make.")
    def demo(seed: int, scale: str) -> None:
        """Seed demo data into an empty database (a no-op if the demo is already there).

        Migrates the database first, so an empty data directory works. Demo
        logins: student@, partner@, staff@, courseleader@, coordinator@ and
        admin@demo.samspill.no, all with the password samspill-demo-2026.
        """
        from portal import migrate
        from portal.cli import make_app
        from portal.config import load_settings
        from portal.services.demo import seed_demo

        settings = load_settings()
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        migrate.upgrade(settings.database_url)
        app = make_app()
        with app.app_context():
            result = seed_demo(app.extensions["portal.sessionmaker"], settings=settings,
                               seed=seed, scale=scale)
        if result.created:
            from portal.search_sync import apply_pending

            apply_pending(app, lock_timeout=60)
        click.echo(result.summary())
