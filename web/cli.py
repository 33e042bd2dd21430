"""``ecm user``: manage the web application's users (registered by ``ecm.cli``).

    ecm user add NAME --role ROLE [--password-stdin]   (prompts twice without --password-stdin)
    ecm user list
    ecm user set-role NAME ROLE
    ecm user disable NAME [--enable]
    ecm user passwd NAME [--password-stdin]

Roles: admin, mailroom, coder, reviewer, clerk. Users live in ``ECM_HOME/ecm.sqlite``.
Imports no web framework, so the command starts quickly.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Annotated

import typer

from ecm.errors import EcmError
from ecm.settings import command_config
from ecm.db import database_path
from web.users import ROLES, UserStore

__all__ = ["users_app"]

users_app = typer.Typer(name="user", help="Manage the web UI's users and roles (admin, mailroom, coder, "
                        "reviewer, clerk).", no_args_is_help=True, add_completion=False,
                        pretty_exceptions_enable=False)

ROLE_HELP = f"One of: {', '.join(ROLES)}."


@contextmanager
def _store() -> Iterator[UserStore]:
    try:
        # Under `ecm`, the root command's --home / --config; run on its own, the environment.
        yield UserStore(database_path(command_config().home))
    except EcmError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(int(err.exit_code))


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


@users_app.command("add")
def add_cmd(
    name: Annotated[str, typer.Argument(help="User name (lower-case letters, digits, . _ -).", show_default=False)],
    role: Annotated[str, typer.Option("--role", "-r", help=ROLE_HELP, show_default=False)],
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from the first line of stdin.")] = False,
) -> None:
    """Add a user. Asks for the password twice unless --password-stdin."""
    with _store() as users:
        user = users.add(name, role, _password(password_stdin))
        typer.echo(f"added {user.name} ({user.role})")


@users_app.command("list")
def list_cmd() -> None:
    """List users: name, role, status, created."""
    with _store() as users:
        for user in users.list():
            created = datetime.fromtimestamp(user.created_at, timezone.utc).strftime("%Y-%m-%d")
            typer.echo(f"{user.name:24} {user.role:9} {'disabled' if user.disabled else 'active':9} {created}")


@users_app.command("set-role")
def set_role_cmd(
    name: Annotated[str, typer.Argument(help="User name.", show_default=False)],
    role: Annotated[str, typer.Argument(help=ROLE_HELP, show_default=False)],
) -> None:
    """Change a user's role (their open sessions end)."""
    with _store() as users:
        user = users.set_role(name, role)
        typer.echo(f"{user.name} is now {user.role}")


@users_app.command("disable")
def disable_cmd(
    name: Annotated[str, typer.Argument(help="User name.", show_default=False)],
    enable: Annotated[bool, typer.Option("--enable", help="Enable the user again instead.")] = False,
) -> None:
    """Disable a user: they cannot sign in and their open sessions end. The audit keeps their name."""
    with _store() as users:
        user = users.set_disabled(name, not enable)
        typer.echo(f"{user.name} is {'disabled' if user.disabled else 'enabled'}")


@users_app.command("passwd")
def passwd_cmd(
    name: Annotated[str, typer.Argument(help="User name.", show_default=False)],
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from the first line of stdin.")] = False,
) -> None:
    """Set a new password (also unlocks a locked account and ends the user's sessions)."""
    with _store() as users:
        user = users.set_password(name, _password(password_stdin))
        typer.echo(f"password of {user.name} changed")
