"""Running the dashboard: uvicorn on one address, the token required off loopback."""

from __future__ import annotations

import socket
from collections.abc import Callable

import uvicorn

from migrator.app.identities import team_mode
from migrator.app.workspace import Workspace
from migrator.errors import UsageError
from migrator.web.app import create_app
from migrator.web.security import Guard, allowed_hosts, token_for


def url_of(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def serve(
    ws: Workspace,
    host: str,
    port: int,
    on_ready: Callable[[str], None],
    allow_hosts: list[str] | None = None,
    forge_token: str | None = None,
) -> None:
    """Serve until interrupted (uvicorn handles SIGINT/SIGTERM and returns after a clean stop)."""
    guard = Guard(token=token_for(host, team_mode(ws)), hosts=allowed_hosts(host, allow_hosts or []))
    ws.plans.get(None)  # fail early, with the store's one-line error, when there is no plan yet
    app = create_app(ws, guard, forge_token)
    try:
        sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)  # before the URL is printed: a client that reads it at once is not refused
    except OSError as exc:
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    bound_port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", access_log=False, server_header=False)
    server = uvicorn.Server(config)
    on_ready(url_of(host, bound_port))
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn re-raises the Ctrl-C it handled: stopping is the normal end
        pass
    finally:
        sock.close()
