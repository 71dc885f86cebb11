"""A local HTTP server on 127.0.0.1 that answers like GitHub, GitLab and Gitea/Forgejo for the
endpoints migrator uses, with the documented request and response shapes (docs/forges.md), and
records every request. It is not any of those forges: see docs/forges.md for what this proves."""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit


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
    requests: list[Recorded] = field(default_factory=list)
    prs: dict[int, dict[str, Any]] = field(default_factory=dict)
    comments: dict[int, dict[str, Any]] = field(default_factory=dict)  # id -> {pr, body}
    labels: dict[str, int] = field(default_factory=dict)  # name -> id
    pr_labels: dict[int, list[Any]] = field(default_factory=dict)
    fail_with: int | None = None  # answer every request with this status

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
        state = self.state
        state.requests.append(Recorded(self.command, parts.path, dict(parse_qsl(parts.query)), headers, body))
        if state.fail_with is not None:
            return self._send(state.fail_with, {"message": "Bad credentials"})
        if not _auth_ok(state, headers):
            return self._send(401, {"message": "401 Unauthorized"})
        route = {"github": _github, "gitea": _gitea, "gitlab": _gitlab}[state.kind]
        status, payload = route(state, self.command, parts.path, dict(parse_qsl(parts.query)), body)
        self._send(status, payload)

    def _send(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PATCH = do_PUT = _handle


def _new_comment(state: ForgeState, pr: int, text: str) -> dict[str, Any]:
    cid = 1000 + len(state.comments) + 1
    state.comments[cid] = {"id": cid, "pr": pr, "body": text}
    return {"id": cid, "body": text}


def _github(state: ForgeState, method: str, path: str, query: dict[str, str], body: Any) -> tuple[int, Any]:
    """GitHub REST (docs.github.com/rest): pulls, issue labels, issue comments."""
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
    if m := re.fullmatch(base + r"/pulls/(\d+)", path):
        pr = state.prs[int(m.group(3))]
        pr.update({k: v for k, v in body.items() if k in ("title", "body")})
        return 200, pr
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


def _gitea(state: ForgeState, method: str, path: str, query: dict[str, str], body: Any) -> tuple[int, Any]:
    """Gitea/Forgejo API v1: like GitHub under /api/v1, labels by id."""
    path = path.removeprefix("/api/v1")
    base = r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)"
    if method == "GET" and re.fullmatch(base + "/pulls", path):
        return 200, [p for p in state.prs.values() if p["state"] == "open"]
    if re.fullmatch(base + "/labels", path):
        if method == "GET":
            return 200, [{"id": i, "name": n} for n, i in state.labels.items()]
        state.labels[body["name"]] = 100 + len(state.labels)
        return 201, {"id": state.labels[body["name"]], "name": body["name"], "color": body["color"]}
    if m := re.fullmatch(base + r"/issues/(\d+)/labels", path):
        state.pr_labels.setdefault(int(m.group(3)), []).extend(body["labels"])
        names = {i: n for n, i in state.labels.items()}
        return 200, [{"id": i, "name": names[i]} for i in body["labels"]]
    return _github(state, method, path, query, body)


def _gitlab(state: ForgeState, method: str, path: str, query: dict[str, str], body: Any) -> tuple[int, Any]:
    """GitLab REST v4: merge requests (iid), notes."""
    m = re.fullmatch(
        r"/api/v4/projects/(?P<project>[^/]+)/merge_requests(?:/(?P<iid>\d+))?(?P<notes>/notes)?(?:/(?P<note>\d+))?",
        path,
    )
    if not m:  # the project is addressed by its URL-encoded path: a bare "/" would not match
        return 404, {"message": "404 Project Not Found"}
    iid = int(m.group("iid")) if m.group("iid") else None
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
        number = len(state.prs) + 1
        mr = {
            "iid": number,
            "id": 5000 + number,
            "state": "opened",
            "title": body["title"],
            "description": body["description"],
            "source_branch": body["source_branch"],
            "target_branch": body["target_branch"],
            "web_url": f"https://gitlab.example/{unquote(m.group('project'))}/-/merge_requests/{number}",
        }
        state.prs[number] = mr
        return 201, mr
    assert iid is not None
    mr = state.prs[iid]
    if "add_labels" in body:
        state.pr_labels.setdefault(iid, []).extend(body["add_labels"].split(","))
    mr.update({k: v for k, v in body.items() if k in ("title", "description")})
    return 200, mr


class ForgeServer:
    def __init__(self, kind: str, token: str) -> None:
        self.state = ForgeState(kind, token)
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
