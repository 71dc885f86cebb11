"""Plans as pull requests in local mode, with real git throughout: landing, idempotence, a
reviewer's commit on the branch, re-landing over it, approvals, the guarded merge, what merged,
and a bare remote reached over file://."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from migrator import atomic
from migrator.app.generation import GenerateRequest, generate
from migrator.app.planning import plan_waves
from migrator.app.prs import GuardFailed, guard
from tests.drift_helpers import demo_workspace
from tests.golden import GOLDEN, workspace_with
from tests.helpers import Result, assert_one_line_error, migrator
from tests.swap_child import refuse_exchange
from waves.parameters import PlanParameters

KUBEVIRT_FLAGS = (
    "--vddk-url",
    "https://vcenter.example/sdk",
    "--vddk-thumbprint",
    "AA:BB:CC",
    "--executor",
    "cdi",
)
REVIEWER = {
    "GIT_AUTHOR_NAME": "Rita Reviewer",
    "GIT_AUTHOR_EMAIL": "rita@example.com",
    "GIT_COMMITTER_NAME": "Rita Reviewer",
    "GIT_COMMITTER_EMAIL": "rita@example.com",
}
SSH_TO_THE_WORLD = """
resource "aws_vpc_security_group_ingress_rule" "debug_ssh" {
  security_group_id = aws_security_group.payroll_db.id
  description       = "temporary debugging"
  ip_protocol       = "tcp"
  from_port         = 22
  to_port           = 22
  cidr_ipv4         = "0.0.0.0/0"
}
"""


def git(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    proc = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, env={**clean, **(env or {})}, check=False
    )
    assert proc.returncode == 0, (args, proc.stderr)
    return proc.stdout.strip()


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace with the demo plan generated for both targets (copied per test)."""
    root = tmp_path_factory.mktemp("generated")
    ws = workspace_with(root / "ws", "demo.json", "demo-flows.csv")
    assert migrator("waves", "plan", workspace=ws).code == 0
    for target, flags in (("terraform-aws", ()), ("kubevirt", KUBEVIRT_FLAGS)):
        result = migrator("plan", "--target", target, "--out", str(root / "out"), *flags, workspace=ws)
        assert result.code == 0, result.stderr
    return root


@pytest.fixture
def ws(generated: Path, tmp_path: Path) -> Path:
    shutil.copytree(generated / "ws", tmp_path / "ws")
    return tmp_path / "ws"


def land(ws: Path, target: str, wave: int, *extra: str) -> Result:
    return migrator(
        "pr", "land", "--target", target, "--wave", str(wave), "--format", "json", *extra, workspace=ws
    )


def landed(result: Result) -> dict[str, Any]:
    assert result.code == 0, result.stderr
    rows: list[dict[str, Any]] = result.json()
    return rows[0]


def prs(ws: Path) -> list[dict[str, Any]]:
    result = migrator("pr", "list", "--format", "json", workspace=ws)
    assert result.code == 0, result.stderr
    rows: list[dict[str, Any]] = result.json()
    return rows


def reviewer_commit(remote: str, branch: str, tmp: Path, edit: dict[str, str], message: str) -> str:
    """A reviewer clones the plans repository, edits files on the branch and pushes."""
    clone = tmp / f"clone-{len(list(tmp.glob('clone-*')))}"
    git("clone", "-q", "--branch", branch, remote, str(clone))
    for rel, text in edit.items():
        path = clone / rel
        path.write_text(text if not text.startswith("+") else path.read_text() + text[1:], encoding="utf-8")
    git("add", "-A", cwd=clone)
    git("commit", "-q", "-m", message, cwd=clone, env=REVIEWER)
    git("push", "-q", "origin", branch, cwd=clone)
    return git("rev-parse", "HEAD", cwd=clone)


def test_land_commits_the_wave_with_plan_md_on_its_branch(ws: Path) -> None:
    row = landed(land(ws, "kubevirt", 3))
    assert row["action"] == "created" and row["branch"] == "migrator/kubevirt/wave-03"
    repo = ws / "plans.git"
    files = git("ls-tree", "-r", "--name-only", row["branch"], cwd=repo).splitlines()
    assert "kubevirt/wave-03/PLAN.md" in files and "kubevirt/wave-03/vm-shop-db-01.yaml" in files
    assert all(f.startswith("kubevirt/wave-03/") or f == "README.md" for f in files)
    log = git("log", "-1", "--format=%an <%ae>%n%B", row["branch"], cwd=repo)
    assert log.startswith("migrator <migrator@localhost>")
    assert "First landing: 9 VM(s), status clean." in log
    assert "Migrator-Land: kubevirt/wave-03" in log and "Migrator-Tree: " in log
    [pr] = prs(ws)
    assert (pr["number"], pr["status"], pr["head_commit"]) == (row["number"], "open", row["commit"])
    shown = migrator("pr", "show", str(pr["number"]), workspace=ws)
    assert (
        shown.code == 0
        and "## Cutover runbook" in shown.stdout
        and "virtctl -n vm-migration start" in shown.stdout
    )


def test_a_wave_written_by_the_symlink_flip_is_landed_like_a_plain_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a filesystem refusing RENAME_EXCHANGE wave-NN is a symlink to a hidden generation
    folder (migrator/atomic.py); the lander reads the wave's files through it, nothing else."""
    monkeypatch.setattr(atomic, "_rename_exchange", refuse_exchange)
    app_ws = demo_workspace(tmp_path)
    plan_waves(app_ws, PlanParameters(target="kubevirt"))
    request = GenerateRequest(
        target="kubevirt",
        wave=3,
        out=tmp_path / "out",
        options={"vddk_url": "https://vcenter.example/sdk", "vddk_thumbprint": "AA:BB:CC", "executor": "cdi"},
        use_tools=False,
    )
    for _ in range(2):  # the first run writes the link, the second flips it to a new generation
        [outcome] = generate(app_ws, request).waves
    folder = tmp_path / "out" / "kubevirt"
    assert (folder / "wave-03").is_symlink() and outcome.out_dir == folder / "wave-03"
    assert sorted(p.name for p in folder.iterdir()) == [os.readlink(folder / "wave-03"), "wave-03"]
    row = landed(land(tmp_path / "ws", "kubevirt", 3))
    files = git("ls-tree", "-r", "--name-only", row["branch"], cwd=tmp_path / "ws" / "plans.git").splitlines()
    wave_files = sorted(f"kubevirt/wave-03/{p.name}" for p in (folder / "wave-03").iterdir())
    assert "kubevirt/wave-03/PLAN.md" in wave_files and sorted(files) == ["README.md", *wave_files]
    assert git("show", f"{row['branch']}:kubevirt/wave-03/PLAN.md", cwd=tmp_path / "ws" / "plans.git") == (
        (folder / "wave-03" / "PLAN.md").read_text(encoding="utf-8").strip()
    )


def test_author_is_configurable(ws: Path) -> None:
    env = {"MIGRATOR_GIT_AUTHOR_NAME": "Plan Bot", "MIGRATOR_GIT_AUTHOR_EMAIL": "bot@example.org"}
    result = migrator("pr", "land", "--target", "kubevirt", "--wave", "1", workspace=ws, env=env)
    assert result.code == 0, result.stderr
    assert git("log", "-1", "--format=%an <%ae>", "migrator/kubevirt/wave-01", cwd=ws / "plans.git") == (
        "Plan Bot <bot@example.org>"
    )


def test_relanding_unchanged_makes_no_commit_and_no_pr(ws: Path) -> None:
    first = landed(land(ws, "terraform-aws", 2))
    tip = git("rev-parse", first["branch"], cwd=ws / "plans.git")
    again = landed(land(ws, "terraform-aws", 2))
    assert again["action"] == "unchanged" and again["commit"] is None and again["number"] == first["number"]
    assert git("rev-parse", first["branch"], cwd=ws / "plans.git") == tip
    assert len(prs(ws)) == 1


def test_relanding_a_changed_plan_commits_a_summary_on_the_same_branch(ws: Path, tmp_path: Path) -> None:
    first = landed(land(ws, "kubevirt", 2))
    assert migrator("waves", "pin", "crm-web-01", "--wave", "2", workspace=ws).code == 0
    assert migrator("waves", "plan", workspace=ws).code in (0, 7)
    out = tmp_path / "out2"
    assert (
        migrator("plan", "--target", "kubevirt", "--out", str(out), *KUBEVIRT_FLAGS, workspace=ws).code == 0
    )
    second = landed(land(ws, "kubevirt", 2))
    assert second["action"] == "updated" and second["number"] == first["number"]
    message = git("log", "-1", "--format=%B", first["branch"], cwd=ws / "plans.git")
    assert "VMs added: " in message and "crm-web-01" in message
    assert git("rev-parse", f"{second['commit']}^", cwd=ws / "plans.git") == first["commit"]
    assert len(prs(ws)) == 1


def test_a_reviewers_commit_is_never_overwritten_silently(ws: Path, tmp_path: Path) -> None:
    first = landed(land(ws, "kubevirt", 1))
    edited = reviewer_commit(
        str(ws / "plans.git"),
        first["branch"],
        tmp_path,
        {"kubevirt/wave-01/PLAN.md": "+\nReviewed.\n"},
        "Add review note",
    )
    out = tmp_path / "regen"
    flags = (*KUBEVIRT_FLAGS, "--namespace", "payroll")
    assert migrator("plan", "--target", "kubevirt", "--out", str(out), *flags, workspace=ws).code == 0
    refused = land(ws, "kubevirt", 1)
    assert_one_line_error(
        refused, 10, "migrator/kubevirt/wave-01", edited[:7], "Add review note", "--overwrite-edits"
    )
    assert git("rev-parse", first["branch"], cwd=ws / "plans.git") == edited
    forced = landed(land(ws, "kubevirt", 1, "--overwrite-edits"))
    assert forced["action"] == "updated"
    repo = ws / "plans.git"
    assert git("rev-parse", f"{forced['commit']}^", cwd=repo) == edited  # history kept, content replaced
    assert "Reviewed." not in git("show", f"{first['branch']}:kubevirt/wave-01/PLAN.md", cwd=repo)
    assert "namespace: payroll" in git(
        "show", f"{first['branch']}:kubevirt/wave-01/vm-payroll-db-dev.yaml", cwd=repo
    )


def test_merge_needs_an_approval_of_the_current_head(ws: Path, tmp_path: Path) -> None:
    row = landed(land(ws, "terraform-aws", 1))
    number = str(row["number"])
    assert_one_line_error(migrator("pr", "merge", number, workspace=ws), 10, "has no approval")
    assert migrator("pr", "approve", number, "--by", "alice", workspace=ws).code == 0
    reviewer_commit(
        str(ws / "plans.git"),
        row["branch"],
        tmp_path,
        {"terraform-aws/wave-01/PLAN.md": "+late\n"},
        "Late edit",
    )
    assert_one_line_error(migrator("pr", "merge", number, workspace=ws), 10, "was approved at", "pr approve")


def test_merge_refuses_a_branch_a_reviewer_opened_to_the_world(ws: Path, tmp_path: Path) -> None:
    row = landed(land(ws, "terraform-aws", 1))
    repo = ws / "plans.git"
    base_before = git("rev-parse", "main", cwd=repo)
    reviewer_commit(
        str(repo),
        row["branch"],
        tmp_path,
        {"terraform-aws/wave-01/main.tf": "+" + SSH_TO_THE_WORLD},
        "Open SSH",
    )
    number = str(row["number"])
    assert migrator("pr", "approve", number, "--by", "bob", workspace=ws).code == 0
    refused = migrator("pr", "merge", number, "--no-tools", workspace=ws)
    assert_one_line_error(refused, 8, f"pull request #{number} fails the checks")
    assert "IAC-ADMIN-PORTS-WORLD" in refused.stdout and "debug_ssh" in refused.stdout
    assert git("rev-parse", "main", cwd=repo) == base_before
    assert prs(ws)[0]["status"] == "approved"


def test_merge_is_a_git_merge_and_records_what_the_reviewers_changed(ws: Path, tmp_path: Path) -> None:
    row = landed(land(ws, "terraform-aws", 3))
    repo = ws / "plans.git"
    tfvars = "terraform-aws/wave-03/terraform.tfvars.example"
    reviewer_commit(str(repo), row["branch"], tmp_path, {tfvars: "+# reviewed by the network team\n"}, "Note")
    number = str(row["number"])
    assert migrator("pr", "approve", number, "--by", "carol", workspace=ws).code == 0
    merged = migrator("pr", "merge", number, "--no-tools", "--format", "json", workspace=ws)
    assert merged.code == 0, merged.stderr
    result = merged.json()
    assert result["changed_by_review"] == ["terraform.tfvars.example"]
    parents = git("log", "-1", "--format=%P", "main", cwd=repo).split()
    assert len(parents) == 2 and parents[1] == git("rev-parse", row["branch"], cwd=repo)
    assert "reviewed by the network team" in git("show", f"main:{tfvars}", cwd=repo)
    shown = migrator("pr", "show", number, "--format", "json", workspace=ws).json()
    assert shown["status"] == "merged" and shown["merge_commit"] == result["merge_commit"]
    [record] = shown["merged"]
    assert record["generated_commit"] == row["commit"] and record["plan_id"] == 1 and record["wave"] == 3
    assert record["generated"]["terraform.tfvars.example"] != record["merged"]["terraform.tfvars.example"]
    assert record["generated"]["main.tf"] == record["merged"]["main.tf"]
    assert "+# reviewed by the network team" in record["diff"]["terraform.tfvars.example"]
    assert_one_line_error(migrator("pr", "merge", number, workspace=ws), 10, "is merged")


def test_close_and_diff(ws: Path) -> None:
    row = landed(land(ws, "kubevirt", 2))
    diff = migrator("pr", "diff", str(row["number"]), workspace=ws)
    assert diff.code == 0 and "+++ b/kubevirt/wave-02/PLAN.md" in diff.stdout
    assert migrator("pr", "close", str(row["number"]), workspace=ws).code == 0
    assert prs(ws)[0]["status"] == "closed"
    assert_one_line_error(migrator("pr", "approve", str(row["number"]), workspace=ws), 10, "is closed")
    assert_one_line_error(migrator("pr", "show", "99", workspace=ws), 6, "no pull request #99")


def test_a_bare_remote_over_file_url(ws: Path, tmp_path: Path) -> None:
    remote = tmp_path / "remote.git"
    git("init", "-q", "--bare", "--initial-branch=main", str(remote))
    url = remote.as_uri()
    row = landed(land(ws, "kubevirt", 3, "--repo", url))
    assert git("rev-parse", row["branch"], cwd=remote) == row["commit"]
    assert not (ws / "plans.git").exists()
    edited = reviewer_commit(
        url, row["branch"], tmp_path, {"kubevirt/wave-03/PLAN.md": "+ok\n"}, "Reviewed remotely"
    )
    number = str(row["number"])
    assert migrator("pr", "approve", number, "--by", "dana", workspace=ws).code == 0
    assert migrator("pr", "merge", number, "--no-tools", workspace=ws).code == 0
    assert git("rev-parse", "main^2", cwd=remote) == edited
    again = landed(land(ws, "kubevirt", 3, "--repo", url))
    assert again["action"] == "unchanged"


def test_plan_land_lands_every_wave_and_credentials_stay_out_of_argv(ws: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = migrator(
        "plan", "--target", "terraform-aws", "--out", str(out), "--land", "--format", "json", workspace=ws
    )
    assert result.code == 0, result.stderr
    assert [r["action"] for r in result.json()["landed"]] == ["created"] * 3
    assert [(p["target"], p["wave"], p["status"]) for p in prs(ws)] == [
        ("terraform-aws", n, "open") for n in (1, 2, 3)
    ]
    bad = land(ws, "kubevirt", 1, "--repo", "https://user:s3cret@example.com/plans.git")
    assert_one_line_error(bad, 2, "--repo must not carry credentials")
    assert "s3cret" not in bad.stderr
    unreachable = land(ws, "kubevirt", 1, "--repo", (tmp_path / "missing.git").as_uri())
    assert_one_line_error(unreachable, 9, "git fetch failed")


def test_a_reviewers_text_reaches_the_terminal_without_control_characters(ws: Path, tmp_path: Path) -> None:
    row = landed(land(ws, "kubevirt", 2))
    evil = "\x1b]0;pwned\x07\x1b[31mred"
    reviewer_commit(
        str(ws / "plans.git"),
        row["branch"],
        tmp_path,
        {"kubevirt/wave-02/PLAN.md": f"+{evil}\n"},
        f"Edit {evil}",
    )
    shown = migrator("pr", "show", str(row["number"]), workspace=ws)
    assert (
        shown.code == 0
        and "red" in shown.stdout
        and "\x1b" not in shown.stdout
        and "\x07" not in shown.stdout
    )
    diff = migrator("pr", "diff", str(row["number"]), workspace=ws)
    assert diff.code == 0 and "\x1b" not in diff.stdout
    out = tmp_path / "regen"
    flags = (*KUBEVIRT_FLAGS, "--namespace", "elsewhere")
    assert migrator("plan", "--target", "kubevirt", "--out", str(out), *flags, workspace=ws).code == 0
    refused = land(ws, "kubevirt", 2)
    assert_one_line_error(refused, 10, "Edit")
    assert "\x1b" not in refused.stderr and "\x07" not in refused.stderr
    assert_one_line_error(
        land(ws, "kubevirt", 2, "--repo", "--upload-pack=touch /tmp/x"), 2, "cannot start with '-'"
    )


def test_the_guard_refuses_symlinks_subfolders_and_an_emptied_wave() -> None:
    golden = GOLDEN / "iac" / "terraform-aws" / "wave-01"
    files: dict[str, bytes | None] = {p.name: p.read_bytes() for p in golden.iterdir()}
    assert not guard(1, files, use_tools=False).failed()
    for extra, rule in (
        ({"link.tf": None}, "PR-UNEXPECTED-ENTRY"),
        ({"sub/x.tf": b""}, "PR-UNEXPECTED-ENTRY"),
    ):
        with pytest.raises(GuardFailed) as failed:
            guard(1, {**files, **extra}, use_tools=False)
        assert rule in {d.rule for d in failed.value.report.diagnostics}
    with pytest.raises(GuardFailed) as emptied:
        guard(1, {"PLAN.md": files["PLAN.md"]}, use_tools=False)
    assert [d.rule for d in emptied.value.report.diagnostics] == ["PR-NO-CODE"]
