"""The dashboard's security model (docs/dashboard.md): token off loopback, CSRF on POST, strict CSP."""

from __future__ import annotations

import hmac
import ipaddress
import os
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from fastapi import Request, Response
from fastapi.responses import JSONResponse, RedirectResponse

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


@dataclass(frozen=True)
class Guard:
    token: str | None = None  # required on every request when set
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))

    def authorised(self, request: Request) -> bool:
        if self.token is None:
            return True
        given = request.cookies.get(TOKEN_COOKIE) or ""
        header = request.headers.get("authorization", "")
        if header.lower().startswith("bearer "):
            given = header[7:].strip()
        return hmac.compare_digest(given.encode(), self.token.encode())

    def csrf_ok(self, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(given.encode(), self.csrf.encode())


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def token_for(host: str) -> str | None:
    """The token required on `host`: none on loopback (unless set), mandatory elsewhere."""
    token = os.environ.get(TOKEN_ENV) or None
    if token is None and not is_loopback(host):
        from migrator.errors import UsageError

        raise UsageError(f"listening on {host} needs a token: set {TOKEN_ENV} in the environment")
    return token


def middleware(
    guard: Guard,
) -> Callable[[Request, Callable[[Request], Awaitable[Response]]], Awaitable[Response]]:
    async def secure(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        path = request.url.path
        if not path.startswith(OPEN_PATHS) and not guard.authorised(request):
            if path.startswith("/api") or request.method != "GET":
                response: Response = JSONResponse({"detail": "a valid dashboard token is required"}, 401)
            else:
                response = RedirectResponse("/login", 303)
        elif request.method == "POST" and path != "/login" and not await _csrf(guard, request):
            response = JSONResponse({"detail": "missing or wrong CSRF token"}, 403)
        else:
            response = await call_next(request)
        headers = response.headers
        headers["Content-Security-Policy"] = CSP
        headers["X-Content-Type-Options"] = "nosniff"
        headers["X-Frame-Options"] = "DENY"
        headers["Referrer-Policy"] = "no-referrer"
        headers["Cache-Control"] = "no-store"
        return response

    return secure


async def _csrf(guard: Guard, request: Request) -> bool:
    """State changes come from the pages' scripts, which send the token as a header.

    A cross-site form cannot set a custom header, and the CSP stops injected scripts.
    """
    return guard.csrf_ok(request.headers.get(CSRF_HEADER))
