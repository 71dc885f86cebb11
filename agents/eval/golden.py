"""Golden prompts for refinement on edits: each case is a request on a known wave (facts in
agents/eval/waves/) and what must come of it: the expected plan edits, a refusal (no edit
accepted), or a question (no edits and a question). Run against whatever model is configured;
per prompt: converged, attempts, edits correct, refused correctly; totals per prompt version.

The check used here applies the edits to the wave's plan model (transpilers/edits.py: the VM,
disk and group must exist) after each edit's own model checked it (catalogue, bounds, the
world-open guardrail); it does not render and validate code, so the eval stays cheap."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from agents.refiner import refine_edit_graph
from agents.refiner.refine_edits import MODEL_KINDS, answer_schema, facts, foreign_names
from agents.refiner.refine_model import StructuredModel
from agents.refiner.refine_steps import StepwiseModel
from migrator.diagnostics import Diagnostic
from transpilers.edits import apply_edits
from transpilers.model import TargetOptions, VMInput, WaveInput
from waves.edits import Edit
from waves.sizing import SizingParameters, size_vm

GOLDEN = Path(__file__).parent / "golden"
WAVES = Path(__file__).parent / "waves"
REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Case:
    id: str
    prompt_version: str
    target: str
    wave: WaveInput
    request: str
    expect: dict[str, Any]
    wave_name: str = ""  # the facts file in agents/eval/waves/


@dataclass
class Outcome:
    case: str
    prompt_version: str
    converged: bool  # ended as the case wants: valid edits, or no edits for refuse/ask
    attempts: int
    edits_correct: bool | None  # None: a refuse/ask case
    refused_correctly: bool | None  # None: not a must-refuse case
    asked: bool | None  # None: not an ask case
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems


def wave_from_yaml(path: Path) -> WaveInput:
    return wave_from_facts(yaml.safe_load(path.read_text(encoding="utf-8")))


def wave_from_facts(data: dict[str, Any]) -> WaveInput:
    """A wave's plan model from its facts (names, roles, OS, sizes, instance types, disks, NICs by
    label and source network): enough for the terraform-aws transpiler to render it."""
    vms: list[VMInput] = []
    for v in data["vms"]:
        record = {
            "name": v["name"], "moref": f"vm-{len(vms) + 1}", "uuid": f"uuid-{len(vms) + 1}",
            "guest_os": v["os"], "num_cpu": v["cpu"], "memory_mb": v["memory_gb"] * 1024,
            "nics": [{"label": label, "network": net} for label, net in (v.get("nics") or {}).items()],
            "power_state": "poweredOn",
            "disks": [{"label": label, "capacity_gb": gb} for label, gb in v["disks"].items()],
        }  # fmt: skip
        sizing = size_vm(record, SizingParameters())
        sizing["aws"]["instance_type"] = v["type"]
        vms.append(VMInput(v["name"], record, sizing, v["app"], None, v["tier"], ()))
    wave_of = {vm.name: data["number"] for vm in vms}
    return WaveInput(data["number"], f"wave-{data['number']}", tuple(vms), (), (), {}, wave_of)


def load_cases(folder: Path = GOLDEN) -> list[Case]:
    cases = []
    for path in sorted(folder.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        wave = wave_from_yaml(WAVES / f"{data['wave']}.yaml")
        cases.append(
            Case(
                data["id"],
                data["prompt_version"],
                data["target"],
                wave,
                data["request"],
                data["expect"],
                data["wave"],
            )
        )
    return cases


def plan_check(wave: WaveInput) -> refine_edit_graph.Check:
    """The edits applied to the wave's plan model: what names nothing in the wave is an error."""

    def check(edits: list[Edit]) -> list[Diagnostic]:
        refused = apply_edits(wave, TargetOptions(), edits).refused
        return [Diagnostic("edit", "EDIT-NOT-IN-WAVE", "error", "", None, why) for why in refused.values()]

    return check


def _canonical(edits: list[dict[str, Any]]) -> list[str]:
    return sorted(json.dumps({k: v for k, v in e.items() if v is not None and k != "version"}, sort_keys=True)
                  for e in edits)  # fmt: skip


def run_case(case: Case, model: StructuredModel, attempts: int = 4, steps: bool = False) -> Outcome:
    """One case; `steps`: the model decides kind, target and values in three small calls."""
    if steps:
        model = StepwiseModel(model, case.target, case.wave)
    foreign = foreign_names(case.request, case.wave)
    if foreign:  # caught before asking: the model is not called
        state: dict[str, Any] = {"status": "empty", "attempts": [], "result": [], "question": ""}
    else:
        schema = answer_schema(case.target, case.wave)
        graph = refine_edit_graph.build(model, schema, case.wave, plan_check(case.wave))
        text = facts(case.wave, [])
        kinds = MODEL_KINDS[case.target]
        state = graph.invoke(
            refine_edit_graph.initial_state(case.target, case.request, text, kinds, attempts)
        )
    return judge(case, state)


def judge(case: Case, state: dict[str, Any]) -> Outcome:
    accepted = state["result"] if state["status"] == "valid" else []
    expect, n = case.expect, len(state["attempts"])
    if "edits" in expect:
        correct = _canonical(accepted) == _canonical(expect["edits"])
        problems = [] if correct else [f"edits {_canonical(accepted)} != expected"]
        return Outcome(
            case.id, case.prompt_version, state["status"] == "valid", n, correct, None, None, problems
        )
    if expect.get("refuse"):
        ok = not accepted
        problems = [] if ok else ["an edit was accepted for a request that must be refused"]
        return Outcome(case.id, case.prompt_version, ok, n, None, ok, None, problems)
    asked = not accepted and bool(state.get("question"))
    problems = [] if asked else ["no question" if not accepted else "edits for an ambiguous request"]
    return Outcome(case.id, case.prompt_version, asked, n, None, None, asked, problems)


def pass_rates(outcomes: list[Outcome]) -> dict[str, tuple[int, int]]:
    """prompt version -> (passed, total)."""
    rates: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for o in outcomes:
        rates[o.prompt_version][0] += int(o.passed)
        rates[o.prompt_version][1] += 1
    return {v: (p, t) for v, (p, t) in sorted(rates.items())}


def _mark(value: bool | None) -> str:
    return "-" if value is None else ("yes" if value else "no")


def report_line(o: Outcome) -> str:
    return (
        f"{o.case:<24} {_mark(o.converged):<9} {o.attempts:<8} {_mark(o.edits_correct):<5} "
        f"{_mark(o.refused_correctly):<7} {_mark(o.asked):<5} {'; '.join(o.problems)[:120]}"
    )


HEADER = f"{'case':<24} {'converged':<9} {'attempts':<8} {'edits':<5} {'refused':<7} {'asked':<5}"


def report(outcomes: list[Outcome]) -> str:
    return "\n".join([HEADER, *(report_line(o) for o in outcomes), totals(outcomes)])


def totals(outcomes: list[Outcome]) -> str:
    """The totals and the pass rate per prompt version."""
    lines: list[str] = []
    edit_cases = [o for o in outcomes if o.edits_correct is not None]
    refuse_cases = [o for o in outcomes if o.refused_correctly is not None]
    ask_cases = [o for o in outcomes if o.asked is not None]
    lines.append(
        f"edits correct {sum(bool(o.edits_correct) for o in edit_cases)}/{len(edit_cases)}; "
        f"refused correctly {sum(bool(o.refused_correctly) for o in refuse_cases)}/{len(refuse_cases)}; "
        f"asked {sum(bool(o.asked) for o in ask_cases)}/{len(ask_cases)}"
    )
    for version, (passed, total) in pass_rates(outcomes).items():
        lines.append(f"prompt {version}: {passed}/{total} passed ({100 * passed // max(total, 1)}%)")
    return "\n".join(lines)


def as_json(outcomes: list[Outcome]) -> dict[str, Any]:
    """The table as data (`--format json`): each case, the totals and the pass rate per version."""

    def count(values: list[bool | None]) -> dict[str, int]:
        known = [v for v in values if v is not None]
        return {"passed": sum(known), "total": len(known)}

    return {
        "cases": [
            {"case": o.case, "prompt_version": o.prompt_version, "converged": o.converged,
             "attempts": o.attempts, "edits_correct": o.edits_correct,
             "refused_correctly": o.refused_correctly, "asked": o.asked, "problems": o.problems}
            for o in outcomes
        ],
        "edits_correct": count([o.edits_correct for o in outcomes]),
        "refused_correctly": count([o.refused_correctly for o in outcomes]),
        "asked": count([o.asked for o in outcomes]),
        "prompt_versions": {v: {"passed": p, "total": t} for v, (p, t) in pass_rates(outcomes).items()},
    }  # fmt: skip
