"""Forges: open or update the pull request of a landed branch on GitHub, GitLab or Gitea/Forgejo.

Plain HTTPS against each forge's documented REST endpoints (the shapes relied on, with links, are
in docs/forges.md). The token comes from an environment variable and travels only in a request
header; it never reaches argv, a log line, an error message or the store. Every failure is one
ForgeError line (exit 9) naming the request and the forge's answer; what was landed locally stays.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from migrator.errors import ForgeError, UsageError

STATUS_MARKER = "<!-- migrator:status -->"
PART_MARKER = "<!-- migrator:plan-part {n} -->"
TIMEOUT_S = 30
KINDS = ("github", "gitlab", "gitea")


@dataclass(frozen=True)
class ForgeSettings:
    kind: str  # github | gitlab | gitea
    api: str  # API base URL, e.g. https://api.github.com
    repo: str  # owner/name (GitLab: the project's full path)
    token: str | None = None


@dataclass(frozen=True)
class ForgePR:
    number: int  # GitHub/Gitea number, GitLab iid
    url: str


def _host_and_path(remote: str) -> tuple[str, str]:
    scp = re.fullmatch(r"[\w.-]+@([\w.-]+):(.+)", remote)  # git@github.com:owner/repo.git
    if scp:
        return scp.group(1).lower(), scp.group(2)
    parts = urllib.parse.urlsplit(remote)
    return (parts.hostname or "").lower(), parts.path


def detect(
    remote: str | None, kind: str | None, api: str | None, repo: str | None, token: str | None
) -> ForgeSettings | None:
    """The forge of a remote URL (or the one named); None: local mode."""
    host, path = _host_and_path(remote) if remote else ("", "")
    if kind is None and host:
        if host == "github.com" or host.startswith("github."):
            kind = "github"
        elif "gitlab" in host:
            kind = "gitlab"
        elif host == "codeberg.org" or "gitea" in host or "forgejo" in host:
            kind = "gitea"
    if kind is None:
        return None
    if kind not in KINDS:
        raise UsageError(f"{{forge}} {kind!r}: use one of {', '.join(KINDS)}", field="forge")
    if api is None:
        if not host or host in ("localhost",):
            raise UsageError("{forge_api} is needed for a forge behind this remote", field="forge_api")
        api = {
            "github": "https://api.github.com" if host == "github.com" else f"https://{host}/api/v3",
            "gitlab": f"https://{host}/api/v4",
            "gitea": f"https://{host}/api/v1",
        }[kind]
    name = repo or path.strip("/").removesuffix(".git")
    if name.count("/") < 1:
        raise UsageError(
            f"cannot tell the forge repository from {remote!r}: give {{forge_repo}}", field="forge_repo"
        )
    return ForgeSettings(kind, api.rstrip("/"), name, token)


class Http:
    """JSON over HTTP(S) with one-line errors."""

    def __init__(self, settings: ForgeSettings, headers: dict[str, str]) -> None:
        self.settings = settings
        self.headers = {"Accept": "application/json", "User-Agent": "migrator", **headers}

    def call(self, method: str, path: str, body: Any = None, query: dict[str, str] | None = None) -> Any:
        url = self.settings.api + path + (f"?{urllib.parse.urlencode(query)}" if query else "")
        data = json.dumps(body).encode("utf-8") if body is not None else None
        headers = {**self.headers, **({"Content-Type": "application/json"} if data is not None else {})}
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        where = f"{self.settings.kind}: {method} {path}"
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            raise ForgeError(f"{where} answered {exc.code}: {_reason(exc)}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ForgeError(f"{where}: cannot reach {self.settings.api}: {reason}") from None
        try:
            return json.loads(raw) if raw.strip() else None
        except ValueError:
            raise ForgeError(f"{where} answered something that is not JSON") from None


def _reason(exc: urllib.error.HTTPError) -> str:
    try:
        payload = json.loads(exc.read() or b"{}")
    except ValueError:
        payload = {}
    message = (
        payload.get("message") or payload.get("error") or exc.reason
        if isinstance(payload, dict)
        else exc.reason
    )
    return re.sub(r"\s+", " ", str(message))[:200]


class Forge:
    """The operations migrator needs; each forge maps them to its own endpoints."""

    limit = 65_536  # characters of a PR body or a comment

    def __init__(self, settings: ForgeSettings) -> None:
        self.settings = settings
        self.http = Http(settings, self.auth_headers(settings.token))
        self.repo_path = self.encode_repo(settings.repo)

    def auth_headers(self, token: str | None) -> dict[str, str]:
        return {}

    def encode_repo(self, repo: str) -> str:
        return repo

    def find_open(self, branch: str, base: str) -> ForgePR | None:
        raise NotImplementedError

    def create(self, branch: str, base: str, title: str, body: str) -> ForgePR:
        raise NotImplementedError

    def update(self, number: int, title: str, body: str) -> None:
        raise NotImplementedError

    def add_labels(self, number: int, labels: list[str]) -> None:
        raise NotImplementedError

    def comments(self, number: int) -> list[tuple[int, str]]:
        raise NotImplementedError

    def add_comment(self, number: int, body: str) -> None:
        raise NotImplementedError

    def edit_comment(self, number: int, comment_id: int, body: str) -> None:
        raise NotImplementedError


class GitHub(Forge):
    def auth_headers(self, token: str | None) -> dict[str, str]:
        base = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
        return {**base, **({"Authorization": f"Bearer {token}"} if token else {})}

    def find_open(self, branch: str, base: str) -> ForgePR | None:
        owner = self.settings.repo.split("/")[0]
        found = self.http.call(
            "GET", f"/repos/{self.repo_path}/pulls", query={"head": f"{owner}:{branch}", "state": "open"}
        )
        return ForgePR(found[0]["number"], found[0]["html_url"]) if found else None

    def create(self, branch: str, base: str, title: str, body: str) -> ForgePR:
        made = self.http.call(
            "POST",
            f"/repos/{self.repo_path}/pulls",
            {"title": title, "head": branch, "base": base, "body": body},
        )
        return ForgePR(made["number"], made["html_url"])

    def update(self, number: int, title: str, body: str) -> None:
        self.http.call("PATCH", f"/repos/{self.repo_path}/pulls/{number}", {"title": title, "body": body})

    def add_labels(self, number: int, labels: list[str]) -> None:
        self.http.call("POST", f"/repos/{self.repo_path}/issues/{number}/labels", {"labels": labels})

    def comments(self, number: int) -> list[tuple[int, str]]:
        found = self.http.call(
            "GET", f"/repos/{self.repo_path}/issues/{number}/comments", query={"per_page": "100"}
        )
        return [(c["id"], c.get("body") or "") for c in found or []]

    def add_comment(self, number: int, body: str) -> None:
        self.http.call("POST", f"/repos/{self.repo_path}/issues/{number}/comments", {"body": body})

    def edit_comment(self, number: int, comment_id: int, body: str) -> None:
        self.http.call("PATCH", f"/repos/{self.repo_path}/issues/comments/{comment_id}", {"body": body})


class GitLab(Forge):
    limit = 1_048_576  # the documented maximum of a merge request description

    def auth_headers(self, token: str | None) -> dict[str, str]:
        return {"PRIVATE-TOKEN": token} if token else {}

    def encode_repo(self, repo: str) -> str:
        return urllib.parse.quote(repo, safe="")  # a project is addressed by its URL-encoded path

    def _mr(self, number: int | None = None) -> str:
        return f"/projects/{self.repo_path}/merge_requests" + (f"/{number}" if number is not None else "")

    def find_open(self, branch: str, base: str) -> ForgePR | None:
        found = self.http.call(
            "GET", self._mr(), query={"source_branch": branch, "target_branch": base, "state": "opened"}
        )
        return ForgePR(found[0]["iid"], found[0]["web_url"]) if found else None

    def create(self, branch: str, base: str, title: str, body: str) -> ForgePR:
        made = self.http.call(
            "POST",
            self._mr(),
            {"source_branch": branch, "target_branch": base, "title": title, "description": body},
        )
        return ForgePR(made["iid"], made["web_url"])

    def update(self, number: int, title: str, body: str) -> None:
        self.http.call("PUT", self._mr(number), {"title": title, "description": body})

    def add_labels(self, number: int, labels: list[str]) -> None:
        self.http.call("PUT", self._mr(number), {"add_labels": ",".join(labels)})

    def comments(self, number: int) -> list[tuple[int, str]]:
        found = self.http.call("GET", f"{self._mr(number)}/notes", query={"per_page": "100"})
        return [(n["id"], n.get("body") or "") for n in found or []]

    def add_comment(self, number: int, body: str) -> None:
        self.http.call("POST", f"{self._mr(number)}/notes", {"body": body})

    def edit_comment(self, number: int, comment_id: int, body: str) -> None:
        self.http.call("PUT", f"{self._mr(number)}/notes/{comment_id}", {"body": body})


class Gitea(GitHub):
    """Gitea and Forgejo: GitHub-like paths under /api/v1, labels by id, `token` authorization."""

    def auth_headers(self, token: str | None) -> dict[str, str]:
        return {"Authorization": f"token {token}"} if token else {}

    def find_open(self, branch: str, base: str) -> ForgePR | None:
        found = self.http.call(
            "GET", f"/repos/{self.repo_path}/pulls", query={"state": "open", "limit": "50"}
        )
        for pr in found or []:
            if (pr.get("head") or {}).get("ref") == branch:
                return ForgePR(pr["number"], pr["html_url"])
        return None

    def add_labels(self, number: int, labels: list[str]) -> None:
        existing = {
            lb["name"]: lb["id"] for lb in self.http.call("GET", f"/repos/{self.repo_path}/labels") or []
        }
        for name in labels:
            if name not in existing:
                made = self.http.call(
                    "POST", f"/repos/{self.repo_path}/labels", {"name": name, "color": "#0e8a16"}
                )
                existing[name] = made["id"]
        ids = [existing[name] for name in labels]
        self.http.call("POST", f"/repos/{self.repo_path}/issues/{number}/labels", {"labels": ids})


def forge_for(settings: ForgeSettings) -> Forge:
    return {"github": GitHub, "gitlab": GitLab, "gitea": Gitea}[settings.kind](settings)


def split_body(text: str, limit: int) -> list[str]:
    """PLAN.md as the PR body, and the rest in comments when it is over the forge's limit: the
    summary comes first, cuts fall between sections (or lines, for a giant section)."""
    if len(text) <= limit:
        return [text]
    room = limit - 400  # for the part marker and the continuation note
    pieces: list[str] = []
    for section in re.split(r"(?m)^(?=## )", text):
        while len(section) > room:
            cut = section.rfind("\n", 0, room) + 1 or room
            pieces.append(section[:cut])
            section = section[cut:]
        pieces.append(section)
    parts = [""]
    for piece in pieces:
        if len(parts[-1]) + len(piece) > room:
            parts.append("")
        parts[-1] += piece
    note = (
        f"\n\n_PLAN.md is {len(text):,} characters, over this forge's limit: "
        f"it continues in {len(parts) - 1} comment(s)._\n"
    )
    return [parts[0] + note] + [f"{PART_MARKER.format(n=i)}\n{p}" for i, p in enumerate(parts[1:], start=2)]


def _upsert(forge: Forge, number: int, existing: list[tuple[int, str]], marker: str, body: str) -> None:
    """One comment per marker: edited in place, never duplicated."""
    for comment_id, text in existing:
        if text.startswith(marker) or marker in text.splitlines()[:1]:
            if text != body:
                forge.edit_comment(number, comment_id, body)
            return
    forge.add_comment(number, body)


def publish(
    forge: Forge, branch: str, base: str, title: str, plan_md: str, labels: list[str], status: str
) -> ForgePR:
    """Open the PR of `branch` or update it in place; labels; the status comment; overflow parts."""
    parts = split_body(plan_md, forge.limit)
    pr = forge.find_open(branch, base)
    if pr is None:
        pr = forge.create(branch, base, title, parts[0])
    else:
        forge.update(pr.number, title, parts[0])
    forge.add_labels(pr.number, labels)
    existing = forge.comments(pr.number)
    _upsert(forge, pr.number, existing, STATUS_MARKER, f"{STATUS_MARKER}\n{status}")
    for i, part in enumerate(parts[1:], start=2):
        _upsert(forge, pr.number, existing, PART_MARKER.format(n=i), part)
    for comment_id, text in existing:  # parts a longer PLAN.md needed before: emptied, not left stale
        found = re.match(r"<!-- migrator:plan-part (\d+) -->", text)
        if found and int(found.group(1)) > len(parts):
            unused = f"{found.group(0)}\n_(unused: PLAN.md fits in fewer parts now)_"
            if text != unused:
                forge.edit_comment(pr.number, comment_id, unused)
    return pr
