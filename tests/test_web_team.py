"""Team mode against a real `migrator serve` (a subprocess on loopback, real SQLite): every request
needs a person's own token, approvals and merges act as the token's person whatever the body says,
a viewer cannot merge, a reviewer cannot approve, a revoked token is refused at once, and the audit
log names who did each change."""

from __future__ import annotations

import http.client
import json
import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from migrator.app.identities import add_identity, cli_actor, revoke_identity
from migrator.app.workspace import Workspace
from tests.helpers import migrator, migrator_command
from tests.web_helpers import planned_workspace

PEOPLE = (("ana", "approver"), ("rita", "reviewer"), ("vic", "viewer"), ("olga", "viewer"))


@dataclass
class Team:
    folder: Path
    port: int
    tokens: dict[str, str]

    def call(
        self,
        method: str,
        path: str,
        who: str | None = None,
        body: object = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, str, http.client.HTTPResponse]:
        sent = {"Host": f"127.0.0.1:{self.port}", **(headers or {})}
        if who is not None:
            sent["Authorization"] = f"Bearer {self.tokens[who]}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
            sent["X-CSRF-Token"] = self.csrf()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        conn.request(method, path, body=data, headers=sent)
        response = conn.getresponse()
        text = response.read().decode()
        conn.close()
        return response.status, text, response

    def csrf(self) -> str:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        conn.request(
            "GET",
            "/prs/1",
            headers={"Host": f"127.0.0.1:{self.port}", "Authorization": f"Bearer {self.tokens['vic']}"},
        )
        page = conn.getresponse().read().decode()
        conn.close()
        found = re.search(r'name="csrf-token" content="([^"]+)"', page)
        assert found, page[:300]
        return found[1]

    def pr(self) -> dict[str, object]:
        status, text, _ = self.call("GET", "/api/prs/1", "vic")
        assert status == 200, text
        result: dict[str, object] = json.loads(text)
        return result

    def audit(self) -> list[tuple[str, str, str, str]]:
        listed = migrator("audit", "list", "--format", "json", workspace=self.folder)
        assert listed.code == 0, listed.stderr
        return [(r["who"], r["via"], r["action"], r["target"]) for r in listed.json()]


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Team]:
    folder = tmp_path_factory.mktemp("team") / "ws"
    ws = planned_workspace(folder)
    tokens = {name: add_identity(ws, name, role, cli_actor("lead")).token for name, role in PEOPLE}
    ws.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIGRATOR_")}
    proc = subprocess.Popen(
        migrator_command("serve", "--port", "0", workspace=folder),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    match = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
    assert match, line + (proc.stderr.read() if proc.stderr else "")
    yield Team(folder, int(match[1]), tokens)
    proc.terminate()
    proc.wait(timeout=30)


def test_every_request_needs_a_persons_token(team: Team) -> None:
    for path in ("/api/overview", "/api/prs"):
        status, text, _ = team.call("GET", path)
        assert (status, json.loads(text)) == (401, {"detail": "a valid dashboard token is required"})
        assert team.call("GET", path, headers={"Authorization": "Bearer mgr_guessed"})[0] == 401
        assert team.call("GET", path, "vic")[0] == 200
    status, _, response = team.call("GET", "/prs/1")
    assert (status, response.getheader("location")) == (303, "/login")


def test_the_login_form_takes_a_persons_token_and_its_cookie_admits(team: Team) -> None:
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    conn = http.client.HTTPConnection("127.0.0.1", team.port, timeout=60)
    conn.request(
        "POST",
        "/login",
        body=f"token={team.tokens['rita']}",
        headers={"Host": f"127.0.0.1:{team.port}", **form},
    )
    response = conn.getresponse()
    response.read()
    conn.close()
    assert response.status == 303
    cookie = (response.getheader("set-cookie") or "").split(";")[0]
    assert cookie == f"migrator_dashboard={team.tokens['rita']}"
    status, page, _ = team.call("GET", "/prs/1", headers={"Cookie": cookie})
    assert status == 200 and "signed in as rita (reviewer)" in page and 'id="reviewer"' not in page
    conn = http.client.HTTPConnection("127.0.0.1", team.port, timeout=60)
    conn.request("POST", "/login", body="token=mgr_wrong", headers={"Host": f"127.0.0.1:{team.port}", **form})
    assert conn.getresponse().status == 401
    conn.close()


def test_a_viewer_trying_to_merge_gets_403_and_nothing_changes(team: Team) -> None:
    before = team.pr()
    status, text, _ = team.call("POST", "/api/prs/1/merge", "vic", {"use_tools": False})
    assert (status, json.loads(text)) == (403, {"detail": "vic is a viewer: viewers change nothing"})
    status, text, _ = team.call("POST", "/api/prs/1/approve", "vic", {"by": "ana"})
    assert status == 403
    assert team.pr() == before
    assert [a for a in team.audit() if a[1] == "web"] == []


def test_a_reviewer_trying_to_approve_gets_403_but_may_pin(team: Team) -> None:
    status, text, _ = team.call("POST", "/api/prs/1/approve", "rita", {"by": "ana"})
    assert (status, json.loads(text)) == (
        403,
        {"detail": "rita is a reviewer: to approve needs the approver role or above"},
    )
    status, text, _ = team.call("POST", "/api/prs/1/merge", "rita", {"use_tools": False})
    assert status == 403
    assert team.pr()["approvals"] == [] and team.pr()["status"] == "open"
    status, text, _ = team.call("POST", "/api/pins", "rita", {"vm": "crm-web-01", "wave": 2, "by": "mallory"})
    assert status == 200, text
    assert [a for a in team.audit() if a[1] == "web"] == [("rita", "web", "pin.set", "vm:crm-web-01")]


def test_an_approval_naming_someone_else_records_the_tokens_person(team: Team) -> None:
    status, text, _ = team.call("POST", "/api/prs/1/approve", "ana", {"by": "mallory"})
    assert status == 200, text
    approvals = json.loads(text)["approvals"]
    assert [a["by"] for a in approvals] == ["ana"]
    status, text, _ = team.call("POST", "/api/prs/1/merge", "ana", {"use_tools": False})
    assert status == 200, text
    assert team.pr()["status"] == "merged"
    assert [a for a in team.audit() if a[1] == "web"] == [
        ("rita", "web", "pin.set", "vm:crm-web-01"),
        ("ana", "web", "pr.approve", "pr:1"),
        ("ana", "web", "pr.merge", "pr:1"),
    ]
    shown = migrator("pr", "show", "1", "--format", "json", workspace=team.folder).json()
    assert shown["approvals"] == ["ana"] and "mallory" not in json.dumps(shown)


def test_a_token_revoked_while_the_server_runs_is_refused_at_once(team: Team) -> None:
    assert team.call("GET", "/api/overview", "olga")[0] == 200
    ws = Workspace.open(team.folder)
    revoke_identity(ws, "olga", cli_actor("lead"))
    ws.close()
    status, text, _ = team.call("GET", "/api/overview", "olga")
    assert (status, json.loads(text)) == (401, {"detail": "a valid dashboard token is required"})
    assert team.call("GET", "/api/overview", "vic")[0] == 200


def test_the_rebinding_request_is_refused_even_with_a_valid_token(team: Team) -> None:
    evil = {"Host": f"evil.example.com:{team.port}"}
    status, _, _ = team.call("GET", "/api/prs", "ana", headers=evil)
    assert status == 421


def test_no_token_is_stored_in_clear(team: Team) -> None:
    stored = b"".join(p.read_bytes() for p in team.folder.glob("inventory.db*"))
    for token in team.tokens.values():
        assert token.encode() not in stored and token[4:].encode() not in stored
