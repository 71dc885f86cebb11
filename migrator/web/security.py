"""The dashboard's security model (docs/dashboard.md): Host and Origin allow-list, token off
loopback (in team mode: each person's own token, their role checked), CSRF on POST, strict CSP."""

from __future__ import annotations

import hmac
import ipaddress
import os
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from migrator.app.identities import Actor
from migrator.app.workspace import Workspace

TOKEN_ENV = "MIGRATOR_DASHBOARD_TOKEN"
TOKEN_COOKIE = "migrator_dashboard"
CSRF_HEADER = "x-csrf-token"
# No inline script or style from anywhere: inventory text that slipped through escaping still
# could not run. Data reaches the scripts through JSON endpoints and data-attributes.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
OPEN_PATHS = ("/login", "/static/")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
HOSTS_ENV = "MIGRATOR_DASHBOARD_HOSTS"  # more names the dashboard answers to, comma-separated
# Names a loopback dashboard answers to. Any other Host is a request meant for another site, or a
# DNS-rebinding page that pointed its own name at 127.0.0.1 to read the dashboard from a browser.
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
WILDCARDS = frozenset({"0.0.0.0", "::", ""})


@dataclass(frozen=True)
class Guard:
    token: str | None = None  # required on every request when set
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    hosts: frozenset[str] = LOOPBACK_NAMES  # the only names accepted in Host and Origin
    # Team mode (docs/dashboard.md#team-mode): whether it is on, and the person holding a token
    # (None: unknown or revoked). create_app fills both from the workspace.
    team: Callable[[], bool] = lambda: False
    people: Callable[[str], Actor | None] = lambda token: None

    def host_ok(self, host_header: str | None) -> bool:
        return host_header is not None and _hostname(host_header) in self.hosts

    def origin_ok(self, origin: str | None) -> bool:
        """No Origin (a same-origin GET, curl) is fine; `null` or another site's never is."""
        if origin is None:
            return True
        try:
            name = urlsplit(origin).hostname
        except ValueError:
            return False
        return name is not None and name.lower() in self.hosts

    def authorised(self, request: Request) -> bool:
        if self.token is None:
            return True
        return hmac.compare_digest(given_token(request).encode(), self.token.encode())

    def token_ok(self, token: str) -> bool:
        """The login form's check: the shared token (single-token mode)."""
        return self.token is not None and hmac.compare_digest(token.encode(), self.token.encode())

    def csrf_ok(self, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(given.encode(), self.csrf.encode())


def bearer_token(authorization: str) -> str:
    """The token of an `Authorization: Bearer ...` header value; "" for any other value."""
    return authorization[7:].strip() if authorization.lower().startswith("bearer ") else ""


def given_token(request: Request) -> str:
    """The bearer token, else the login cookie's; "" when neither."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):  # a bearer header wins, even an empty one
        return bearer_token(header)
    return request.cookies.get(TOKEN_COOKIE) or ""


def actor_of(request: Request) -> Actor | None:
    """The team identity the middleware admitted the request as; None outside team mode."""
    actor = getattr(request.state, "actor", None)
    return actor if isinstance(actor, Actor) else None


def request_ws(request: Request) -> Workspace:
    """The workspace a request runs as: in team mode its token's tenant (so a request can never
    read another tenant's ids: PostgreSQL's row-level security answers them as missing), else
    the tenant the dashboard was started as."""
    served = request.app.state.ws
    assert isinstance(served, Workspace)
    actor = actor_of(request)
    return served.as_tenant(actor.tenant) if actor is not None else served


# What every route takes as its workspace (never the app's own: that is the served tenant's).
TenantWs = Annotated[Workspace, Depends(request_ws)]


def _hostname(host_header: str) -> str:
    """`example.com:8000` -> `example.com`, `[::1]:8000` -> `::1`; lower case."""
    value = host_header.strip().lower()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else ""
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def allowed_hosts(bind_host: str, extra: list[str]) -> frozenset[str]:
    """Loopback names, the address listened on (unless a wildcard: then the machine's own name),
    the operator's `--allow-host` names and those in MIGRATOR_DASHBOARD_HOSTS."""
    names = set(LOOPBACK_NAMES)
    if bind_host.strip("[]") in WILDCARDS:
        import socket

        names.add(socket.gethostname().lower())
    else:
        names.add(bind_host.strip("[]").lower())
    listed = extra + (os.environ.get(HOSTS_ENV) or "").split(",")
    names.update(_hostname(name) for name in listed if name.strip())
    return frozenset(names)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def token_for(host: str, team: bool = False) -> str | None:
    """The token required on `host`: none on loopback (unless set), mandatory elsewhere, except in
    team mode, where each person's own token is required everywhere instead."""
    token = os.environ.get(TOKEN_ENV) or None
    if token is None and not is_loopback(host) and not team:
        from migrator.errors import UsageError

        raise UsageError(f"listening on {host} needs a token: set {TOKEN_ENV} in the environment")
    return token


def middleware(
    guard: Guard,
) -> Callable[[Request, Callable[[Request], Awaitable[Response]]], Awaitable[Response]]:
    async def secure(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        path = request.url.path
        if not guard.host_ok(request.headers.get("host")):
            response: Response = JSONResponse({"detail": "this dashboard does not serve that host name"}, 421)
        elif not guard.origin_ok(request.headers.get("origin")):
            response = JSONResponse({"detail": "cross-origin request refused"}, 403)
        elif not path.startswith(OPEN_PATHS) and not await _admitted(guard, request):
            if path.startswith("/api") or request.method != "GET":
                response = JSONResponse({"detail": "a valid dashboard token is required"}, 401)
            else:
                response = RedirectResponse("/login", 303)
        elif request.method == "POST" and path != "/login" and not await _csrf(guard, request):
            response = JSONResponse({"detail": "missing or wrong CSRF token"}, 403)
        elif request.method not in SAFE_METHODS and path != "/login" and _viewer(request):
            # A viewer changes nothing: a safety net before any handler, beside each use case's check.
            response = JSONResponse(
                {"detail": f"{_viewer(request)} is a viewer: viewers change nothing"}, 403
            )
        else:
            response = await call_next(request)
        headers = response.headers
        headers["Content-Security-Policy"] = CSP
        headers["X-Content-Type-Options"] = "nosniff"
        headers["X-Frame-Options"] = "DENY"
        # Not no-referrer: under it Chromium sends `Origin: null` with a form POST, so the /login
        # form was refused as cross-origin. same-origin still gives other sites no Referer.
        headers["Referrer-Policy"] = "same-origin"
        headers["Cache-Control"] = "no-store"
        return response

    return secure


async def _admitted(guard: Guard, request: Request) -> bool:
    """Single-token mode: the shared token (if any). Team mode: an active person's token, looked up
    on every request (off the event loop: it reads the database) so a revocation applies at once."""
    if not await run_in_threadpool(guard.team):
        return guard.authorised(request)
    actor = await run_in_threadpool(guard.people, given_token(request))
    if actor is None:
        return False
    request.state.actor = actor
    return True


def _viewer(request: Request) -> str | None:
    actor = actor_of(request)
    return actor.name if actor is not None and actor.role == "viewer" else None


async def _csrf(guard: Guard, request: Request) -> bool:
    """State changes come from the pages' scripts, which send the token as a header.

    A cross-site form cannot set a custom header, and the CSP stops injected scripts.
    """
    return guard.csrf_ok(request.headers.get(CSRF_HEADER))
