"""Team mode's people on the CLI: tokens shown once and stored only as hashes, roles checked,
revocation, the audit log, and one-line errors with their exit codes for unknown names and roles."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from migrator.app.identities import Actor, authenticate
from migrator.app.workspace import Workspace
from migrator.errors import ExitCode, Forbidden
from tests.helpers import assert_one_line_error, migrator
from tests.web_helpers import planned_workspace

TOKEN = re.compile(r"mgr_[A-Za-z0-9_-]{43}")


def _add(workspace: Path, name: str, role: str, who: str = "lead") -> str:
    result = migrator("identities", "add", name, "--role", role, "--who", who, workspace=workspace)
    assert result.code == 0, result.stderr
    assert TOKEN.fullmatch(result.stdout.strip()), result.stdout  # the token, alone on stdout
    assert result.stderr == f"identity {name} added as {role}; the token above is shown only now\n"
    return result.stdout.strip()


def test_a_token_is_printed_once_and_only_its_hash_is_stored(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    tokens = {name: _add(workspace, name, role) for name, role in (("ana", "approver"), ("vic", "viewer"))}
    assert tokens["ana"] != tokens["vic"]
    listed = migrator("identities", "list", "--format", "json", workspace=workspace)
    assert listed.code == 0, listed.stderr
    assert [(i["name"], i["role"], i["active"], i["revoked_at"]) for i in listed.json()] == [
        ("ana", "approver", True, None),
        ("vic", "viewer", True, None),
    ]
    assert set(listed.json()[0]) == {"name", "role", "created_at", "revoked_at", "active"}
    table = migrator("identities", "list", workspace=workspace).stdout
    db = (workspace / "inventory.db").read_bytes()
    for token in tokens.values():
        assert token not in table and token not in listed.stdout
        assert token.encode() not in db and token[4:].encode() not in db  # not even without its prefix
        assert hashlib.sha256(token.encode()).hexdigest().encode() in db  # what is kept instead


def test_revoked_tokens_no_longer_authenticate(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    token = _add(workspace, "rita", "reviewer")
    ws = Workspace.open(workspace)
    assert authenticate(ws, token) == Actor("rita", "web", "reviewer")
    assert authenticate(ws, token + "x") is None and authenticate(ws, "") is None
    revoked = migrator("identities", "revoke", "rita", workspace=workspace)
    assert revoked.code == 0, revoked.stderr
    assert re.fullmatch(r"identity rita revoked at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n", revoked.stdout)
    assert authenticate(ws, token) is None
    assert [
        i["active"] for i in migrator("identities", "list", "--format", "json", workspace=workspace).json()
    ] == [False]
    ws.close()


def test_unknown_names_roles_and_reused_names_are_one_line_errors(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    _add(workspace, "ana", "approver")
    cases = [
        (
            ("identities", "add", "eve", "--role", "admin"),
            ExitCode.USAGE,
            "--role 'admin': use one of viewer, reviewer, approver",
        ),
        (("identities", "add", "a b", "--role", "viewer"), ExitCode.USAGE, "identity name 'a b'"),
        (
            ("identities", "add", "ana", "--role", "viewer"),
            ExitCode.CONFLICT,
            "an identity named 'ana' already exists",
        ),
        (("identities", "revoke", "zed"), ExitCode.NOT_FOUND, "no identity named 'zed'"),
        (("audit", "list", "--since", "yesterday"), ExitCode.USAGE, "--since 'yesterday': give 30m"),
    ]
    for args, code, fragment in cases:
        assert_one_line_error(migrator(*args, workspace=workspace), code, fragment)
    assert migrator("identities", "revoke", "ana", workspace=workspace).code == 0
    assert_one_line_error(
        migrator("identities", "revoke", "ana", workspace=workspace), ExitCode.CONFLICT, "already revoked"
    )
    names = [
        i["name"] for i in migrator("identities", "list", "--format", "json", workspace=workspace).json()
    ]
    assert names == ["ana"]  # nothing refused was stored


def test_roles_nest_and_a_role_is_refused_what_it_may_not_do() -> None:
    viewer, reviewer, approver = (
        Actor(n, "web", r) for n, r in (("v", "viewer"), ("r", "reviewer"), ("a", "approver"))
    )
    assert [a.may("pin") for a in (viewer, reviewer, approver)] == [False, True, True]
    assert [a.may("approve") for a in (viewer, reviewer, approver)] == [False, False, True]
    assert Actor("root", "cli").may("merge")  # the CLI's user: the database is theirs anyway
    with pytest.raises(Forbidden) as refused:
        reviewer.require("merge")
    assert refused.value.message == "r is a reviewer: to merge needs the approver role or above"
    assert refused.value.exit_code == ExitCode.FORBIDDEN


def test_the_audit_log_names_who_did_each_change_and_filters_by_time(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    _add(workspace, "ana", "approver", who="lead")
    env = {"LOGNAME": "casey", "USER": "casey"}
    assert migrator("identities", "revoke", "ana", workspace=workspace, env=env).code == 0
    records = migrator("audit", "list", "--format", "json", workspace=workspace).json()
    assert [(r["who"], r["via"], r["action"], r["target"], r["detail"]) for r in records] == [
        ("lead", "cli", "identity.add", "identity:ana", {"role": "approver"}),
        ("casey", "cli", "identity.revoke", "identity:ana", {}),
    ]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", r["at"]) for r in records)
    recent = migrator("audit", "list", "--since", "1h", "--format", "json", workspace=workspace).json()
    assert [r["id"] for r in recent] == [r["id"] for r in records]
    later = migrator("audit", "list", "--since", "2999-01-01", "--format", "json", workspace=workspace).json()
    assert later == []


def test_cli_changes_are_audited_as_the_named_person_or_the_login_name(tmp_path: Path) -> None:
    folder = tmp_path / "ws"
    planned_workspace(folder).close()  # lands PR #1 as this process's user
    casey = {"LOGNAME": "casey", "USER": "casey"}
    steps = [
        (("waves", "pin", "crm-web-01", "--wave", "2"), casey),
        (("waves", "unpin", "crm-web-01"), casey),
        (("pr", "approve", "1", "--by", "alice"), casey),
        (("pr", "close", "1"), casey),
    ]
    for args, env in steps:
        result = migrator(*args, workspace=folder, env=env)
        assert result.code == 0, (args, result.stderr)
    edit = tmp_path / "pin.json"
    edit.write_text(json.dumps({"version": 1, "kind": "wave-pin", "vm": "crm-db-01", "wave": 1}))
    added = migrator(
        "edits", "add", str(edit), "--who", "dora", "--format", "json", workspace=folder, env=casey
    )
    assert added.code == 0, added.stderr
    edit_id = added.json()["id"]
    assert migrator("edits", "revert", str(edit_id), workspace=folder, env=casey).code == 0
    records = migrator("audit", "list", "--format", "json", workspace=folder).json()
    assert [(r["who"], r["via"], r["action"], r["target"]) for r in records][1:] == [
        ("casey", "cli", "pin.set", "vm:crm-web-01"),
        ("casey", "cli", "pin.remove", "vm:crm-web-01"),
        ("alice", "cli", "pr.approve", "pr:1"),
        ("casey", "cli", "pr.close", "pr:1"),
        ("dora", "cli", "pin.set", "vm:crm-db-01"),
        ("dora", "cli", "edit.add", f"edit:{edit_id}"),
        ("casey", "cli", "edit.revert", f"edit:{edit_id}"),
    ]
    landed = records[0]
    assert (landed["via"], landed["action"], landed["target"]) == ("cli", "pr.land", "pr:1")
    assert landed["detail"]["action"] == "created" and landed["detail"]["wave"] == 1
    assert records[3]["detail"]["by"] == "alice" and re.fullmatch(
        r"[0-9a-f]{40}", records[3]["detail"]["commit"]
    )
