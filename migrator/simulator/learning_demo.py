"""The demo's learning step (docs/learning.md): a reviewer tags the Linux instances of the first
terraform-aws waves' pull requests (a clone, a commit, a push), approves and merges them; the
last wave, planned next, gets the tag as a learned correction citing those PRs.

Two PRs, because one reviewer's edit in one PR is a one-off and does not generalise.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from migrator.app.workspace import Workspace
from migrator.store.prs import PullRequestStore

TARGET = "terraform-aws"
TAG = '    patch-group = "linux-weekly"\n'
REVIEWER = {
    "GIT_AUTHOR_NAME": "Rita Reviewer",
    "GIT_AUTHOR_EMAIL": "rita@example.com",
    "GIT_COMMITTER_NAME": "Rita Reviewer",
    "GIT_COMMITTER_EMAIL": "rita@example.com",
}
# an instance block, its AMI and the first line of its tags (migrator's Name tag)
_INSTANCE = re.compile(r'(resource "aws_instance" "[^"]+" \{\n.*?\n  tags = \{\n    Name +=[^\n]*\n)', re.S)

Run = Callable[..., int]  # runs one `migrator` command, returns its exit code


def tag_linux(text: str) -> tuple[str, int]:
    """main.tf with the patch-group tag on every Linux instance, and how many were tagged."""
    count = 0

    def add(match: re.Match[str]) -> str:
        nonlocal count
        if 'var.ami_ids["linux"]' not in match.group(1):
            return match.group(1)
        count += 1
        return match.group(1) + TAG

    return _INSTANCE.sub(add, text), count


def _git(*args: str, cwd: Path | None = None) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")} | REVIEWER
    proc = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True)
    return proc.stdout


def review(plans: Path, branch: str, rel: str) -> int:
    """The reviewer's commit on the branch: clone, tag the Linux instances, commit, push."""
    with tempfile.TemporaryDirectory(prefix="migrator-review-") as tmp:
        clone = Path(tmp) / "review"
        _git("clone", "-q", "--branch", branch, str(plans), str(clone))
        path = clone / rel
        text, count = tag_linux(path.read_text(encoding="utf-8"))
        if count:
            path.write_text(text, encoding="utf-8")
            _git("commit", "-q", "-am", "Patch group for the Linux servers", cwd=clone)
            _git("push", "-q", "origin", branch, cwd=clone)
    return count


def changes_section(plan_md: str) -> str:
    start = plan_md.find("## Changes from the generated plan")
    if start < 0:
        return ""
    end = plan_md.find("\n## ", start + 1)
    return plan_md[start : end if end > 0 else None].strip()


def learning_demo(workspace: Path, out: Path, run: Run, merge_flags: tuple[str, ...] = ()) -> str:
    """Review and merge the first two terraform-aws waves with Linux VMs, plan the last wave, and
    print (and return) its PLAN.md changes with the learned correction and its source PRs."""
    prs = [p for p in PullRequestStore(Workspace.open(workspace).engine).all() if p.target == TARGET]
    last = max(p.wave for p in prs)
    merged = 0
    for pr in sorted(
        (p for p in prs if p.status in ("open", "approved") and p.wave < last), key=lambda p: p.wave
    ):
        if merged == 2:
            break
        if review(workspace / "plans.git", pr.branch, f"{TARGET}/wave-{pr.wave:02d}/main.tf"):
            run("pr", "approve", str(pr.id), "--by", "rita")
            run("pr", "merge", str(pr.id), *merge_flags)
            merged += 1
    run("learn", "status")
    run("plan", "--target", TARGET, "--wave", str(last), "--out", str(out), *merge_flags)
    section = changes_section((out / TARGET / f"wave-{last:02d}" / "PLAN.md").read_text(encoding="utf-8"))
    print(section or "no learned correction applied", flush=True)
    return section
