"""Reviewer edits (docs/edits.md): the human commits on a pull request's branch, said as plan
edits and stored with who made them, in which commit of which PR.

Each commit after migrator's own on the branch that migrator did not author is compared with its
parent (migrator/review/reviewer_edits.py), so every edit carries its own commit and author.
Storing is idempotent: an edit already stored for the same PR and commit is not stored again,
however often `pr diff`, `pr approve`, `pr merge` or `edits extract` read the branch.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from migrator.app.edits import _plan_diagnostics, _store, with_change
from migrator.app.generation import planned_inputs, select_waves
from migrator.app.workspace import Workspace
from migrator.errors import Conflict
from migrator.review.repo import Author, PlansRepo, folder_name
from migrator.review.reviewer_edits import extract_edits
from migrator.store.models import PullRequest
from waves.edits import FreeEdit, Provenance

COMMIT_PREFIX = "commit "  # the provenance's conversation: the commit the reviewer's change is in


@dataclass(frozen=True)
class HumanCommit:
    sha: str
    author: str
    at: datetime


def human_commits(repo: PlansRepo, pr: PullRequest, tip: str) -> list[HumanCommit]:
    """The branch's commits after migrator's last landing that migrator did not author, oldest first."""
    if not pr.head_commit:
        return []
    ours = Author().email
    log = repo.git.run(
        "log", "--reverse", "--no-merges", "--format=%H%x00%an%x00%ae%x00%aI", f"{pr.head_commit}..{tip}"
    )
    commits = []
    for line in filter(None, log.splitlines()):
        sha, name, email, at = line.split("\0")
        if email != ours:
            commits.append(HumanCommit(sha, name.strip() or email or "unknown", datetime.fromisoformat(at)))
    return commits


def extract_pr_edits(ws: Workspace, repo: PlansRepo, pr: PullRequest, tip: str) -> list[dict[str, object]]:
    """Store the edits of every human commit on the branch not stored yet; return those stored now."""
    assert pr.id is not None
    if pr.status == "closed":
        raise Conflict(f"pull request #{pr.id} is closed: its branch says nothing about the plan")
    commits = human_commits(repo, pr, tip)
    if not commits:
        return []
    [wave] = select_waves(planned_inputs(ws, pr.plan_id).waves, pr.wave)
    folder = folder_name(pr.target, pr.wave)
    known = {
        (row["conversation"], _key(row["edit"]))
        for row in ws.edits.list()
        if row["pr"] == pr.id and row["source"] == "reviewer"
    }
    stored = []
    for commit in commits:
        before, after = repo.files_at(f"{commit.sha}^", folder), repo.files_at(commit.sha, folder)
        provenance = Provenance(
            source="reviewer",
            who=commit.author[:200],
            at=commit.at,
            pr=pr.id,
            conversation=COMMIT_PREFIX + commit.sha,
        )
        for edit in extract_edits(pr.target, wave, before, after):
            data = edit.model_dump(mode="json")
            if (provenance.conversation, _key(data)) in known:
                continue
            known.add((provenance.conversation, _key(data)))
            problems = [] if isinstance(edit, FreeEdit) else _plan_diagnostics(ws, edit)
            stored.append(_store(ws, data, provenance, problems))
    return stored


def _key(data: object) -> str:
    return json.dumps(data, sort_keys=True)


def stored_reviewer_edits(ws: Workspace, number: int) -> list[dict[str, object]]:
    """Every reviewer edit stored for one PR, with its rendering."""
    return [
        with_change(row) for row in ws.edits.list() if row["pr"] == number and row["source"] == "reviewer"
    ]
