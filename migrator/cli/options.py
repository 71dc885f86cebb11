"""Options several command groups share."""

from __future__ import annotations

import typer

SNAPSHOT_OPTION = typer.Option(None, "--snapshot", help="Snapshot id [default: the latest complete one].")
PLAN_OPTION = typer.Option(None, "--plan", help="Plan id [default: the latest plan].")
LIMIT_OPTION = typer.Option(
    [],
    "--limit",
    help="Raise an input-file limit, NAME=VALUE (rows=2000000, file-mb=4096); repeatable; "
    "see docs/limits.md.",
)
