"""Database URLs: parse them with a one-line error, find the secrets they carry, and mask them.

A password can hide in a URL in two places: the user-info (`user:password@host`) and the query
string (`?password=...`, `?sslpassword=...`: libpq reads both). Anything printed about a database
(errors, reprs) goes through `redact`, and `scrub` removes the secret values from third-party
error text, which may quote the URL it was given.
"""

from __future__ import annotations

import re
from urllib.parse import quote, quote_plus

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from migrator.errors import StoreError

MASK = "***"
UNPARSEABLE = "<unparseable database URL>"
# Query parameters that hold a secret (libpq: password, sslpassword; drivers: token, secret, ...).
# Paths to key or password files (sslkey, passfile) are not secrets themselves.
_SECRET_PARAM = re.compile(r"pass(word|wd|phrase)?$|password|pwd$|secret|token|credential|api_?key", re.I)
# For strings SQLAlchemy cannot parse: a user-info password, or a secret-looking parameter.
_RAW_SECRET = re.compile(
    r"://[^/@?#]*:[^/@?#]*@|[?&;]\s*[\w-]*(pass|pwd|secret|token|credential|api_?key)[\w-]*=", re.I
)


def parse(url: str) -> URL:
    """The URL, or a StoreError that does not repeat it (it may carry a password)."""
    try:
        return make_url(url)
    except (ArgumentError, ValueError) as exc:
        reason = "invalid port" if isinstance(exc, ValueError) else "not of the form dialect://user@host/db"
        raise StoreError(
            f"database URL is malformed ({reason}); see docs/snapshots.md for the format"
        ) from None


def secret_params(url: URL) -> list[str]:
    """Names of the query parameters that carry a secret."""
    return sorted(name for name in url.query if _SECRET_PARAM.search(name))


def carries_secret(url: str) -> bool:
    """True when the URL holds a password anywhere (parsed, or by its look when unparseable)."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return bool(_RAW_SECRET.search(url))
    return parsed.password is not None or bool(secret_params(parsed))


def secret_values(url: str) -> list[str]:
    """The secret strings themselves (to scrub them from text), longest first."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return []
    values: list[str] = []
    if parsed.password is not None:
        values.append(str(parsed.password))
    for name in secret_params(parsed):
        value = parsed.query[name]
        values += [value] if isinstance(value, str) else list(value)
    return sorted({v for v in values if v}, key=len, reverse=True)


def redact(url: str) -> str:
    """The URL fit for messages: passwords and secret parameters replaced by ***."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return MASK if _RAW_SECRET.search(url) else UNPARSEABLE
    masked = {name: MASK for name in secret_params(parsed)}
    if parsed.password is None and not masked:
        return url  # nothing to hide: show it as the user wrote it
    if parsed.password is not None:
        parsed = parsed.set(password=MASK)
    if masked:
        parsed = parsed.update_query_dict(masked)
    return parsed.render_as_string(hide_password=False).replace(quote(MASK, safe=""), MASK)


def scrub(text: str, url: str) -> str:
    """`text` with every secret of `url` (raw or percent-encoded) replaced by ***."""
    for value in secret_values(url):
        for form in {value, quote(value, safe=""), quote_plus(value, safe="")}:
            text = text.replace(form, MASK)
    return text
