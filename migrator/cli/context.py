"""What every command gets: the workspace (settings, and the stores on demand, one engine)."""

from __future__ import annotations

import typer

from migrator.app.workspace import Workspace

AppState = Workspace  # the name commands used before the application layer


def state(ctx: typer.Context) -> Workspace:
    obj = ctx.find_root().obj
    assert isinstance(obj, Workspace), "the root callback sets the workspace"
    return obj
