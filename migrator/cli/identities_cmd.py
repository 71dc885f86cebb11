"""`migrator identities ...`: the people who may use the dashboard in team mode (docs/dashboard.md)."""

from __future__ import annotations

import sys

import typer

from migrator.app.identities import ROLES, add_identity, cli_actor, list_identities, revoke_identity
from migrator.cli.context import state
from migrator.cli.output import Format, render

app = typer.Typer(
    help="People and their dashboard tokens (team mode): add, list, revoke.", no_args_is_help=True
)
COLUMNS = [
    ("name", "Name"),
    ("role", "Role"),
    ("created_at", "Created (UTC)"),
    ("revoked_at", "Revoked (UTC)"),
]
WHO_OPTION = typer.Option(None, "--who", help="Your name in the audit log [default: the login name].")


@app.command("add")
def add(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The person's name (letters, digits, . _ @ -)."),
    role: str = typer.Option(..., "--role", help=f"{', '.join(ROLES)}."),
    who: str = WHO_OPTION,
) -> None:
    """Add a person; prints their token once, on stdout (only its hash is stored): hand it over."""
    created = add_identity(state(ctx), name, role, cli_actor(who))
    sys.stdout.write(created.token + "\n")
    sys.stderr.write(
        f"identity {created.identity['name']} added as {created.identity['role']}; "
        "the token above is shown only now\n"
    )


@app.command("list")
def list_cmd(
    ctx: typer.Context, fmt: Format = typer.Option(Format.table, "--format", help="table, json or csv.")
) -> None:
    """Every identity, revoked ones included (never a token)."""
    render(list_identities(state(ctx)), COLUMNS, fmt, title="Identities")


@app.command("revoke")
def revoke(
    ctx: typer.Context, name: str = typer.Argument(..., help="The person's name."), who: str = WHO_OPTION
) -> None:
    """Revoke a person's token at once; their name stays taken and in the audit log."""
    revoked = revoke_identity(state(ctx), name, cli_actor(who))
    typer.echo(f"identity {revoked['name']} revoked at {revoked['revoked_at']}")
