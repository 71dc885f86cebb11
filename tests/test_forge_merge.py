# ruff: noqa: F811  (pytest fixtures imported from tests.test_prs are parameters here)
"""`pr merge` of a PR on a forge: migrator's guard first (its verdict posted as the commit status
of the branch's tip), then the forge's own merge API with the head sha guard, so the forge's
protections decide and the forge records the merge; a refusal is exit 9 with the forge's
reason; a push racing the merge is refused by the sha guard; afterwards the local plans
repository has fetched what the forge made. The forge server merges for real in the bare remote."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.forge_server import ForgeServer
from tests.helpers import Result, assert_one_line_error, migrator
from tests.test_forges import BRANCH, ENV, TOKEN, land_args, land_on, remote
from tests.test_prs import (  # noqa: F401 (fixtures)
    REVIEWER,
    generated,
    git,
    prs,
    reviewer_commit,
    ws,
)

PATHS = {
    "github": ("/repos/acme/plans/statuses/{sha}", "PUT", "/repos/acme/plans/pulls/1/merge"),
    "gitlab": (
        "/api/v4/projects/acme%2Fplans/statuses/{sha}",
        "PUT",
        "/api/v4/projects/acme%2Fplans/merge_requests/1/merge",
    ),
    "gitea": ("/api/v1/repos/acme/plans/statuses/{sha}", "POST", "/api/v1/repos/acme/plans/pulls/1/merge"),
}
REFUSALS = {  # what branch protection and the like answer (status, message), and how the PR is named
    "github": (405, "At least 1 approving review is required by reviewers with write access.", "#1"),
    "gitlab": (406, "Branch cannot be merged", "!1"),
    "gitea": (405, "Not all required status checks successful", "#1"),
}


def merge_body(kind: str, sha: str) -> dict[str, Any]:
    return {
        "github": {"sha": sha, "merge_method": "merge"},
        "gitlab": {"sha": sha},
        "gitea": {"Do": "merge", "head_commit_id": sha},
    }[kind]


def status_body(kind: str, ok: bool, description: str) -> dict[str, Any]:
    if kind == "gitlab":
        return {
            "state": "success" if ok else "failed",
            "name": "migrator/validate",
            "description": description,
        }
    return {
        "state": "success" if ok else "failure",
        "context": "migrator/validate",
        "description": description,
    }


def merge(ws: Path, *extra: str) -> Result:
    return migrator(
        "pr", "merge", "1", "--no-tools", "--token-env", "PLANS_TOKEN", *extra, workspace=ws, env=ENV
    )


def approve(ws: Path) -> None:
    assert migrator("pr", "approve", "1", "--by", "alice", workspace=ws).code == 0


def local_plans_repo(ws: Path) -> Path:
    [repo] = (ws / "plans-remotes").glob("*.git")
    return repo


@pytest.mark.parametrize("kind", ["github", "gitlab", "gitea"])
def test_merge_goes_through_the_forge_which_can_refuse_and_guards_the_head(
    ws: Path, tmp_path: Path, kind: str
) -> None:
    url = remote(tmp_path)
    bare = Path(url.removeprefix("file://"))
    status_path, method, merge_path = PATHS[kind]
    with ForgeServer(kind, TOKEN, git_dir=bare) as server:
        row = land_on(ws, server, url, kind)
        base_before = git("rev-parse", "main", cwd=bare)
        approve(ws)

        code, message, mark = REFUSALS[kind]
        server.state.refuse_merge = (code, message)
        server.state.requests.clear()
        refused = merge(ws)
        assert_one_line_error(
            refused,
            9,
            f"error: pull request #1 not merged: {kind} refused the merge of {mark} ({code}): {message}",
        )
        assert server.state.calls() == [("POST", status_path.format(sha=row["commit"])), (method, merge_path)]
        assert server.state.requests[1].body == merge_body(kind, row["commit"])
        assert git("rev-parse", "main", cwd=bare) == base_before and prs(ws)[0]["status"] == "approved"

        server.state.refuse_merge = None
        pushed: list[str] = []
        server.state.before_merge = lambda: pushed.append(
            reviewer_commit(url, BRANCH, tmp_path, {"kubevirt/wave-01/PLAN.md": "+late\n"}, "Late push")
        )
        raced = merge(ws)
        assert_one_line_error(
            raced, 9, f"pull request #1 not merged: {kind} refused the merge of {mark} (409)"
        )
        assert server.state.requests[-1].body == merge_body(
            kind, row["commit"]
        )  # the checked head, not the new one
        assert git("rev-parse", "main", cwd=bare) == base_before
        server.state.before_merge = None

        approve(ws)  # the reviewer looks at the late push and approves the new head
        server.state.requests.clear()
        merged = merge(ws, "--format", "json")
        assert merged.code == 0, merged.stderr
        [tip] = pushed
        assert server.state.calls() == [("POST", status_path.format(sha=tip)), (method, merge_path)]
        status, merge_request = server.state.requests
        assert status.body == status_body(
            kind, True, f"merge guard: the checks pass on {tip[:7]}: 0 error(s), 0 warning(s)"
        )
        assert merge_request.body == merge_body(kind, tip)
        forge_main = git("rev-parse", "main", cwd=bare)
        assert git("log", "-1", "--format=%an %P", "main", cwd=bare) == f"Forge Merge {base_before} {tip}"
        assert merged.json() == {
            "number": 1,
            "merge_commit": forge_main,
            "merged_by": kind,
            "changed_by_review": ["PLAN.md"],
        }
        assert git("rev-parse", "main", cwd=local_plans_repo(ws)) == forge_main  # fetched after the merge
        [pr] = prs(ws)
        assert (pr["status"], pr["merge_commit"]) == ("merged", forge_main)
        header, value = ("private-token", TOKEN) if kind == "gitlab" else ("authorization", None)
        for request in server.state.requests:
            assert request.headers[header] == (
                value or {"github": f"Bearer {TOKEN}", "gitea": f"token {TOKEN}"}[kind]
            )
        for result in (refused, raced, merged):
            assert TOKEN not in result.stdout + result.stderr


def test_a_failing_guard_sets_a_failure_status_and_never_asks_the_forge_to_merge(
    ws: Path, tmp_path: Path
) -> None:
    url = remote(tmp_path)
    bare = Path(url.removeprefix("file://"))
    with ForgeServer("github", TOKEN, git_dir=bare) as server:
        land_on(ws, server, url, "github")
        base_before = git("rev-parse", "main", cwd=bare)
        clone = tmp_path / "reviewer"
        git("clone", "-q", "--branch", BRANCH, url, str(clone))
        for manifest in (clone / "kubevirt" / "wave-01").glob("*.yaml"):
            manifest.unlink()  # a wave emptied of its code: the guard's own error, whatever the target
        git("add", "-A", cwd=clone)
        git("commit", "-q", "-m", "Remove the manifests", cwd=clone, env=REVIEWER)
        git("push", "-q", "origin", BRANCH, cwd=clone)
        emptied = git("rev-parse", "HEAD", cwd=clone)
        approve(ws)
        server.state.requests.clear()
        refused = merge(ws)
        assert_one_line_error(refused, 8, "pull request #1 fails the checks (1 error(s)): not merged")
        assert "PR-NO-CODE" in refused.stdout
        assert server.state.calls() == [("POST", f"/repos/acme/plans/statuses/{emptied}")]
        assert server.state.statuses[-1] == (
            emptied,
            status_body(
                "github", False, f"merge guard: the checks fail on {emptied[:7]}: 1 error(s), 0 warning(s)"
            ),
        )
        assert prs(ws)[0]["status"] == "approved" and git("rev-parse", "main", cwd=bare) == base_before


def test_a_pr_the_forge_never_opened_is_not_merged_behind_its_back(ws: Path, tmp_path: Path) -> None:
    url = remote(tmp_path)
    bare = Path(url.removeprefix("file://"))
    with ForgeServer("gitea", TOKEN, git_dir=bare) as server:
        server.state.fail_with = 503
        server.state.fail_message = "maintenance"
        first = migrator(
            *land_args(url, "gitea", server.url),
            workspace=ws,
            env=ENV,
        )
        assert_one_line_error(
            first,
            9,
            "error: landed locally as PR #1, but gitea: GET /repos/acme/plans/pulls answered 503: "
            "maintenance",
        )
        base_before = git("rev-parse", "main", cwd=bare)
        approve(ws)
        server.state.requests.clear()
        refused = merge(ws)
        assert_one_line_error(refused, 9, "pull request #1 is not on gitea yet", "`migrator pr land`")
        assert server.state.requests == [] and git("rev-parse", "main", cwd=bare) == base_before
        server.state.fail_with = None
        assert land_on(ws, server, url, "gitea")["action"] == "unchanged"  # the forge catches up
        merged = merge(ws)
        assert merged.code == 0, merged.stderr
        assert merged.stdout.startswith("PR #1 merged on gitea as ")
        assert git("rev-parse", "main^2", cwd=bare) == prs(ws)[0]["head_commit"]


def test_the_dashboard_merges_a_forge_pr_through_the_forge_with_the_operators_token(
    ws: Path, tmp_path: Path
) -> None:
    """`serve --token-env NAME` hands the token to the dashboard's approve and merge; without it
    the forge's refusal is a one-line 502, never a merge behind the forge's back."""
    from migrator.app.workspace import Workspace
    from migrator.web.app import create_app
    from migrator.web.security import Guard
    from tests.web_helpers import local_client

    url = remote(tmp_path)
    bare = Path(url.removeprefix("file://"))
    with ForgeServer("github", TOKEN, git_dir=bare) as server:
        row = land_on(ws, server, url, "github")
        approve(ws)
        base_before = git("rev-parse", "main", cwd=bare)
        workspace, guard = Workspace.open(ws), Guard()
        headers = {"X-CSRF-Token": guard.csrf}
        try:
            without = local_client(create_app(workspace, guard)).post(
                "/api/prs/1/merge", json={"use_tools": False}, headers=headers
            )
            assert without.status_code == 502 and "\n" not in without.json()["detail"]
            assert git("rev-parse", "main", cwd=bare) == base_before and prs(ws)[0]["status"] == "approved"
            server.state.requests.clear()
            client = local_client(create_app(workspace, guard, forge_token=TOKEN))
            merged = client.post("/api/prs/1/merge", json={"use_tools": False}, headers=headers)
        finally:
            workspace.close()
        assert merged.status_code == 200, merged.text
        assert server.state.calls() == [
            ("POST", f"/repos/acme/plans/statuses/{row['commit']}"),
            ("PUT", "/repos/acme/plans/pulls/1/merge"),
        ]
        assert merged.json()["merge_commit"] == git("rev-parse", "main", cwd=bare) != base_before
        assert TOKEN not in without.text + merged.text


def test_a_forge_merge_is_recorded_even_when_the_fetch_after_it_fails(ws: Path, tmp_path: Path) -> None:
    """The forge merged: the PR is merged in the record too (a second `pr merge` would only be
    refused by the forge), with a one-line warning that the local copy has not caught up."""
    url = remote(tmp_path)
    bare = Path(url.removeprefix("file://"))
    moved = bare.with_name("moved.git")
    with ForgeServer("github", TOKEN, git_dir=bare) as server:
        land_on(ws, server, url, "github")
        approve(ws)
        server.state.after_merge = lambda: bare.rename(moved)  # the remote is gone before the fetch
        result = merge(ws)
    assert result.code == 0, result.stderr
    warning = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warning) == 1 and warning[0].startswith(
        "warning: pull request #1 was merged on github, but the local plans repository could not fetch it yet"
    )
    [pr] = prs(ws)
    assert (pr["status"], pr["merge_commit"]) == ("merged", git("rev-parse", "main", cwd=moved))
    assert TOKEN not in result.stdout + result.stderr
