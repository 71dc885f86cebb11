"""`migrator mcp --http HOST:PORT`: streamable HTTP on loopback, behind the dashboard's Host and
Origin allow-list (migrator/web/security.py) and a bearer token on every request.

The token comes from an environment variable (never argv). In team mode it is a person's own
identity token (`migrator identities add`), and each call runs with that identity's role;
otherwise it is the token the variable holds.
"""

from __future__ import annotations

import hmac
from typing import Any

import uvicorn
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from migrator.app.identities import authenticate, team_mode
from migrator.app.workspace import Workspace
from migrator.errors import UsageError
from migrator.mcp_server.server import MigratorMCP
from migrator.web.security import Guard, allowed_hosts, given_token, is_loopback


def parse_address(address: str) -> tuple[str, int]:
    """`127.0.0.1:8765` -> (host, port); loopback only (an agent endpoint is not a public service)."""
    host, _, port = address.rpartition(":")
    host = host.strip("[]")
    if not host or not (port.isascii() and port.isdigit()) or not 0 < int(port) < 65536:
        raise UsageError(f"--http {address[:80]!r}: give HOST:PORT, e.g. 127.0.0.1:8765")
    if not is_loopback(host):
        raise UsageError(f"--http {host[:80]!r}: migrator mcp listens on loopback only (127.0.0.1, ::1)")
    return host, int(port)


class Gate:
    """ASGI middleware: a request with a foreign Host or Origin, or without a valid token, gets 403/401."""

    def __init__(self, app: ASGIApp, ws: Workspace, token: str, host: str) -> None:
        self.app, self.ws, self.token = app, ws, token
        self.guard = Guard(token=token, hosts=allowed_hosts(host, []))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        refusal = self._refusal(request)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _refusal(self, request: Request) -> Response | None:
        if not self.guard.host_ok(request.headers.get("host")) or not self.guard.origin_ok(
            request.headers.get("origin")
        ):
            return JSONResponse({"error": "this Host or Origin is not allowed"}, status_code=403)
        given = given_token(request)
        if team_mode(self.ws):
            admitted = authenticate(self.ws, given) is not None
        else:
            admitted = hmac.compare_digest(given.encode(), self.token.encode())
        if not admitted:
            return JSONResponse({"error": "a valid bearer token is required"}, status_code=401)
        return None


def http_app(server: MigratorMCP, ws: Workspace, token: str, host: str) -> Any:
    return Gate(server.streamable_http_app(host=host), ws, token, host)


def serve_http(server: MigratorMCP, ws: Workspace, token: str, host: str, port: int) -> None:
    config = uvicorn.Config(http_app(server, ws, token, host), host=host, port=port, log_level="warning")
    uvicorn.Server(config).run()
