"""JSON over HTTP(S) for the forge adapters: one-line errors, pagination and rate limits.

Pagination (docs/forges.md): GitHub and Gitea answer a listing with `Link: <url>; rel="next"`
while there is a next page, GitLab with `X-Next-Page: N` (empty on the last one). Every listing
follows them, up to `max_pages` pages; more is an error, never a silently short list (a status
comment on page 3 not found would be posted twice). A next page outside the API base URL is
refused: the token must not travel to another host.

Rate limits: a 429, or a 403 that says it is one (a Retry-After header, X-RateLimit-Remaining or
RateLimit-Remaining 0, or a message naming a rate limit), is waited out as the forge asks
(Retry-After in seconds or as an HTTP date; else X-RateLimit-Reset / RateLimit-Reset in epoch
seconds; else a minute, GitHub's advice) and retried, with a line on stderr for each wait. The
waits of one command add up to at most MIGRATOR_FORGE_MAX_WAIT seconds (60 by default); a wait
that would go past it is an error at once. Any other 403 (permissions) is not retried.
"""

from __future__ import annotations

import json
import math
import os
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

from migrator.errors import ForgeError, UsageError

TIMEOUT_S = 30
MAX_PAGES = 50
MAX_WAIT_ENV = "MIGRATOR_FORGE_MAX_WAIT"
DEFAULT_MAX_WAIT_S = 60.0
UNTIMED_WAIT_S = 60  # a rate limit that gives no time: GitHub asks for at least a minute
NAMES = {"github": "GitHub", "gitlab": "GitLab", "gitea": "Gitea"}

NextPage = Callable[[Mapping[str, str], str], "str | None"]  # (answer headers, its URL) -> next URL


def _silent(line: str) -> None:
    pass


@dataclass(frozen=True)
class Pacing:
    """How a forge client waits; tests inject the clock and the sleep."""

    notify: Callable[[str], None] = _silent  # one progress line per wait (the CLI: stderr)
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.time
    max_wait_s: float | None = None  # None: MIGRATOR_FORGE_MAX_WAIT, else 60


@dataclass(frozen=True)
class Answer:
    status: int
    headers: Mapping[str, str]  # lower-case names
    body: Any


@dataclass
class HttpSettings:
    kind: str
    api: str
    token: str | None
    headers: dict[str, str] = field(default_factory=dict)


class ForgeAnswered(ForgeError):
    """The forge answered 4xx/5xx; `status` and `reason` (its JSON message) for the adapters."""

    def __init__(self, message: str, status: int = 0, reason: str = "") -> None:
        super().__init__(message)
        self.status, self.reason = status, reason


def max_wait_from_env() -> float:
    raw = os.environ.get(MAX_WAIT_ENV, "").strip()
    if not raw:
        return DEFAULT_MAX_WAIT_S
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not math.isfinite(value) or value < 0:
        raise UsageError(f"{MAX_WAIT_ENV}={raw!r}: give a number of seconds (0 or more)")
    return value


def link_next(headers: Mapping[str, str], url: str) -> str | None:
    """GitHub and Gitea: the URL of `rel="next"` in the Link header, if any."""
    for target, params in re.findall(r"<([^>]*)>([^<]*)", headers.get("link", "")):
        for param in params.split(";"):
            name, _, value = param.partition("=")
            if name.strip().lower() == "rel" and "next" in value.strip().strip('",').split():
                return urllib.parse.urljoin(url, target)
    return None


def page_header_next(headers: Mapping[str, str], url: str) -> str | None:
    """GitLab: the same URL with page=X-Next-Page, while that header holds a number."""
    page = headers.get("x-next-page", "").strip()
    if not page.isdigit():
        return None
    parts = urllib.parse.urlsplit(url)
    query = {**dict(urllib.parse.parse_qsl(parts.query)), "page": page}
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


def rate_limit_wait(
    status: int, headers: Mapping[str, str], reason: str, now: float
) -> tuple[int, str] | None:
    """(seconds to wait, the header that said so) when the answer is a rate limit, else None."""
    retry = headers.get("retry-after", "").strip()
    remaining = headers.get("x-ratelimit-remaining", headers.get("ratelimit-remaining", "")).strip()
    if status not in (403, 429) or not (
        status == 429 or retry or remaining == "0" or "rate limit" in reason.lower()
    ):
        return None
    if retry:
        seconds = _seconds_until(retry, now)
        if seconds is not None:
            return max(1, math.ceil(seconds)), "Retry-After"
    for name, shown in (("x-ratelimit-reset", "X-RateLimit-Reset"), ("ratelimit-reset", "RateLimit-Reset")):
        reset = headers.get(name, "").strip()
        if remaining == "0" and re.fullmatch(r"\d+(\.\d+)?", reset):
            return max(1, math.ceil(float(reset) - now)), shown
    return UNTIMED_WAIT_S, f"{status} without Retry-After"


def _seconds_until(retry_after: str, now: float) -> float | None:
    if re.fullmatch(r"\d+(\.\d+)?", retry_after):
        return float(retry_after)
    try:
        return parsedate_to_datetime(retry_after).timestamp() - now
    except (TypeError, ValueError, IndexError):
        return None


class Http:
    """One forge's API for one command: JSON in and out, pages followed, rate limits waited out."""

    def __init__(self, settings: HttpSettings, next_page: NextPage, pacing: Pacing | None = None) -> None:
        self.settings = settings
        self.headers = {"Accept": "application/json", "User-Agent": "migrator", **settings.headers}
        self.next_page = next_page
        self.pacing = pacing or Pacing()
        self.max_wait_s = (
            self.pacing.max_wait_s if self.pacing.max_wait_s is not None else max_wait_from_env()
        )
        self.max_pages = MAX_PAGES
        self.waited = 0  # seconds, over the whole command

    def call(self, method: str, path: str, body: Any = None, query: dict[str, str] | None = None) -> Any:
        return self.send(method, self.url(path, query), body, f"{self.settings.kind}: {method} {path}").body

    def pages(self, path: str, query: dict[str, str] | None = None) -> list[Any]:
        """Every item of a listing, page after page."""
        where = f"{self.settings.kind}: GET {path}"
        url, items = self.url(path, query), []
        for _ in range(self.max_pages):
            answer = self.send("GET", url, None, where)
            if not isinstance(answer.body, list):
                raise ForgeError(f"{where} answered something that is not a list")
            items.extend(answer.body)
            following = self.next_page(answer.headers, url)
            if following is None:
                return items
            url = self._within_api(following, where)
        raise ForgeError(f"{where}: more than {self.max_pages} pages of results; not all were read")

    def url(self, path: str, query: dict[str, str] | None = None) -> str:
        return self.settings.api + path + (f"?{urllib.parse.urlencode(query)}" if query else "")

    def send(self, method: str, url: str, body: Any, where: str) -> Answer:
        while True:
            try:
                return self._once(method, url, body, where)
            except urllib.error.HTTPError as exc:
                headers = {k.lower(): v for k, v in (exc.headers or {}).items()}
                reason = self._redact(_reason(exc))
                wait = rate_limit_wait(exc.code, headers, reason, self.pacing.clock())
                if wait is None:
                    raise ForgeAnswered(f"{where} answered {exc.code}: {reason}", exc.code, reason) from None
                self._wait(*wait, where)

    def _once(self, method: str, url: str, body: Any, where: str) -> Answer:
        data = json.dumps(body).encode("utf-8") if body is not None else None
        headers = {**self.headers, **({"Content-Type": "application/json"} if data is not None else {})}
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
                raw, status = response.read(), response.status
                answer_headers = {k.lower(): v for k, v in response.headers.items()}
        except urllib.error.HTTPError:
            raise
        except (urllib.error.URLError, OSError) as exc:
            reason = self._redact(str(getattr(exc, "reason", exc)))
            raise ForgeError(f"{where}: cannot reach {self.settings.api}: {reason}") from None
        try:
            return Answer(status, answer_headers, json.loads(raw) if raw.strip() else None)
        except ValueError:
            raise ForgeError(f"{where} answered something that is not JSON") from None

    def _wait(self, seconds: int, said: str, where: str) -> None:
        name = NAMES.get(self.settings.kind, self.settings.kind)
        if self.waited + seconds > self.max_wait_s:
            raise ForgeError(
                f"{where}: rate limited; {name} asks to wait {seconds} s ({said}), more than the "
                f"{self.max_wait_s:g} s migrator waits in all (set {MAX_WAIT_ENV} to wait longer)"
            )
        self.pacing.notify(f"forge rate limit: waiting {seconds} s ({name} said {said})")
        self.pacing.sleep(seconds)
        self.waited += seconds

    def _within_api(self, url: str, where: str) -> str:
        """A next-page URL on the API's own origin and path, or an error (the token stays home)."""
        if url == self.settings.api or url.startswith(self.settings.api.rstrip("/") + "/"):
            return url
        shown = urllib.parse.urlsplit(url)
        raise ForgeError(
            f"{where}: the next page is outside the API ({shown.scheme}://{shown.netloc}): not followed"
        )

    def _redact(self, text: str) -> str:
        token = self.settings.token
        return text.replace(token, "***") if token else text


def _reason(exc: urllib.error.HTTPError) -> str:
    """The forge's message (GitHub, Gitea: `message`; GitLab: `message` or `error`), on one line."""
    try:
        payload = json.loads(exc.read() or b"{}")
    except ValueError:
        payload = {}
    message: Any = exc.reason
    if isinstance(payload, dict):
        message = payload.get("message") or payload.get("error") or exc.reason
    if isinstance(message, dict):  # GitLab validation errors: {"field": ["problem", ...]}
        message = "; ".join(
            f"{k}: {', '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in message.items()
        )
    elif isinstance(message, list):
        message = "; ".join(map(str, message))
    return re.sub(r"\s+", " ", str(message)).strip()[:300]
