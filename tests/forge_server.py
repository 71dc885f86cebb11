"""A local HTTP server on 127.0.0.1 that answers like GitHub, GitLab and Gitea/Forgejo for the
endpoints migrator uses, with the documented request and response shapes (docs/forges.md), and
records every request. It is not any of those forges: see docs/forges.md for what this proves.

Beyond the happy path it can: paginate every listing (`page_size`; `Link: <...>; rel="next"` for
GitHub and Gitea, `X-Next-Page` for GitLab), answer rate limits first (`queued`: status, headers
and body given before the real answer), refuse a merge (`refuse_merge`), and merge for real in a
bare git repository (`git_dir`), comparing the sha guard with the branch as it is then."""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

FORGE_AUTHOR = {
    "GIT_AUTHOR_NAME": "Forge Merge",
    "GIT_AUTHOR_EMAIL": "noreply@forge.example",
    "GIT_COMMITTER_NAME": "Forge Merge",
    "GIT_COMMITTER_EMAIL": "noreply@forge.example",
}


@dataclass
class Recorded:
    method: str
    path: str  # as sent (GitLab's project path stays URL-encoded)
    query: dict[str, str]
    headers: dict[str, str]
    body: Any


@dataclass
class ForgeState:
    kind: str
    token: str
    git_dir: Path | None = None  # the bare repository a merge happens in
    requests: list[Recorded] = field(default_factory=list)
    prs: dict[int, dict[str, Any]] = field(default_factory=dict)
    comments: dict[int, dict[str, Any]] = field(default_factory=dict)  # id -> {pr, body}
    labels: dict[str, int] = field(default_factory=dict)  # name -> id
    pr_labels: dict[int, list[Any]] = field(default_factory=dict)
    statuses: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (sha, body)
    fail_with: int | None = None  # answer every request with this status
    fail_message: str = "Bad credentials"
    page_size: int = 30  # items per page of every listing
    link_base: str | None = None  # Link URLs on another origin (a hostile or broken forge)
    queued: list[tuple[int, dict[str, str], Any]] = field(default_factory=list)  # answered first
    refuse_merge: tuple[int, str] | None = None  # (status, message): branch protection and the like
    before_merge: Callable[[], None] | None = None  # runs just before a merge (a push racing it)
    after_merge: Callable[[], None] | None = None  # runs just after (the remote going away)

    def calls(self) -> list[tuple[str, str]]:
        return [(r.method, r.path) for r in self.requests]


def _auth_ok(state: ForgeState, headers: dict[str, str]) -> bool:
    expected = {
        "github": ("authorization", f"Bearer {state.token}"),
        "gitea": ("authorization", f"token {state.token}"),
        "gitlab": ("private-token", state.token),
    }[state.kind]
    return headers.get(expected[0]) == expected[1]


class _Handler(BaseHTTPRequestHandler):
    state: ForgeState

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else None
        headers = {k.lower(): v for k, v in self.headers.items()}
        query = dict(parse_qsl(parts.query))
        state = self.state
        state.requests.append(Recorded(self.command, parts.path, query, headers, body))
        if state.queued:
            status, extra, payload = state.queued.pop(0)
            return self._send(status, payload, extra)
        if state.fail_with is not None:
            return self._send(state.fail_with, {"message": state.fail_message})
        if not _auth_ok(state, headers):
            return self._send(401, {"message": "401 Unauthorized"})
        route = {"github": _github, "gitea": _gitea, "gitlab": _gitlab}[state.kind]
        status, payload = route(state, self.command, parts.path, query, body)
        extra: dict[str, str] = {}
        if self.command == "GET" and isinstance(payload, list):
            origin = state.link_base or f"http://{self.headers['Host']}"
            payload, extra = _paginate(state, origin + parts.path, query, payload)
        self._send(status, payload, extra)

    def _send(self, status: int, payload: Any, extra: dict[str, str] | None = None) -> None:
        data = b"" if payload is None else json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PATCH = do_PUT = _handle


def _paginate(
    state: ForgeState, url: str, query: dict[str, str], items: list[Any]
) -> tuple[list[Any], dict[str, str]]:
    """One page of a listing and the headers that point at the next (GitLab: X-Next-Page, empty
    on the last page; GitHub and Gitea: a Link header with rel="next" while there is one)."""
    page = int(query.get("page", "1"))
    size = state.page_size
    chunk = items[(page - 1) * size : page * size]
    more = page * size < len(items)
    if state.kind == "gitlab":
        return chunk, {"X-Page": str(page), "X-Next-Page": str(page + 1) if more else ""}
    if not more:
        return chunk, {}
    last = (len(items) + size - 1) // size
    link = ", ".join(
        f'<{url}?{urlencode({**query, "page": str(n)})}>; rel="{rel}"'
        for n, rel in ((page + 1, "next"), (last, "last"))
    )
    return chunk, {"Link": link}


def _new_comment(state: ForgeState, pr: int, text: str) -> dict[str, Any]:
    cid = 1000 + len(state.comments) + 1
    state.comments[cid] = {"id": cid, "pr": pr, "body": text}
    return {"id": cid, "body": text}


def _git(state: ForgeState, *args: str) -> str:
    assert state.git_dir is not None, "this forge has no repository to merge in"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    proc = subprocess.run(
        ["git", *args],
        capture_output=True,
        text=True,
        env={**env, **FORGE_AUTHOR, "GIT_DIR": str(state.git_dir)},
        check=False,
    )
    assert proc.returncode == 0, (args, proc.stderr)
    return proc.stdout.strip()


def _merge(state: ForgeState, branch: str, base: str, sha: str | None) -> tuple[int, str]:
    """(200, merge commit) or (409, the branch's head): a real merge commit on the base branch,
    made only while the branch is still at `sha` (the guard every forge documents)."""
    if state.before_merge is not None:
        state.before_merge()
    head = _git(state, "rev-parse", f"refs/heads/{branch}")
    if sha and sha != head:
        return 409, head
    base_tip = _git(state, "rev-parse", f"refs/heads/{base}")
    tree = _git(state, "merge-tree", "--write-tree", base_tip, head).splitlines()[0]
    commit = _git(state, "commit-tree", tree, "-p", base_tip, "-p", head, "-m", f"Merge {branch}")
    _git(state, "update-ref", f"refs/heads/{base}", commit, base_tip)
    if state.after_merge is not None:
        state.after_merge()
    return 200, commit


def _github(state: ForgeState, method: str, path: str, query: dict[str, str], body: Any) -> tuple[int, Any]:
    """GitHub REST (docs.github.com/rest): pulls, merge, issue labels, issue comments, statuses."""
    base = r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)"
    if method == "GET" and re.fullmatch(base + "/pulls", path):
        head = query.get("head", "")
        found = [
            p
            for p in state.prs.values()
            if p["state"] == "open" and f"{path.split('/')[2]}:{p['head']['ref']}" == head
        ]
        return 200, found
    if method == "POST" and re.fullmatch(base + "/pulls", path):
        number = len(state.prs) + 1
        owner, repo = path.split("/")[2:4]
        pr = {
            "number": number,
            "state": "open",
            "title": body["title"],
            "body": body["body"],
            "head": {"ref": body["head"]},
            "base": {"ref": body["base"]},
            "html_url": f"https://forge.example/{owner}/{repo}/pull/{number}",
        }
        state.prs[number] = pr
        return 201, pr
    if method == "PUT" and (m := re.fullmatch(base + r"/pulls/(\d+)/merge", path)):
        return _github_merge(state, state.prs[int(m.group(3))], body)
    if m := re.fullmatch(base + r"/pulls/(\d+)", path):
        pr = state.prs[int(m.group(3))]
        pr.update({k: v for k, v in body.items() if k in ("title", "body")})
        return 200, pr
    if method == "POST" and (m := re.fullmatch(base + r"/statuses/([0-9a-f]{40})", path)):
        state.statuses.append((m.group(3), body))
        return 201, {"id": len(state.statuses), **body}
    if m := re.fullmatch(base + r"/issues/(\d+)/labels", path):
        state.pr_labels.setdefault(int(m.group(3)), []).extend(body["labels"])
        return 200, [{"name": name} for name in body["labels"]]
    if m := re.fullmatch(base + r"/issues/(\d+)/comments", path):
        number = int(m.group(3))
        if method == "GET":
            return 200, [
                {"id": c["id"], "body": c["body"]} for c in state.comments.values() if c["pr"] == number
            ]
        return 201, _new_comment(state, number, body["body"])
    if m := re.fullmatch(base + r"/issues/comments/(\d+)", path):
        state.comments[int(m.group(3))]["body"] = body["body"]
        return 200, {"id": int(m.group(3)), "body": body["body"]}
    return 404, {"message": "Not Found"}


def _github_merge(state: ForgeState, pr: dict[str, Any], body: Any) -> tuple[int, Any]:
    """200 {sha, merged, message}; 405 not mergeable; 409 the head moved (sha guard)."""
    if state.refuse_merge is not None:
        return state.refuse_merge[0], {"message": state.refuse_merge[1]}
    if pr["state"] != "open":
        return 405, {"message": "Pull Request is not mergeable"}
    status, sha = _merge(state, pr["head"]["ref"], pr["base"]["ref"], body.get("sha"))
    if status == 409:
        return 409, {"message": f"Head branch was modified. Review and try the merge again ({sha[:7]})."}
    pr["state"], pr["merged"] = "closed", True
    return 200, {"sha": sha, "merged": True, "message": "Pull Request successfully merged"}


def _gitea(state: ForgeState, method: str, path: str, query: dict[str, str], body: Any) -> tuple[int, Any]:
    """Gitea/Forgejo API v1: like GitHub under /api/v1, labels by id, merge by POST."""
    path = path.removeprefix("/api/v1")
    base = r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)"
    if method == "GET" and re.fullmatch(base + "/pulls", path):
        return 200, [p for p in state.prs.values() if p["state"] == "open"]
    if method == "POST" and (m := re.fullmatch(base + r"/pulls/(\d+)/merge", path)):
        return _gitea_merge(state, state.prs[int(m.group(3))], body)
    if re.fullmatch(base + "/labels", path):
        if method == "GET":
            return 200, [{"id": i, "name": n} for n, i in state.labels.items()]
        state.labels[body["name"]] = 100 + len(state.labels)
        return 201, {"id": state.labels[body["name"]], "name": body["name"], "color": body["color"]}
    if m := re.fullmatch(base + r"/issues/(\d+)/labels", path):
        state.pr_labels.setdefault(int(m.group(3)), []).extend(body["labels"])
        names = {i: n for n, i in state.labels.items()}
        return 200, [{"id": i, "name": names[i]} for i in body["labels"]]
    if method == "PUT" and re.fullmatch(base + r"/pulls/(\d+)/merge", path):
        return 405, {"message": "Method Not Allowed"}  # Gitea merges by POST
    return _github(state, method, path, query, body)


def _gitea_merge(state: ForgeState, pr: dict[str, Any], body: Any) -> tuple[int, Any]:
    """MergePullRequestOption {Do, head_commit_id}: 200 with an empty body, 405, 409."""
    if state.refuse_merge is not None:
        return state.refuse_merge[0], {"message": state.refuse_merge[1]}
    if body.get("Do") != "merge" or pr["state"] != "open":
        return 405, {"message": "Please try again later"}
    status, _ = _merge(state, pr["head"]["ref"], pr["base"]["ref"], body.get("head_commit_id"))
    if status == 409:
        return 409, {"message": "head out of date"}
    pr["state"], pr["merged"] = "closed", True
    return 200, None


GITLAB = re.compile(
    r"/api/v4/projects/(?P<project>[^/]+)/(?:statuses/(?P<sha>[0-9a-f]{40})|merge_requests"
    r"(?:/(?P<iid>\d+))?(?P<merge>/merge)?(?P<notes>/notes)?(?:/(?P<note>\d+))?)"
)


def _gitlab(state: ForgeState, method: str, path: str, query: dict[str, str], body: Any) -> tuple[int, Any]:
    """GitLab REST v4: merge requests (iid), their merge, notes, commit statuses."""
    m = GITLAB.fullmatch(path)
    if not m:  # the project is addressed by its URL-encoded path: a bare "/" would not match
        return 404, {"message": "404 Project Not Found"}
    if m.group("sha"):
        state.statuses.append((m.group("sha"), body))
        return 201, {"id": len(state.statuses), "sha": m.group("sha"), "status": body["state"]}
    iid = int(m.group("iid")) if m.group("iid") else None
    if m.group("merge"):
        assert iid is not None and method == "PUT"
        return _gitlab_merge(state, state.prs[iid], body)
    if m.group("notes"):
        assert iid is not None
        if method == "GET":
            return 200, [
                {"id": c["id"], "body": c["body"]} for c in state.comments.values() if c["pr"] == iid
            ]
        if method == "POST":
            return 201, _new_comment(state, iid, body["body"])
        state.comments[int(m.group("note"))]["body"] = body["body"]
        return 200, {"id": int(m.group("note")), "body": body["body"]}
    if iid is None and method == "GET":
        found = [
            p
            for p in state.prs.values()
            if p["state"] == "opened" and p["source_branch"] == query.get("source_branch")
        ]
        return 200, found
    if iid is None and method == "POST":
        return 201, _gitlab_create(state, unquote(m.group("project")), body)
    assert iid is not None
    mr = state.prs[iid]
    if "add_labels" in body:
        state.pr_labels.setdefault(iid, []).extend(body["add_labels"].split(","))
    mr.update({k: v for k, v in body.items() if k in ("title", "description")})
    return 200, mr


def _gitlab_create(state: ForgeState, project: str, body: Any) -> dict[str, Any]:
    number = len(state.prs) + 1
    mr = {
        "iid": number,
        "id": 5000 + number,
        "state": "opened",
        "title": body["title"],
        "description": body["description"],
        "source_branch": body["source_branch"],
        "target_branch": body["target_branch"],
        "web_url": f"https://gitlab.example/{project}/-/merge_requests/{number}",
    }
    state.prs[number] = mr
    return mr


def _gitlab_merge(state: ForgeState, mr: dict[str, Any], body: Any) -> tuple[int, Any]:
    """200 the merged MR (merge_commit_sha); 405/406/422 refusals; 409 the sha guard."""
    if state.refuse_merge is not None:
        return state.refuse_merge[0], {"message": state.refuse_merge[1]}
    if mr["state"] != "opened":
        return 405, {"message": "405 Method Not Allowed"}
    status, sha = _merge(state, mr["source_branch"], mr["target_branch"], body.get("sha"))
    if status == 409:
        return 409, {"message": f"SHA does not match HEAD of source branch: {sha}"}
    mr.update(state="merged", merge_commit_sha=sha, sha=body.get("sha"))
    return 200, mr


class ForgeServer:
    def __init__(self, kind: str, token: str, git_dir: Path | None = None) -> None:
        self.state = ForgeState(kind, token, git_dir)
        handler = type("Handler", (_Handler,), {"state": self.state})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        prefix = {"github": "", "gitea": "/api/v1", "gitlab": "/api/v4"}[self.state.kind]
        return f"http://{host!s}:{port}{prefix}"

    def __enter__(self) -> ForgeServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
