"""`migrator serve`: the web dashboard (docs/dashboard.md)."""

from __future__ import annotations

import typer

from migrator.cli.context import state
from migrator.cli.pr_cmd import TOKEN_ENV_OPTION, token_from


def serve(
    ctx: typer.Context,
    host: str = typer.Option(
        "127.0.0.1", "--host", help="Address to listen on (not loopback: needs MIGRATOR_DASHBOARD_TOKEN)."
    ),
    port: int = typer.Option(8000, "--port", min=0, max=65535, help="Port (0: any free port)."),
    allow_host: list[str] = typer.Option(
        [],
        "--allow-host",
        help="Another host name the dashboard answers to in Host and Origin (repeatable; also "
        "MIGRATOR_DASHBOARD_HOSTS). Loopback names and the --host address are always allowed.",
    ),
    token_env: str | None = TOKEN_ENV_OPTION,
) -> None:
    """Serve the dashboard until interrupted; prints its URL. Ctrl-C stops it (exit 0)."""

    from migrator.web.server import serve as run_server  # FastAPI: imported only when serving

    def ready(url: str) -> None:
        typer.echo(f"dashboard: {url} (Ctrl-C to stop)")

    run_server(state(ctx), host, port, ready, allow_host, token_from(token_env))
    typer.echo("dashboard stopped")
