"""`migrator mcp`: the plan as a tool server for agents, over the Model Context Protocol (docs/mcp.md)."""

from __future__ import annotations

import os

import typer

from migrator.cli.context import state
from migrator.errors import UsageError


def mcp(
    ctx: typer.Context,
    allow_edits: bool = typer.Option(
        False,
        "--allow-edits",
        help="Serve the change tools too (propose, preview, apply edits; re-plan; land).",
    ),
    http: str | None = typer.Option(
        None, "--http", metavar="HOST:PORT", help="Streamable HTTP on loopback instead of stdio."
    ),
    token_env: str | None = typer.Option(
        None,
        "--token-env",
        help="Environment variable holding the token (never the token): required with --http; in team "
        "mode an identity's token, whose role the change tools check.",
    ),
    rate: int = typer.Option(120, "--rate", min=1, max=100_000, help="Tool calls per identity per minute."),
) -> None:
    """Serve migrator's read tools (and with --allow-edits its change tools) to an MCP client.
    Over stdio unless --http; Ctrl-C stops it."""
    from migrator.app.identities import mcp_actor
    from migrator.mcp_server.server import ServeOptions, build_server

    ws = state(ctx)
    token = _token(token_env)
    actor = mcp_actor(ws, token, allow_edits) if http is None else None  # HTTP: per request
    server = build_server(ws, ServeOptions(allow_edits=allow_edits, actor=actor, per_minute=rate))
    if http is None:
        server.run("stdio")
        return
    from migrator.mcp_server.http import parse_address, serve_http

    host, port = parse_address(http)
    if token is None:
        raise UsageError("--http needs --token-env NAME: the environment variable holding the clients' token")
    typer.echo(f"mcp: http://{host}:{port}/mcp (Ctrl-C to stop)", err=True)
    serve_http(server, ws, token, host, port)


def _token(name: str | None) -> str | None:
    if name is None:
        return None
    value = os.environ.get(name)
    if not value:
        raise UsageError(f"--token-env {name}: that environment variable is not set")
    return value
