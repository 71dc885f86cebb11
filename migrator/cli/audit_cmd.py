"""`migrator audit list`: who changed what, when and from where (docs/audit.md)."""

from __future__ import annotations

import typer

from migrator.app.audit import list_audit
from migrator.cli.context import state
from migrator.cli.output import Format, render

app = typer.Typer(
    help="The audit log of state changes (approve, merge, pins, edits, identities).", no_args_is_help=True
)
COLUMNS = [
    ("id", "Id"),
    ("at", "At (UTC)"),
    ("who", "Who"),
    ("via", "Via"),
    ("action", "Action"),
    ("target", "Target"),
]


@app.command("list")
def list_cmd(
    ctx: typer.Context,
    since: str = typer.Option(None, "--since", help="30m, 12h, 7d or an ISO 8601 time [default: all]."),
    fmt: Format = typer.Option(Format.table, "--format", help="table, json or csv."),
) -> None:
    """Every audit record, oldest first."""
    render(list_audit(state(ctx), since), COLUMNS, fmt, title="Audit log")
