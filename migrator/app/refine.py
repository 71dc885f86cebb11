"""`migrator plan refine`: change one wave's code from a request in plain language.

The model proposes whole-file edits; the refinement graph (agents/refiner/refine_graph.py) confines and
validates every attempt and sends diagnostics back. Only a valid result lands, as one commit on
the wave's pull-request branch together with the conversation (`conversations/<id>.md`);
otherwise nothing is written to the plans repository and the conversation says why. The state
is checkpointed in the workspace (refine-state.db), so `--resume ID` continues an interrupted run.
Approval stays with the pull request: a refinement commit reopens it for review.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from agents.llm.factory import client_for
from agents.refiner import refine_graph
from agents.refiner.refine_model import ClientSeam, StructuredModel
from migrator.app.conversations import conversation_markdown
from migrator.app.prs import WORKSPACE_REPO
from migrator.app.refine_state import checkpoints
from migrator.app.workspace import Workspace
from migrator.errors import ChecksFailed, Conflict, MigratorError, ModelError, NotFound, UsageError
from migrator.review.repo import Author, PlansRepo, branch_name, folder_name
from migrator.store.conversations import ConversationStore
from migrator.store.models import Conversation, PullRequest
from migrator.store.prs import PullRequestStore
from migrator.store.snapshots import now
from transpilers.escape import one_line

LLM_ENV = "MIGRATOR_LLM"
MAX_FACTS = 4000


@dataclass(frozen=True)
class RefineRequest:
    target: str
    wave: int
    request: str
    max_attempts: int = refine_graph.DEFAULT_ATTEMPTS
    use_tools: bool = True
    author: Author = field(default_factory=Author)


@dataclass(frozen=True)
class RefineResult:
    conversation: int
    status: str  # landed
    branch: str
    commit: str | None
    attempts: int
    diff: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "conversation": self.conversation,
            "status": self.status,
            "branch": self.branch,
            "commit": self.commit,
            "attempts": self.attempts,
        }


def model_from_env(ws: Workspace) -> StructuredModel:
    """The refinement model (MIGRATOR_LLM_REFINE, else MIGRATOR_LLM) through the model layer;
    offline (none configured) refinement is not possible."""
    client = client_for("refine", ws.llm)
    if client is None:
        raise ModelError(
            f"plan refine needs a chat model: set {LLM_ENV} (docs/agents.md); nothing was changed"
        )
    return ClientSeam(client, refine_graph.PROMPT_VERSION)


def refine(ws: Workspace, req: RefineRequest, model: StructuredModel) -> RefineResult:
    """Start a refinement: its conversation is stored first, then the graph runs from the top."""
    if not req.request.strip():
        raise UsageError("the refinement request is empty", field="request")
    if req.target not in refine_graph.SUFFIXES:
        raise UsageError(f"unknown {{target}} {req.target!r}", field="target")
    pr = _open_pr(ws, req.target, req.wave)
    repo = PlansRepo.open(ws.folder, None, pr.base)
    files = _code_files(req.target, repo.files_at(pr.branch, folder_name(req.target, req.wave)))
    facts = json.dumps(pr.facts, sort_keys=True, default=str)[:MAX_FACTS]
    conv = open_conversation(ws, pr, req)
    start = refine_graph.initial_state(req.target, req.request, facts, files, req.max_attempts)
    return _run(ws, conv, model, start, req.use_tools, req.author)


def open_conversation(ws: Workspace, pr: PullRequest, req: RefineRequest) -> Conversation:
    """The refinement's conversation, stored before the model is asked (with a new checkpoint thread)."""
    stamp = now()
    conv = ConversationStore(ws.engine).add(
        Conversation(
            plan_id=pr.plan_id, target=req.target, wave=req.wave, pr_number=pr.id, request=req.request,
            thread_id=uuid.uuid4().hex, created_at=stamp, updated_at=stamp,
        )
    )  # fmt: skip
    assert conv.id is not None
    return conv


def bind(model: StructuredModel, conv: Conversation, version: str | None = None) -> None:
    """The model layer's records name the plan and the conversation (and the prompt version)."""
    if isinstance(model, ClientSeam):
        model.plan_id, model.provenance = conv.plan_id, {"conversation": conv.id, "wave": conv.wave}
        model.version = version or model.version


def running(ws: Workspace, number: int) -> Conversation:
    """The conversation `--resume` continues: only a running one."""
    conv = ConversationStore(ws.engine).get(number)
    if conv.status != "running":
        raise Conflict(f"conversation {number} is {conv.status}: nothing to resume")
    return conv


def resume(
    ws: Workspace, number: int, model: StructuredModel, use_tools: bool = True, author: Author | None = None
) -> RefineResult:
    """Continue an interrupted refinement from its last checkpoint."""
    return _run(ws, running(ws, number), model, None, use_tools, author or Author())


def _run(
    ws: Workspace,
    conv: Conversation,
    model: StructuredModel,
    start: refine_graph.RefineState | None,
    use_tools: bool,
    author: Author,
) -> RefineResult:
    assert conv.id is not None
    bind(model, conv)
    with checkpoints(ws) as saver:
        graph = refine_graph.build(model, refine_graph.folder_validator(use_tools), saver)
        state = invoke(ws, conv, graph, start)
    attempts = state["attempts"]
    if state["status"] != "valid":
        reason = one_line(state.get("reason") or "no valid answer", 200)
        _finish(ws, conv.id, "failed", attempts, reason=reason)
        raise ChecksFailed(
            f"refinement {conv.id} failed: {reason}; nothing was written "
            f"(see `migrator conversations show {conv.id}`)"
        )
    return _land(ws, conv, state, author)


def invoke(ws: Workspace, conv: Conversation, graph: Any, start: Mapping[str, Any] | None) -> dict[str, Any]:
    """Run a compiled refinement graph from `start`, or (None) on from the conversation's last
    checkpoint. When the endpoint fails, the conversation stays `running` with the attempts so
    far, so `--resume` continues it."""
    assert conv.id is not None
    config = {"configurable": {"thread_id": conv.thread_id}}
    if start is None and not graph.get_state(config).values:
        raise Conflict(f"conversation {conv.id} has no saved state to resume")
    try:
        state: dict[str, Any] = graph.invoke(start, config)
    except MigratorError as exc:
        attempts = graph.get_state(config).values.get("attempts", [])
        _finish(ws, conv.id, "running", attempts, reason=one_line(exc.message, 200))
        raise
    return state


def _land(ws: Workspace, conv: Conversation, state: dict[str, Any], author: Author) -> RefineResult:
    assert conv.id is not None
    pr = _open_pr(ws, conv.target, conv.wave)
    folder = folder_name(conv.target, conv.wave)
    repo = PlansRepo.open(ws.folder, None, pr.base)
    current = {n: d for n, d in repo.files_at(pr.branch, folder).items() if d is not None}
    if _code_files(conv.target, current) != state["files"]:
        raise Conflict(f"the branch {pr.branch} changed during refinement {conv.id}: refine again")
    files = {**current, **{n: t.encode("utf-8") for n, t in state["result"].items()}}
    done = _finish(ws, conv.id, "landed", state["attempts"])
    note = {f"conversations/{conv.id}.md": conversation_markdown(done).encode("utf-8")}
    message = (
        f"migrator: refine {conv.target} wave {conv.wave}: {one_line(conv.request, 60)}\n\n"
        f"Conversation {conv.id}: {len(state['attempts'])} attempt(s), the last one valid."
    )
    landed = repo.land(conv.target, conv.wave, files, message, author, extra=note, refinement=conv.id)
    diff = repo.diff(landed.previous, landed.commit, folder) if landed.commit and landed.previous else ""
    ConversationStore(ws.engine).update(conv.id, lambda c: _landed(c, landed.commit, diff))
    digests = {n: hashlib.sha256(d).hexdigest() for n, d in sorted(files.items())}
    assert pr.id is not None
    PullRequestStore(ws.engine).update(pr.id, lambda p: _reopened(p, landed.commit, digests))
    return RefineResult(conv.id, "landed", pr.branch, landed.commit, len(state["attempts"]), diff)


def _finish(
    ws: Workspace, number: int, status: str, attempts: list[dict[str, Any]], reason: str = ""
) -> Conversation:
    def change(c: Conversation) -> None:
        c.status, c.reason, c.attempts, c.updated_at = status, reason, list(attempts), now()

    return ConversationStore(ws.engine).update(number, change)


def _landed(c: Conversation, commit: str | None, diff: str) -> None:
    c.commit, c.diff, c.updated_at = commit, diff, now()


def _reopened(p: PullRequest, commit: str | None, digests: dict[str, str]) -> None:
    p.head_commit = commit or p.head_commit
    p.files = digests
    p.status = "open"  # a refinement is a new commit: it needs a new approval
    p.updated_at = now()


def _open_pr(ws: Workspace, target: str, wave: int) -> PullRequest:
    pr = PullRequestStore(ws.engine).latest_for(WORKSPACE_REPO, branch_name(target, wave))
    if pr is None:
        raise NotFound(
            f"wave {wave} of {target} has no pull request: "
            f"land it first (`migrator plan --target {target} --land`)"
        )
    if pr.status not in ("open", "approved"):
        raise Conflict(f"pull request #{pr.id} of wave {wave} is {pr.status}: only an open one is refined")
    return pr


def _code_files(target: str, files: Mapping[str, bytes | None]) -> dict[str, str]:
    """The files the model may see and change: the wave's code, never its reports."""
    out = {}
    for name, data in files.items():
        if data is not None and "/" not in name and name.endswith(refine_graph.SUFFIXES[target]):
            out[name] = data.decode("utf-8", errors="replace")
    return out
