"""Parse --server: a URL or a bare host name (https and /sdk by default)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from migrator.errors import UsageError


@dataclass(frozen=True)
class ServerAddress:
    scheme: str  # "https" | "http"
    host: str
    port: int
    path: str

    @property
    def display(self) -> str:
        default = 443 if self.scheme == "https" else 80
        port = "" if self.port == default else f":{self.port}"
        return f"{self.scheme}://{self.host}{port}{self.path}"

    @property
    def base(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"


def parse_server(value: str) -> ServerAddress:
    text = value.strip()
    if not text:
        raise UsageError("{server} is empty", field="server")
    if "://" not in text:
        text = "https://" + text
    parts = urlsplit(text)
    if "@" in parts.netloc:  # checked first: the messages below repeat the value
        raise UsageError(
            "{server} must not carry credentials; use {user} and {password_env}",
            field=("server", "user", "password_env"),
        )
    if parts.query or parts.fragment:
        raise UsageError(
            "{server} takes no query string or fragment (credentials never go in the URL)", field="server"
        )
    if parts.scheme not in ("https", "http"):
        raise UsageError(
            f"{{server}} {value!r}: scheme must be https (or http for a simulator)", field="server"
        )
    if not parts.hostname:
        raise UsageError(f"{{server}} {value!r} has no host name", field="server")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise UsageError(f"{{server}} {value!r} has an invalid port", field="server") from None
    path = parts.path.rstrip("/") or "/sdk"
    return ServerAddress(parts.scheme, parts.hostname, port, path)
