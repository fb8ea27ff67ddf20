"""``portal user …``: account administration from the command line."""

from __future__ import annotations

import click

from portal.models.vocab import ROLES


def register(main: click.Group) -> None:
    from portal.cli import PortalGroup

    @main.group(cls=PortalGroup)
    def user() -> None:
        """Create accounts and manage roles."""

    @user.command("create")
    @click.option("--email", required=True)
    @click.option("--name", "display_name", default=None, help="Display name (default: the e-mail's local part).")
    @click.option("--role", "roles", multiple=True, type=click.Choice(ROLES),
                  help="Role to grant; repeat for several.")
    @click.option("--locale", type=click.Choice(["nb", "en"]), default="nb", show_default=True)
    @click.option("--password", default=None,
                  help="Password; asked for (hidden) when not given and input is a terminal.")
    @click.option("--no-password", is_flag=True, help="Create the account without a password.")
    def create(email, display_name, roles, locale, password, no_password):
        """Create a verified account, e.g. the first administrator."""
        import sys

        from portal.cli import session_scope
        from portal.services import accounts

        if no_password:
            password = None
        elif password is None:
            if not sys.stdin.isatty():
                raise click.UsageError("give --password, or --no-password")
            password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        _app, unit = session_scope()
        with _app.app_context(), unit as db:
            u = accounts.create_user(
                db, email=email, display_name=display_name or email.split("@")[0],
                password=password, roles=list(roles), locale=locale, verified=True)
            click.echo(f"created user {u.id} <{u.email}> roles: {', '.join(sorted(u.role_names)) or '-'}")

    @user.command("grant")
    @click.option("--email", required=True)
    @click.argument("roles", nargs=-1, required=True, type=click.Choice(ROLES))
    def grant(email, roles):
        """Grant ROLES to the account with this e-mail address."""
        _change_roles(email, roles, grant=True)

    @user.command("revoke")
    @click.option("--email", required=True)
    @click.argument("roles", nargs=-1, required=True, type=click.Choice(ROLES))
    def revoke(email, roles):
        """Revoke ROLES from the account with this e-mail address."""
        _change_roles(email, roles, grant=False)


def _change_roles(email: str, roles, *, grant: bool) -> None:
    from portal.cli import session_scope
    from portal.services import accounts
    from portal.services.errors import NotFound

    app, unit = session_scope()
    with app.app_context(), unit as db:
        u = accounts.find_by_email(db, email)
        if u is None:
            raise NotFound(f"no account with e-mail {email}")
        for role in roles:
            (accounts.add_role if grant else accounts.remove_role)(db, u, role)
        click.echo(f"{u.email} roles: {', '.join(sorted(u.role_names)) or '-'}")
