# ruff: noqa: F811  (pytest fixtures imported from tests.test_prs are parameters here)
"""Forge adapters against a local HTTP server that answers with each forge's documented shapes
(tests/forge_server.py, docs/forges.md): the exact requests, update in place, one status
comment, labels, the body split, and one-line errors that keep the local landing."""

from __future__ import annotations

from pathlib import Path

import pytest

from migrator.review.forge import (
    PART_MARKER,
    STATUS_MARKER,
    ForgeSettings,
    GitHub,
    detect,
    publish,
    split_body,
)
from tests.forge_server import ForgeServer
from tests.helpers import assert_one_line_error, migrator
from tests.test_prs import KUBEVIRT_FLAGS, generated, git, landed, prs, ws  # noqa: F401 (fixtures)

TOKEN = "tok-SECRET-123"
ENV = {"PLANS_TOKEN": TOKEN}
BRANCH = "migrator/kubevirt/wave-01"


def remote(tmp_path: Path) -> str:
    bare = tmp_path / "remote.git"
    git("init", "-q", "--bare", "--initial-branch=main", str(bare))
    return bare.as_uri()


def land_args(url: str, kind: str, api: str, wave: int = 1) -> tuple[str, ...]:
    """`pr land` of one kubevirt wave onto a forge, the token from PLANS_TOKEN (never argv)."""
    return (
        "pr", "land", "--target", "kubevirt", "--wave", str(wave), "--repo", url, "--forge", kind,
        "--forge-api", api, "--forge-repo", "acme/plans", "--token-env", "PLANS_TOKEN",
    )  # fmt: skip


def land_on(ws: Path, server: ForgeServer, url: str, kind: str, *extra: str) -> dict:
    result = migrator(
        *land_args(url, kind, server.url),
        "--format",
        "json",
        *extra,
        workspace=ws,
        env=ENV,
    )
    return landed(result)


def regenerate(ws: Path, tmp_path: Path) -> None:
    flags = (*KUBEVIRT_FLAGS, "--namespace", "other")
    out = str(tmp_path / "regen")
    assert migrator("plan", "--target", "kubevirt", "--out", out, *flags, workspace=ws).code == 0


def test_github_open_then_update_in_place(ws: Path, tmp_path: Path) -> None:
    url = remote(tmp_path)
    with ForgeServer("github", TOKEN) as server:
        first = land_on(ws, server, url, "github")
        assert server.state.calls() == [
            ("GET", "/repos/acme/plans/pulls"),
            ("POST", "/repos/acme/plans/pulls"),
            ("POST", "/repos/acme/plans/issues/1/labels"),
            ("GET", "/repos/acme/plans/issues/1/comments"),
            ("POST", "/repos/acme/plans/issues/1/comments"),
            ("POST", f"/repos/acme/plans/statuses/{first['commit']}"),
        ]
        get, create, labels, _, comment, status = server.state.requests
        assert get.query == {"head": f"acme:{BRANCH}", "state": "open", "per_page": "100"}
        assert status.body == {
            "state": "success",
            "context": "migrator/validate",
            "description": "generated code clean: 0 error(s), 0 warning(s)",
        }
        assert create.body["head"] == BRANCH and create.body["base"] == "main"
        assert create.body["title"].startswith("kubevirt wave 1: ")
        assert (
            create.body["body"].startswith("# Wave 1 on kubevirt")
            and "## Rollback runbook" in create.body["body"]
        )
        assert labels.body == {"labels": ["migrator", "wave-01", "target:kubevirt"]}
        assert comment.body["body"].startswith(STATUS_MARKER)
        for r in server.state.requests:
            assert r.headers["authorization"] == f"Bearer {TOKEN}"
            assert r.headers["x-github-api-version"] == "2022-11-28"
        [pr] = prs(ws)
        assert (pr["forge"], pr["forge_url"]) == ("github", "https://forge.example/acme/plans/pull/1")
        assert TOKEN not in str(pr)
        assert git("rev-parse", BRANCH, cwd=Path(url.removeprefix("file://"))) == first["commit"]

        server.state.requests.clear()
        unchanged = land_on(ws, server, url, "github")
        assert unchanged["action"] == "unchanged" and server.state.calls() == []  # no new PR, no calls

        regenerate(ws, tmp_path)
        second = land_on(ws, server, url, "github")
        assert server.state.calls() == [
            ("GET", "/repos/acme/plans/pulls"),
            ("PATCH", "/repos/acme/plans/pulls/1"),
            ("POST", "/repos/acme/plans/issues/1/labels"),
            ("GET", "/repos/acme/plans/issues/1/comments"),
            ("POST", f"/repos/acme/plans/statuses/{second['commit']}"),
        ]  # the status text is unchanged: nothing to edit, and never a second comment
        assert second["commit"] != first["commit"]
        assert len(server.state.prs) == 1 and len(server.state.comments) == 1


def test_gitlab_merge_request_and_notes(ws: Path, tmp_path: Path) -> None:
    with ForgeServer("gitlab", TOKEN) as server:
        head = land_on(ws, server, remote(tmp_path), "gitlab")["commit"]
        project = "/api/v4/projects/acme%2Fplans/merge_requests"
        assert server.state.calls() == [
            ("GET", project),
            ("POST", project),
            ("PUT", f"{project}/1"),
            ("GET", f"{project}/1/notes"),
            ("POST", f"{project}/1/notes"),
            ("POST", f"/api/v4/projects/acme%2Fplans/statuses/{head}"),
        ]
        get, create, labels, _, _, status = server.state.requests
        assert get.query == {
            "source_branch": BRANCH,
            "target_branch": "main",
            "state": "opened",
            "per_page": "100",
        }
        assert status.body == {
            "state": "success",
            "name": "migrator/validate",
            "description": "generated code clean: 0 error(s), 0 warning(s)",
        }
        assert set(create.body) == {"source_branch", "target_branch", "title", "description"}
        assert labels.body == {"add_labels": "migrator,wave-01,target:kubevirt"}
        assert all(r.headers["private-token"] == TOKEN for r in server.state.requests)
        assert prs(ws)[0]["forge_url"] == "https://gitlab.example/acme/plans/-/merge_requests/1"


def test_gitea_labels_by_id(ws: Path, tmp_path: Path) -> None:
    with ForgeServer("gitea", TOKEN) as server:
        head = land_on(ws, server, remote(tmp_path), "gitea")["commit"]
        repo = "/api/v1/repos/acme/plans"
        assert server.state.calls() == [
            ("GET", f"{repo}/pulls"),
            ("POST", f"{repo}/pulls"),
            ("GET", f"{repo}/labels"),
            ("POST", f"{repo}/labels"),
            ("POST", f"{repo}/labels"),
            ("POST", f"{repo}/labels"),
            ("POST", f"{repo}/issues/1/labels"),
            ("GET", f"{repo}/issues/1/comments"),
            ("POST", f"{repo}/issues/1/comments"),
            ("POST", f"{repo}/statuses/{head}"),
        ]
        assert server.state.requests[2].query == {"limit": "50"}
        assert server.state.requests[6].body == {"labels": [100, 101, 102]}
        assert server.state.statuses == [
            (
                head,
                {
                    "state": "success",
                    "context": "migrator/validate",
                    "description": "generated code clean: 0 error(s), 0 warning(s)",
                },
            )
        ]
        assert all(r.headers["authorization"] == f"token {TOKEN}" for r in server.state.requests)


def test_forge_errors_are_one_line_and_keep_the_local_landing(ws: Path, tmp_path: Path) -> None:
    url = remote(tmp_path)
    with ForgeServer("github", TOKEN) as server:
        server.state.fail_with = 401
        result = migrator(
            *land_args(url, "github", server.url),
            workspace=ws,
            env=ENV,
        )
        assert_one_line_error(
            result, 9, "landed locally as PR #1", "github: GET /repos/acme/plans/pulls answered 401"
        )
        assert TOKEN not in result.stderr + result.stdout
        [pr] = prs(ws)
        assert pr["forge_url"] is None and pr["forge_number"] is None
        assert git("rev-parse", BRANCH, cwd=Path(url.removeprefix("file://"))) == pr["head_commit"]
        server.state.fail_with = None
        retried = land_on(ws, server, url, "github")  # nothing changed locally: the forge catches up
        assert (
            retried["action"] == "unchanged" and ("POST", "/repos/acme/plans/pulls") in server.state.calls()
        )
        assert prs(ws)[0]["forge_url"] == "https://forge.example/acme/plans/pull/1"
    gone = server.url  # the server is stopped: nothing listens there now
    result = migrator(
        *land_args(url, "github", gone, wave=2),
        workspace=ws,
        env=ENV,
    )
    assert_one_line_error(result, 9, "cannot reach")
    missing = migrator(
        "pr", "land", "--target", "kubevirt", "--wave", "1", "--token-env", "NOPE", workspace=ws
    )
    assert_one_line_error(missing, 2, "NOPE")


def test_body_over_the_limit_is_split_summary_first_and_parts_are_edited_not_duplicated() -> None:
    plan = "# Wave 9 on x\n\n## Summary\n\n- short\n\n" + "".join(
        f"## Section {i}\n\n" + "row\n" * 400 for i in range(8)
    )
    parts = split_body(plan, 4000)
    assert len(parts) > 2 and all(len(p) <= 4000 for p in parts)
    assert parts[0].startswith("# Wave 9 on x\n\n## Summary") and "continues in" in parts[0]
    assert parts[1].startswith(PART_MARKER.format(n=2))
    rebuilt = parts[0].split("\n\n_PLAN.md is")[0] + "".join(p.split("\n", 1)[1] for p in parts[1:])
    assert rebuilt == plan
    assert split_body("small", 4000) == ["small"]

    class Small(GitHub):
        limit = 4000

    with ForgeServer("github", TOKEN) as server:
        forge = Small(ForgeSettings("github", server.url, "acme/plans", TOKEN))
        for _ in range(2):
            publish(forge, "b", "main", "t", plan, ["l"], "status")
        assert len(server.state.comments) == len(parts)  # the status + one per extra part, once
        assert len(server.state.prs[1]["body"]) <= 4000
        publish(forge, "b", "main", "t", "# Wave 9 on x\n\nshort now\n", ["l"], "status")
        bodies = [c["body"] for c in server.state.comments.values()]
        assert len(bodies) == len(parts)  # nothing new, stale parts emptied in place
        assert sum("_(unused: PLAN.md fits in fewer parts now)_" in b for b in bodies) == len(parts) - 1
        assert server.state.prs[1]["body"] == "# Wave 9 on x\n\nshort now\n"


@pytest.mark.parametrize(
    ("remote_url", "kind", "api", "repo"),
    [
        ("https://github.com/acme/plans.git", "github", "https://api.github.com", "acme/plans"),
        ("git@github.com:acme/plans.git", "github", "https://api.github.com", "acme/plans"),
        (
            "https://gitlab.example.com/group/sub/plans.git",
            "gitlab",
            "https://gitlab.example.com/api/v4",
            "group/sub/plans",
        ),
        ("ssh://git@codeberg.org/acme/plans.git", "gitea", "https://codeberg.org/api/v1", "acme/plans"),
    ],
)
def test_the_forge_is_chosen_from_the_remote_url(remote_url: str, kind: str, api: str, repo: str) -> None:
    assert detect(remote_url, None, None, None, None) == ForgeSettings(kind, api, repo, None)


def test_a_plain_remote_is_local_mode() -> None:
    assert detect("file:///srv/plans.git", None, None, None, None) is None
    assert detect(None, None, None, None, None) is None
