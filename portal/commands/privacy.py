"""``portal privacy …``: a person's data export and account erasure, for administrators."""

from __future__ import annotations

from pathlib import Path

import click


def _find(db, email: str):
    from portal.services import accounts
    from portal.services.errors import NotFound

    user = accounts.find_by_email(db, email)
    if user is None or user.erased_at is not None:
        raise NotFound(f"no account with e-mail {email}")
    return user


def register(main: click.Group) -> None:
    from portal.cli import PortalGroup

    @main.group(cls=PortalGroup)
    def privacy() -> None:
        """Personal-data rights (GDPR): export or erase a person's data."""

    @privacy.command("export")
    @click.option("--email", required=True, help="The account's e-mail address.")
    @click.option("--out", required=True, type=click.Path(dir_okay=False),
                  help="The ZIP file to write (data.json and the uploaded files).")
    def export(email, out) -> None:
        """Write everything the portal holds about a person to a ZIP file."""
        from portal.cli import _fail, session_scope
        from portal.services.privacy import write_export

        target = Path(out)
        if not target.parent.is_dir():
            _fail(f"no such directory: {target.parent}")
        app, unit = session_scope()
        with app.app_context(), unit as db:
            user = _find(db, email)
            size = write_export(db, user, app.config["PORTAL_SETTINGS"], target)
            click.echo(f"wrote {target} ({size} bytes) for account {user.id}")

    @privacy.command("erase")
    @click.option("--email", required=True, help="The account's e-mail address.")
    @click.option("--yes", is_flag=True, help="Erase without asking for confirmation.")
    def erase(email, yes) -> None:
        """Erase a person's account: personal data removed, open applications withdrawn."""
        from portal.cli import _fail, session_scope
        from portal.services.privacy import erase_account

        app, unit = session_scope()
        with app.app_context():
            with unit as db:
                user = _find(db, email)
                user_id, name = user.id, user.display_name
            if not yes and not click.confirm(
                    f"Erase the account {user_id} of {name} <{email}>? This cannot be undone.",
                    default=False):
                _fail("not confirmed: nothing was erased")
            result = erase_account(app.extensions["portal.sessionmaker"],
                                   app.config["PORTAL_SETTINGS"], user_id, reason="admin")
        click.echo(f"erased account {user_id}: {result['withdrawn']} open application(s) "
                   f"withdrawn, {result['files_deleted']} uploaded file(s) and "
                   f"{result['eml_deleted']} delivered e-mail file(s) deleted, "
                   f"{result['rows_scrubbed']} row(s) scrubbed")
