"""Options several command groups share."""

from __future__ import annotations

import typer

SNAPSHOT_OPTION = typer.Option(None, "--snapshot", help="Snapshot id [default: the latest complete one].")
PLAN_OPTION = typer.Option(None, "--plan", help="Plan id [default: the latest plan].")
