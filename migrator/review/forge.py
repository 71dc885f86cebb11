"""Forges: the pull request of a landed branch on GitHub, GitLab or Gitea/Forgejo, its commit
status, and its merge.

Plain HTTPS against each forge's documented REST endpoints (the shapes relied on, with links, are
in docs/forges.md; pagination and rate limits in forge_http). The token comes from an environment
variable and travels only in a request header; it never reaches argv, a log line, an error
message or the store. Every failure is one ForgeError line (exit 9) naming the request and the
forge's answer; what was landed locally stays.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass
from typing import Any

from migrator.errors import ForgeError, UsageError
from migrator.review.forge_http import (
    ForgeAnswered,
    Http,
    HttpSettings,
    Pacing,
    link_next,
    page_header_next,
)

STATUS_MARKER = "<!-- migrator:status -->"
PART_MARKER = "<!-- migrator:plan-part {n} -->"
STATUS_CONTEXT = "migrator/validate"  # the commit status migrator owns on each forge
STATUS_LIMIT = 140  # characters of a status description (GitHub's documented maximum)
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


class Forge:
    """The operations migrator needs; each forge maps them to its own endpoints."""

    limit = 65_536  # characters of a PR body or a comment
    next_page = staticmethod(link_next)  # GitHub and Gitea: the Link header
    refusals: tuple[int, ...] = (405, 409)  # a merge the forge will not do (documented codes)
    pr_mark = "#"  # how the forge writes a PR's number (GitLab: !7)

    def __init__(self, settings: ForgeSettings, pacing: Pacing | None = None) -> None:
        self.settings = settings
        auth = HttpSettings(settings.kind, settings.api, settings.token, self.auth_headers(settings.token))
        self.http = Http(auth, self.next_page, pacing)
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

    def set_status(self, sha: str, ok: bool, description: str) -> None:
        """The commit status `migrator/validate` on `sha`: success or failure, and why."""
        raise NotImplementedError

    def merge_request(self, number: int, sha: str) -> str | None:
        """Merge PR `number` only while its head is `sha`; the merge commit, if the forge says."""
        raise NotImplementedError

    def merge(self, number: int, sha: str) -> str | None:
        """The forge's merge, its refusal (branch protection, required reviews or checks, a head
        that moved) as one line with the forge's reason."""
        try:
            return self.merge_request(number, sha)
        except ForgeAnswered as exc:
            if exc.status not in self.refusals:
                raise
            refused = f"{self.settings.kind} refused the merge of {self.pr_mark}{number}"
            raise ForgeError(f"{refused} ({exc.status}): {exc.reason}") from None


def _description(text: str) -> str:
    flat = re.sub(r"\s+", " ", text).strip()
    return flat if len(flat) <= STATUS_LIMIT else flat[: STATUS_LIMIT - 1] + "…"


class GitHub(Forge):
    def auth_headers(self, token: str | None) -> dict[str, str]:
        base = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
        return {**base, **({"Authorization": f"Bearer {token}"} if token else {})}

    def find_open(self, branch: str, base: str) -> ForgePR | None:
        owner = self.settings.repo.split("/")[0]
        found = self.http.pages(
            f"/repos/{self.repo_path}/pulls",
            {"head": f"{owner}:{branch}", "state": "open", "per_page": "100"},
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
        found = self.http.pages(f"/repos/{self.repo_path}/issues/{number}/comments", {"per_page": "100"})
        return [(c["id"], c.get("body") or "") for c in found]

    def add_comment(self, number: int, body: str) -> None:
        self.http.call("POST", f"/repos/{self.repo_path}/issues/{number}/comments", {"body": body})

    def edit_comment(self, number: int, comment_id: int, body: str) -> None:
        self.http.call("PATCH", f"/repos/{self.repo_path}/issues/comments/{comment_id}", {"body": body})

    def set_status(self, sha: str, ok: bool, description: str) -> None:
        body = {
            "state": "success" if ok else "failure",
            "context": STATUS_CONTEXT,
            "description": _description(description),
        }
        self.http.call("POST", f"/repos/{self.repo_path}/statuses/{sha}", body)

    def merge_request(self, number: int, sha: str) -> str | None:
        merged = self.http.call(
            "PUT", f"/repos/{self.repo_path}/pulls/{number}/merge", {"sha": sha, "merge_method": "merge"}
        )
        return _sha(merged, "sha")


class GitLab(Forge):
    limit = 1_048_576  # the documented maximum of a merge request description
    next_page = staticmethod(page_header_next)
    refusals = (405, 406, 409, 422)
    pr_mark = "!"

    def auth_headers(self, token: str | None) -> dict[str, str]:
        return {"PRIVATE-TOKEN": token} if token else {}

    def encode_repo(self, repo: str) -> str:
        return urllib.parse.quote(repo, safe="")  # a project is addressed by its URL-encoded path

    def _mr(self, number: int | None = None) -> str:
        return f"/projects/{self.repo_path}/merge_requests" + (f"/{number}" if number is not None else "")

    def find_open(self, branch: str, base: str) -> ForgePR | None:
        found = self.http.pages(
            self._mr(),
            {"source_branch": branch, "target_branch": base, "state": "opened", "per_page": "100"},
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
        found = self.http.pages(f"{self._mr(number)}/notes", {"per_page": "100"})
        return [(n["id"], n.get("body") or "") for n in found]

    def add_comment(self, number: int, body: str) -> None:
        self.http.call("POST", f"{self._mr(number)}/notes", {"body": body})

    def edit_comment(self, number: int, comment_id: int, body: str) -> None:
        self.http.call("PUT", f"{self._mr(number)}/notes/{comment_id}", {"body": body})

    def set_status(self, sha: str, ok: bool, description: str) -> None:
        body = {
            "state": "success" if ok else "failed",
            "name": STATUS_CONTEXT,
            "description": _description(description),
        }
        self.http.call("POST", f"/projects/{self.repo_path}/statuses/{sha}", body)

    def merge_request(self, number: int, sha: str) -> str | None:
        merged = self.http.call("PUT", f"{self._mr(number)}/merge", {"sha": sha})
        return _sha(merged, "merge_commit_sha")


class Gitea(GitHub):
    """Gitea and Forgejo: GitHub-like paths under /api/v1, labels by id, `token` authorization,
    `limit` for the page size, merge by POST."""

    def auth_headers(self, token: str | None) -> dict[str, str]:
        return {"Authorization": f"token {token}"} if token else {}

    def find_open(self, branch: str, base: str) -> ForgePR | None:
        found = self.http.pages(f"/repos/{self.repo_path}/pulls", {"state": "open", "limit": "50"})
        for pr in found:
            if (pr.get("head") or {}).get("ref") == branch:
                return ForgePR(pr["number"], pr["html_url"])
        return None

    def add_labels(self, number: int, labels: list[str]) -> None:
        listed = self.http.pages(f"/repos/{self.repo_path}/labels", {"limit": "50"})
        existing = {lb["name"]: lb["id"] for lb in listed}
        for name in labels:
            if name not in existing:
                made = self.http.call(
                    "POST", f"/repos/{self.repo_path}/labels", {"name": name, "color": "#0e8a16"}
                )
                existing[name] = made["id"]
        ids = [existing[name] for name in labels]
        self.http.call("POST", f"/repos/{self.repo_path}/issues/{number}/labels", {"labels": ids})

    def merge_request(self, number: int, sha: str) -> str | None:
        merged = self.http.call(
            "POST", f"/repos/{self.repo_path}/pulls/{number}/merge", {"Do": "merge", "head_commit_id": sha}
        )
        return _sha(merged, "merge_commit_sha")  # Gitea answers 200 with no body: None


def _sha(answer: Any, key: str) -> str | None:
    value = answer.get(key) if isinstance(answer, dict) else None
    return value if isinstance(value, str) and re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", value) else None


def forge_for(settings: ForgeSettings, pacing: Pacing | None = None) -> Forge:
    return {"github": GitHub, "gitlab": GitLab, "gitea": Gitea}[settings.kind](settings, pacing)


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
