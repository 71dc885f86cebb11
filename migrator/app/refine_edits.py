"""`migrator plan refine` on plan edits (the default): the model reads the wave's facts and its
current edits and proposes edits under the wave's own schema (agents/refiner/refine_edits.py); each
attempt is applied to the plan model, rendered by the wave's transpiler and validated, and the
new errors go back to the model (agents/refiner/refine_edit_graph.py, at most --max-attempts).

Accepted edits are stored with provenance (source model, the model id, the prompt version, the
conversation), the wave is generated again through `migrator plan`'s path and landed on its
pull-request branch, whose PLAN.md lists the edits. The last refused attempt's edits are stored
as refused with the diagnostics. A request naming a VM the wave lacks is refused before the
model is asked; an empty answer changes nothing (and may carry the model's question).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from agents.generator.transpiler_agent import run_wave
from agents.refiner import refine_edit_graph
from agents.refiner.refine_edits import MODEL_KINDS, PROMPT_VERSION, answer_schema, facts, foreign_names
from agents.refiner.refine_model import StructuredModel
from agents.validator import ValidatorOptions
from migrator.app import semantic_cache
from migrator.app.edits import AddRequest, StoredEdit, active_edits, add_edit, for_target, for_wave, show_edit
from migrator.app.generation import GenerateRequest, PlannedInputs, generate, planned_inputs, stored_options
from migrator.app.prs import LandRequest, Reviews
from migrator.app.refine import (
    RefineRequest,
    RefineResult,
    _finish,
    _open_pr,
    bind,
    invoke,
    open_conversation,
    resume,
    running,
)
from migrator.app.refine_state import checkpoints
from migrator.app.retrieval import retrieve
from migrator.app.workspace import Workspace
from migrator.diagnostics import Diagnostic
from migrator.errors import ChecksFailed, NotFound, UsageError
from migrator.review.repo import Author
from migrator.store.conversations import ConversationStore
from migrator.store.models import Conversation, PlanEdit
from migrator.store.snapshots import now
from policies.engine import blocking, source_findings
from transpilers.edits import apply_edits
from transpilers.escape import one_line
from transpilers.model import TargetOptions, WaveInput
from transpilers.registry import get, target_options
from waves.edits import Edit


@dataclass(frozen=True)
class EditRefineResult:
    conversation: int
    status: str  # landed | no-edits
    branch: str
    commit: str | None
    attempts: int
    edits: list[dict[str, Any]]  # the stored edits with their one-line rendering
    question: str = ""
    prompt: str = ""  # what the model was asked first (facts and request)

    def as_dict(self) -> dict[str, Any]:
        return {
            "conversation": self.conversation, "status": self.status, "branch": self.branch,
            "commit": self.commit, "attempts": self.attempts, "question": self.question,
            "edits": [{"id": e["id"], "status": e["status"], "change": e["change"]} for e in self.edits],
        }  # fmt: skip


def refine_with_edits(ws: Workspace, req: RefineRequest, model: StructuredModel) -> EditRefineResult:
    if not req.request.strip():
        raise UsageError("the refinement request is empty", field="request")
    if req.target not in MODEL_KINDS:
        raise UsageError(f"unknown {{target}} {req.target!r}", field="target")
    pr = _open_pr(ws, req.target, req.wave)
    planned = planned_inputs(ws, None)
    wave = _wave(planned, req.wave, req.target)
    foreign = foreign_names(req.request, wave)
    if foreign:
        raise UsageError(
            f"the request names {', '.join(repr(n) for n in foreign[:5])}, not a VM or group of wave "
            f"{req.wave}; nothing was asked or changed",
            field="request",
        )
    names = {vm.name for vm in wave.vms}
    current = for_wave(for_target(active_edits(ws), req.target), wave.number, names)
    options = target_options(stored_options(ws, planned, req.target, req.wave))
    text = facts(wave, [e.edit.describe() for e in current], region_after(wave, options, current))
    conv = open_conversation(ws, pr, req)
    kinds = MODEL_KINDS[req.target]
    shots = [(r.request, r.answer) for r in retrieve(ws, req.target, req.request, kinds)]
    start = refine_edit_graph.initial_state(req.target, req.request, text, kinds, req.max_attempts, shots)
    return _run(ws, conv, req, model, start)


def resume_refinement(
    ws: Workspace, number: int, model: StructuredModel, use_tools: bool = True, author: Author | None = None
) -> EditRefineResult | RefineResult:
    """`plan refine --resume N`: continue an interrupted refinement in the mode it was started in
    (its checkpoint says which: a whole-file state carries the files, an edits state does not)."""
    conv = running(ws, number)
    with checkpoints(ws) as saver:
        saved = saver.get_tuple({"configurable": {"thread_id": conv.thread_id}})
    values = saved.checkpoint.get("channel_values", {}) if saved is not None else {}
    if not values or "files" in values:  # free-form, or nothing saved (resume says so)
        return resume(ws, number, model, use_tools, author)
    req = RefineRequest(conv.target, conv.wave, conv.request, use_tools=use_tools, author=author or Author())
    return _run(ws, conv, req, model, None)


def _run(
    ws: Workspace,
    conv: Conversation,
    req: RefineRequest,
    model: StructuredModel,
    start: refine_edit_graph.EditState | None,
) -> EditRefineResult:
    """Run the graph from `start`, or on from the conversation's last checkpoint (start None: the
    attempts so far, the messages and the attempt count are the checkpoint's). The wave, its
    current edits and the generation options are read again: they are not state."""
    assert conv.id is not None
    planned = planned_inputs(ws, None)
    wave = _wave(planned, req.wave, req.target)
    current = for_wave(for_target(active_edits(ws), req.target), wave.number, {vm.name for vm in wave.vms})
    bind(model, conv, PROMPT_VERSION)
    options = target_options(stored_options(ws, planned, req.target, req.wave))
    check = render_check(req.target, wave, options, [e.edit for e in current], req.use_tools)
    region = region_after(wave, options, current)
    text = facts(wave, [e.edit.describe() for e in current], region)  # as the model was first given them
    cached = semantic_cache.lookup(ws, req.target, text, req.request) if start is not None else None
    asked = semantic_cache.SemanticHit(model, ws, conv, cached) if cached is not None else model
    with checkpoints(ws) as saver:
        graph = refine_edit_graph.build(asked, answer_schema(req.target, wave, region), wave, check, saver)
        state = invoke(ws, conv, graph, start)
    if not isinstance(asked, semantic_cache.SemanticHit):
        semantic_cache.remember(ws, req.target, text, req.request, state)
    return _conclude(ws, conv, state, model.name, req, conv.pr_number, state["messages"][1][1])


def region_after(wave: WaveInput, options: TargetOptions, current: list[StoredEdit]) -> str:
    """The wave's region once its current edits apply (a region edit moves it): the model's
    facts and its zone choices follow it."""
    return apply_edits(wave, options, [e.edit for e in current]).options.region


def _wave(planned: PlannedInputs, number: int, target: str) -> WaveInput:
    found = next((w for w in planned.waves if w.number == number), None)
    if found is None:
        raise NotFound(f"wave {number} is not in plan {planned.plan_id}")
    records = [vm.record for vm in found.vms]
    return replace(found, blocked=blocking(source_findings(records, planned.clusters, target)))


def render_check(
    target: str, wave: WaveInput, options: TargetOptions, current: list[Edit], use_tools: bool
) -> refine_edit_graph.Check:
    """Apply the current and proposed edits, render the wave and validate it; the errors the
    wave with its current edits alone does not have are the proposal's."""
    transpiler = get(target)
    base: list[Diagnostic] | None = None

    def errors(edits: list[Edit]) -> list[Diagnostic]:
        applied = apply_edits(wave, options, edits)
        refused = [
            Diagnostic("edit", "EDIT-NOT-IN-WAVE", "error", "", None, w) for w in applied.refused.values()
        ]
        if refused:
            return refused
        with tempfile.TemporaryDirectory(prefix="migrator-refine-") as tmp:
            result = run_wave(transpiler, applied.wave, applied.options, Path(tmp) / "wave", max_attempts=1,
                              validator=ValidatorOptions(use_tools=use_tools))  # fmt: skip
        return [d for d in result.diagnostics if d.severity == "error"]

    def check(proposed: list[Edit]) -> list[Diagnostic]:
        nonlocal base
        if base is None:
            base = errors(current)
        return [d for d in errors([*current, *proposed]) if d not in base]

    return check


def _conclude(
    ws: Workspace, conv: Conversation, state: dict[str, Any], who: str, req: RefineRequest, pr: int | None,
    prompt: str,
) -> EditRefineResult:  # fmt: skip
    assert conv.id is not None
    attempts, branch = state["attempts"], f"migrator/{req.target}/wave-{req.wave:02d}"
    if state["status"] == "empty":
        _finish(ws, conv.id, "failed", attempts, reason=one_line(state["reason"], 200))
        return EditRefineResult(
            conv.id, "no-edits", branch, None, len(attempts), [], state.get("question", ""), prompt
        )
    provenance = {"who": who[:200], "source": "model", "pr": pr, "conversation": str(conv.id),
                  "prompt_version": PROMPT_VERSION}  # fmt: skip
    if state["status"] != "valid":
        _store_refused(ws, state, provenance, attempts)
        reason = one_line(state.get("reason") or "no valid edits", 200)
        _finish(ws, conv.id, "failed", attempts, reason=reason)
        raise ChecksFailed(
            f"refinement {conv.id} failed: {reason}; its last edits are stored as refused, nothing was "
            f"landed (see `migrator conversations show {conv.id}` and `migrator edits list --status refused`)"
        )
    stored = [
        add_edit(ws, AddRequest(e, who[:200], "model", pr, str(conv.id), PROMPT_VERSION))
        for e in state["result"]
    ]
    landed = _regenerate_and_land(ws, req)
    stored = [show_edit(ws, int(e["id"])) for e in stored]  # generation may have refused them since
    _finish(ws, conv.id, "landed", attempts)
    ConversationStore(ws.engine).update(conv.id, lambda c: _landed(c, landed.commit))
    return EditRefineResult(
        conv.id, "landed", landed.branch, landed.commit, len(attempts), stored, "", prompt
    )


def _landed(c: Conversation, commit: str | None) -> None:
    c.commit, c.updated_at = commit, now()


def _store_refused(
    ws: Workspace, state: dict[str, Any], provenance: dict[str, Any], attempts: list[Any]
) -> None:
    diagnostics = attempts[-1].get("diagnostics", []) if attempts else []
    stamp = now()
    for data in state.get("refused") or []:
        vm, wave = data.get("vm"), data.get("wave")
        ws.edits.add(
            PlanEdit(
                created_at=stamp, kind=str(data["kind"]), vm=vm if isinstance(vm, str) else None,
                wave=wave if isinstance(wave, int) else None, edit=data,
                source="model", who=provenance["who"], prompt_version=PROMPT_VERSION, pr=provenance["pr"],
                conversation=provenance["conversation"], status="refused", diagnostics=diagnostics,
                changed_at=stamp,
            )
        )  # fmt: skip


def _regenerate_and_land(ws: Workspace, req: RefineRequest) -> Any:
    """`migrator plan --wave N` into the folder the wave was generated into, then `pr land`."""
    planned = planned_inputs(ws, None)
    record = next(
        (r for r in ws.generated.latest(planned.plan_id, req.target) if r["wave"] == req.wave), None
    )
    if record is None:
        raise NotFound(f"wave {req.wave} has not been generated for {req.target}: run `migrator plan`")
    out = Path(record["out_dir"]).parent.parent
    given = record["options"]  # what `migrator plan` was given (--region, --storage-class, ...)
    generate(ws, GenerateRequest(req.target, req.wave, out, options=given, use_tools=req.use_tools))
    return Reviews(ws).land(LandRequest(req.target, req.wave, author=req.author))
