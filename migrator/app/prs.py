"""Plans as pull requests (docs/prs.md): land a generated wave, approve, close, diff, and the
guarded merge that re-validates the branch as it is and records what the reviewers changed.

Shared by the CLI (`migrator pr ...`, `migrator plan --land`) and any other front end; typed
requests in, typed results out, MigratorErrors for everything a user can cause.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from agents.generator.transpiler_agent import CLEAN
from agents.validator import ValidationReport, ValidatorOptions, languages_of, validate_folder
from migrator.app.audit import record as audit
from migrator.app.generation import planned_inputs
from migrator.app.identities import Actor, cli_actor
from migrator.app.pr_edits import extract_pr_edits
from migrator.app.workspace import Workspace
from migrator.diagnostics import Diagnostic
from migrator.errors import ChecksFailed, Conflict, ForgeError, InputFileError, MigratorError, NotFound
from migrator.review.facts import change_summary, wave_facts
from migrator.review.forge import Forge, ForgeSettings, detect, forge_for, publish
from migrator.review.forge_http import Pacing
from migrator.review.repo import Author, PlansRepo, branch_name, folder_name
from migrator.store.models import MergedWave, PullRequest
from migrator.store.prs import PullRequestStore
from migrator.store.snapshots import now
from policies.engine import source_findings
from transpilers.base import TranspilerMeta
from transpilers.escape import one_line
from transpilers.model import WaveInput
from transpilers.registry import get

WORKSPACE_REPO = "workspace"


@dataclass(frozen=True)
class LandRequest:
    target: str
    wave: int
    repo: str | None = None  # path or URL; None: the workspace's plans repository
    base: str = "main"
    author: Author = field(default_factory=Author)
    overwrite_edits: bool = False
    plan_id: int | None = None
    token: str | None = None  # for an https remote and the forge; from the environment, never argv
    forge: str | None = None  # github | gitlab | gitea; None: from the remote URL, else local mode
    forge_api: str | None = None  # the forge's API base URL (default: from the remote URL)
    forge_repo: str | None = None  # owner/name on the forge (default: from the remote URL)


@dataclass(frozen=True)
class LandResult:
    number: int
    action: str  # created | updated | unchanged
    branch: str
    commit: str | None
    summary: list[str]
    plan_md: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "action": self.action,
            "branch": self.branch,
            "commit": self.commit,
            "summary": self.summary,
        }


def land_waves(
    ws: Workspace, request: LandRequest, waves: list[int], notify: Callable[[str], None] | None = None
) -> list[LandResult]:
    """`plan --land`: each wave (the clean ones the caller chose) lands as its own pull request."""
    reviews = Reviews(ws, notify=notify)
    return [reviews.land(replace(request, wave=n)) for n in waves]


@dataclass(frozen=True)
class MergeResult:
    number: int
    merge_commit: str
    changed_files: list[str]  # files a reviewer changed from what migrator generated
    merged_by: str = "git"  # git (local mode) or the forge that merged it: github | gitlab | gitea


class GuardFailed(ChecksFailed):
    def __init__(self, message: str, report: ValidationReport) -> None:
        super().__init__(message)
        self.report = report


class Reviews:
    """The PR use cases on one workspace."""

    def __init__(
        self,
        ws: Workspace,
        token: str | None = None,
        notify: Callable[[str], None] | None = None,
        actor: Actor | None = None,
    ) -> None:
        self.ws = ws
        self.actor = actor or cli_actor()  # who acts: checked against its role, written to the audit log
        self.token = token  # for an https remote; from the environment, never argv
        self.prs = PullRequestStore(ws.engine)
        self.pacing = Pacing(notify=notify) if notify else Pacing()  # a forge's rate-limit waits
        self.notify = notify or (lambda line: None)  # one-line warnings for the front end

    def repo_for(self, location: str | None, base: str, token: str | None = None) -> PlansRepo:
        return PlansRepo.open(self.ws.folder, location, base, token or self.token)

    # --- landing -------------------------------------------------------------------------

    def land(self, req: LandRequest) -> LandResult:
        """Commit the generated wave to its branch; open the PR, or update it, or do nothing."""
        self.actor.require("land")
        forge = detect(req.repo, req.forge, req.forge_api, req.forge_repo, req.token)
        meta = get(req.target).meta  # resolved once here; what follows reads its metadata
        planned = planned_inputs(self.ws, req.plan_id)
        record = self._generated(planned.plan_id, meta.id, req.wave)
        files = _read_folder(Path(record["out_dir"]), record["files"])
        facts = self._facts(planned.waves, planned.clusters, meta, req.wave, record)
        key, branch = req.repo or WORKSPACE_REPO, branch_name(req.target, req.wave)
        previous = self.prs.latest_for(key, branch)
        summary = change_summary(previous.facts if previous else None, facts)
        wave_name = next(w["name"] for w in planned.document["waves"] if w["number"] == req.wave)
        title = f"{req.target} wave {req.wave}: {one_line(wave_name, 80)}"
        message = _commit_message(title, planned.document, record["status"], summary)
        repo = self.repo_for(req.repo, req.base, req.token)
        extra = _estate_files(Path(record["out_dir"]).parent, meta)
        landed = repo.land(req.target, req.wave, files, message, req.author, req.overwrite_edits, extra)
        plan_md = files.get("PLAN.md", b"").decode("utf-8")
        digests = {n: hashlib.sha256(d).hexdigest() for n, d in sorted(files.items())}
        live = previous if previous and previous.status in ("open", "approved") else None
        head = landed.commit or landed.previous or ""
        if landed.commit is None and previous is not None:
            pr, action = (live or previous), "unchanged"
        elif live is not None and live.id is not None:
            pr = self.prs.update(
                live.id, lambda p: _relanded(p, planned.plan_id, head, digests, facts, summary)
            )
            action = "updated"
        else:
            pr = self.prs.add(
                _new_pr(planned.plan_id, req, key, branch, head, title, digests, facts, summary)
            )
            action = "created"
        assert pr.id is not None
        if forge is not None and (action != "unchanged" or pr.forge_number is None):
            self._publish(pr, forge, title, plan_md, record, req)
        if action != "unchanged":
            detail = {"action": action, "target": req.target, "wave": req.wave, "commit": landed.commit}
            audit(self.ws, self.actor, "pr.land", f"pr:{pr.id}", detail)
        return LandResult(pr.id, action, branch, landed.commit, summary if landed.commit else [], plan_md)

    def _publish(
        self,
        pr: PullRequest,
        settings: ForgeSettings,
        title: str,
        plan_md: str,
        record: dict[str, Any],
        req: LandRequest,
    ) -> None:
        """The forge's PR for the branch and the commit status of migrator's head; the local record
        (kept whatever happens) learns where the forge is first, then the PR's number."""
        assert pr.id is not None
        number, forge = pr.id, forge_for(settings, self.pacing)
        self.prs.update(number, lambda p: _on_forge(p, settings))
        labels = ["migrator", f"wave-{req.wave:02d}", f"target:{req.target}"]
        try:
            found = publish(
                forge, pr.branch, pr.base, title, plan_md, labels, _status_comment(number, record)
            )
            self.prs.update(number, lambda p: _forge_pr(p, found.number, found.url))
            forge.set_status(pr.head_commit, record["status"] == CLEAN, _generated_status(record))
        except ForgeError as exc:
            raise ForgeError(f"landed locally as PR #{number}, but {exc.message}") from None

    def _generated(self, plan_id: int, target: str, wave: int) -> dict[str, Any]:
        for record in self.ws.generated.latest(plan_id, target):
            if record["wave"] == wave:
                return record
        raise NotFound(
            f"wave {wave} of plan {plan_id} has not been generated for {target}: run `migrator plan`"
        )

    def _facts(
        self,
        waves: list[WaveInput],
        clusters: list[dict[str, Any]],
        meta: TranspilerMeta,
        wave: int,
        record: dict[str, Any],
    ) -> dict[str, Any]:
        chosen = next((w for w in waves if w.number == wave), None)
        if chosen is None:
            raise NotFound(f"wave {wave} is not in the plan")
        chosen = replace(chosen, blocked=record["blocked"])
        findings = source_findings([vm.record for vm in chosen.vms], clusters, meta.id)
        return wave_facts(
            meta.language,
            chosen,
            [f"{f.vm} {f.policy}" for f in findings],
            record["diagnostics"],
            record["status"],
        )

    # --- review --------------------------------------------------------------------------

    def approve(self, number: int, by: str | None = None) -> PullRequest:
        """`by`: the reviewer's name as the CLI was told it; a team identity approves as itself,
        whatever name the request carried."""
        self.actor.require("approve")
        if by is None or self.actor.role is not None:
            by = self.actor.name
        pr = self._live(number, "approve")
        repo = self.repo_for(None if pr.repo == WORKSPACE_REPO else pr.repo, pr.base)
        tip = repo.git.rev(pr.branch) or pr.head_commit

        def change(p: PullRequest) -> None:
            p.approvals = [*p.approvals, {"by": one_line(by, 100), "at": now().isoformat(), "commit": tip}]
            p.status = "approved"
            p.updated_at = now()

        approved = self.prs.update(number, change)
        audit(self.ws, self.actor, "pr.approve", f"pr:{number}", {"by": one_line(by, 100), "commit": tip})
        self._reviewer_edits(approved, repo, tip)
        return approved

    def close(self, number: int) -> PullRequest:
        self.actor.require("close")
        self._live(number, "close")

        def change(p: PullRequest) -> None:
            p.status = "closed"
            p.updated_at = now()

        closed = self.prs.update(number, change)
        audit(self.ws, self.actor, "pr.close", f"pr:{number}", {})
        return closed

    def _live(self, number: int, action: str) -> PullRequest:
        pr = self.prs.get(number)
        if pr.status not in ("open", "approved"):
            raise Conflict(f"pull request #{number} is {pr.status}: cannot {action} it")
        return pr

    def plan_md(self, pr: PullRequest) -> str:
        """PLAN.md as it is on the branch now (a reviewer may have edited it)."""
        repo = self.repo_for(None if pr.repo == WORKSPACE_REPO else pr.repo, pr.base)
        ref = repo.git.rev(pr.branch) or pr.head_commit
        data = repo.files_at(ref, folder_name(pr.target, pr.wave)).get("PLAN.md")
        return (data or b"").decode("utf-8", errors="replace")

    def diff(self, number: int) -> str:
        pr = self.prs.get(number)
        repo = self.repo_for(None if pr.repo == WORKSPACE_REPO else pr.repo, pr.base)
        tip = repo.git.rev(pr.branch) or pr.head_commit
        start = (pr.merge_commit and f"{pr.merge_commit}^1") or repo.git.run("merge-base", pr.base, tip)
        self._reviewer_edits(pr, repo, tip)
        return repo.diff(start, tip, folder_name(pr.target, pr.wave))

    # --- reviewer edits ------------------------------------------------------------------

    def reviewer_edits(self, number: int) -> list[dict[str, Any]]:
        """Store the human commits on the PR's branch as plan edits (docs/edits.md); the new ones."""
        pr = self.prs.get(number)
        repo = self.repo_for(None if pr.repo == WORKSPACE_REPO else pr.repo, pr.base)
        tip = repo.git.rev(pr.branch) or pr.head_commit
        return extract_pr_edits(self.ws, repo, pr, tip) if tip else []

    def _reviewer_edits(self, pr: PullRequest, repo: PlansRepo, tip: str | None) -> None:
        """As a side effect of reading the branch: a failure is a warning, never the command's."""
        if not tip or pr.status == "closed":
            return
        try:
            found = extract_pr_edits(self.ws, repo, pr, tip)
        except MigratorError as exc:
            self.notify(f"warning: the reviewer edits of pull request #{pr.id} were not read: {exc.message}")
            return
        if found:
            self.notify(
                f"pull request #{pr.id}: {len(found)} reviewer edit(s) stored; see `migrator edits list`"
            )

    # --- the guarded merge ---------------------------------------------------------------

    def merge(self, number: int, author: Author, use_tools: bool = True) -> MergeResult:
        """Re-validate the approved branch as it is, then merge it: through the forge's API when the
        PR is on one (its protections apply and it records the merge), else with git."""
        self.actor.require("merge")
        pr = self._live(number, "merge")
        repo = self.repo_for(None if pr.repo == WORKSPACE_REPO else pr.repo, pr.base)
        tip = self._approved_tip(pr, repo)
        forge = self._forge_of(pr)
        merged_files = repo.files_at(tip, folder_name(pr.target, pr.wave))
        self._guarded(number, merged_files, use_tools, forge, tip)
        if forge is None:
            message = (
                f"Merge {pr.branch}: {pr.title}\n\nApproved by {', '.join(a['by'] for a in pr.approvals)}."
            )
            merge_commit = repo.merge(tip, message, author)  # the commit checked, even if the branch moves
        else:
            merge_commit = self._forge_merge(pr, forge, repo, tip)
        changed = self._record_merge(pr, repo, tip, merge_commit, merged_files)
        self._reviewer_edits(pr, repo, tip)

        def change(p: PullRequest) -> None:
            p.status = "merged"
            p.merge_commit = merge_commit
            p.updated_at = now()

        self.prs.update(number, change)
        audit(self.ws, self.actor, "pr.merge", f"pr:{number}", {"commit": merge_commit, "tip": tip})
        return MergeResult(number, merge_commit, changed, "git" if forge is None else pr.forge)

    def _approved_tip(self, pr: PullRequest, repo: PlansRepo) -> str:
        tip = repo.git.rev(pr.branch)
        if tip is None:
            raise Conflict(f"pull request #{pr.id}: branch {pr.branch} no longer exists")
        if tip not in {a["commit"] for a in pr.approvals}:
            state = (
                "has no approval" if not pr.approvals else f"was approved at {pr.approvals[-1]['commit'][:7]}"
            )
            raise Conflict(
                f"pull request #{pr.id} {state} but its branch is at {tip[:7]}: "
                f"review and run `migrator pr approve {pr.id}`"
            )
        return tip

    def _forge_of(self, pr: PullRequest) -> Forge | None:
        """The forge the PR is on (None: local mode), from what the landing recorded."""
        if pr.forge == "local":
            return None
        if pr.forge_number is None:
            raise ForgeError(
                f"pull request #{pr.id} is not on {pr.forge} yet (its landing could not open it there): "
                f"run `migrator pr land` for it again, then merge"
            )
        if pr.forge_api and pr.forge_repo:
            settings = ForgeSettings(pr.forge, pr.forge_api, pr.forge_repo, self.token)
        else:  # landed before migrator recorded the forge's location
            found = detect(pr.repo, pr.forge, None, None, self.token)
            assert found is not None
            settings = found
        return forge_for(settings, self.pacing)

    def _guarded(
        self, number: int, files: dict[str, bytes | None], use_tools: bool, forge: Forge | None, tip: str
    ) -> None:
        """The guard; on a forge its verdict also becomes the commit status of the branch's tip."""
        try:
            report = guard(number, files, use_tools)
        except GuardFailed as failed:
            if forge is not None:
                try:
                    forge.set_status(tip, False, _guard_status(failed.report, tip))
                except ForgeError as exc:
                    raise GuardFailed(
                        f"{failed.message}; the forge's commit status was not set: {exc.message}",
                        failed.report,
                    ) from None
            raise
        if forge is not None:
            forge.set_status(tip, True, _guard_status(report, tip))

    def _forge_merge(self, pr: PullRequest, forge: Forge, repo: PlansRepo, tip: str) -> str:
        """The forge merges `tip` (refused if the branch moved since); the local plans repository
        then fetches what the forge recorded."""
        assert pr.forge_number is not None
        try:
            sha = forge.merge(pr.forge_number, tip)
        except ForgeError as exc:
            raise ForgeError(f"pull request #{pr.id} not merged: {exc.message}") from None
        try:
            repo.fetch()
        except ForgeError as exc:
            # The forge merged: the record must say so (a second `pr merge` would be refused by
            # the forge); the local copy catches up at the next fetch.
            self.notify(
                f"warning: pull request #{pr.id} was merged on {pr.forge}, but the local plans "
                f"repository could not fetch it yet: {exc.message}"
            )
            return sha or ""
        return sha or repo.git.rev(pr.base) or ""

    def _record_merge(
        self, pr: PullRequest, repo: PlansRepo, tip: str, merge_commit: str, merged: dict[str, bytes | None]
    ) -> list[str]:
        folder = folder_name(pr.target, pr.wave)
        generated = repo.files_at(pr.head_commit, folder) if pr.head_commit else {}
        digest = {n: hashlib.sha256(d or b"").hexdigest() for n, d in sorted(merged.items())}
        changed = sorted(n for n in set(generated) | set(merged) if generated.get(n) != merged.get(n))
        diffs = {
            n: repo.git.run("diff", "--no-color", f"{pr.head_commit}..{tip}", "--", f"{folder}/{n}")
            for n in changed
        }
        document = self.ws.plans.get(pr.plan_id)
        assert pr.id is not None
        self.prs.add_merged(
            MergedWave(
                pr_id=pr.id,
                plan_id=pr.plan_id,
                snapshot_id=document["plan"]["snapshot_id"],
                target=pr.target,
                wave=pr.wave,
                merged_at=now(),
                generated_commit=pr.head_commit,
                merged_commit=tip,
                merge_commit=merge_commit,
                generated=pr.files,
                merged=digest,
                diff=diffs,
                inputs={"parameters": document["plan"]["parameters"], "pins": document["plan"].get("pins")},
            )
        )
        return changed


def guard(number: int, files: dict[str, bytes | None], use_tools: bool) -> ValidationReport:
    """The validator and the Rego guardrails on the branch's files as they are now."""
    with tempfile.TemporaryDirectory(prefix="migrator-guard-") as tmp:
        folder = Path(tmp)
        odd: list[Diagnostic] = []
        for name, data in files.items():
            if data is None or "/" in name:
                odd.append(
                    Diagnostic(
                        "merge-guard",
                        "PR-UNEXPECTED-ENTRY",
                        "error",
                        name,
                        None,
                        "a symlink, submodule or subfolder in a wave folder is not merged",
                    )
                )
                continue
            (folder / name).write_bytes(data)
        if not languages_of(folder):
            odd.append(
                Diagnostic(
                    "merge-guard",
                    "PR-NO-CODE",
                    "error",
                    "",
                    None,
                    "the wave folder has no code left to merge",
                )
            )
        report = validate_folder(folder, ValidatorOptions(use_tools=use_tools))
        report.folder = f"pull request #{number}"
        report.diagnostics = odd + report.diagnostics
    if report.failed():
        counts = report.counts
        raise GuardFailed(
            f"pull request #{number} fails the checks ({counts['error']} error(s)): not merged", report
        )
    return report


def _on_forge(p: PullRequest, settings: ForgeSettings) -> None:
    p.forge, p.forge_api, p.forge_repo = settings.kind, settings.api, settings.repo


def _forge_pr(p: PullRequest, number: int, url: str) -> None:
    p.forge_number, p.forge_url = number, url


def _counts(diagnostics: list[dict[str, Any]]) -> dict[str, int]:
    return {s: sum(d["severity"] == s for d in diagnostics) for s in ("error", "warning")}


def _status_comment(number: int, record: dict[str, Any]) -> str:
    counts = _counts(record["diagnostics"])
    return (
        f"migrator: generated code **{record['status']}** ({counts['error']} error(s), "
        f"{counts['warning']} warning(s)); local PR #{number}. "
        "The guarded merge re-runs the checks on the branch as it is then."
    )


def _generated_status(record: dict[str, Any]) -> str:
    counts = _counts(record["diagnostics"])
    return f"generated code {record['status']}: {counts['error']} error(s), {counts['warning']} warning(s)"


def _guard_status(report: ValidationReport, tip: str) -> str:
    counts = report.counts
    verdict = "fail" if report.failed() else "pass"
    return (
        f"merge guard: the checks {verdict} on {tip[:7]}: "
        f"{counts['error']} error(s), {counts['warning']} warning(s)"
    )


def _commit_message(title: str, document: dict[str, Any], status: str, summary: list[str]) -> str:
    plan = document["plan"]
    why = f"Why: plan {plan['id']} (snapshot {plan['snapshot_id']}) generated this wave with status {status}."
    return "\n".join([f"migrator: {title}", "", why, *(f"- {line}" for line in summary)])


def _new_pr(
    plan_id: int,
    req: LandRequest,
    key: str,
    branch: str,
    head: str,
    title: str,
    digests: dict[str, str],
    facts: dict[str, Any],
    summary: list[str],
) -> PullRequest:
    return PullRequest(
        plan_id=plan_id,
        target=req.target,
        wave=req.wave,
        repo=key,
        branch=branch,
        base=req.base,
        head_commit=head,
        title=title,
        created_at=now(),
        updated_at=now(),
        files=digests,
        facts=facts,
        summary="\n".join(summary),
    )


def _relanded(
    p: PullRequest,
    plan_id: int,
    head: str,
    digests: dict[str, str],
    facts: dict[str, Any],
    summary: list[str],
) -> None:
    p.plan_id = plan_id
    p.head_commit = head
    p.files = digests
    p.facts = facts
    p.summary = "\n".join(summary)
    p.status = "open"  # a new commit needs a new approval
    p.updated_at = now()


def _estate_files(root: Path, meta: TranspilerMeta) -> dict[str, bytes]:
    """The files generated once for the estate beside the wave folders (the Forklift providers):
    landed with each wave at the same place relative to its folder, as its runbook names them."""
    out: dict[str, bytes] = {}
    for name in meta.estate_files:
        path = root / name
        if path.is_file() and not path.is_symlink():
            out[f"{meta.id}/{name}"] = path.read_bytes()
    return out


def _read_folder(folder: Path, digests: dict[str, str]) -> dict[str, bytes]:
    """The generated files, checked against the digests stored when they were generated."""
    if not folder.is_dir():
        raise InputFileError(f"{folder}: the generated wave is missing: run `migrator plan` again")
    files = {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file() and not p.is_symlink()}
    for name, digest in digests.items():
        if hashlib.sha256(files.get(name, b"")).hexdigest() != digest:
            raise Conflict(
                f"{folder}/{name} changed since `migrator plan` wrote it: run `migrator plan` again"
            )
    return files
