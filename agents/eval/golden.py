"""Golden prompts: each case is a request on known inputs and the properties its answer must have
(validator-clean or refused, the asked change present, nothing else changed). Run against
whatever model is configured; pass rates are printed per prompt version, so a prompt change is
measured before it lands."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from agents import refine_graph
from agents.refine_model import StructuredModel

GOLDEN = Path(__file__).parent / "golden"
REPO = Path(__file__).resolve().parents[2]  # `inputs:` names a folder of generated code in the repo


@dataclass(frozen=True)
class Case:
    id: str
    prompt_version: str
    target: str
    request: str
    files: dict[str, str]
    expect: dict[str, Any]


@dataclass
class Outcome:
    case: str
    prompt_version: str
    passed: bool
    problems: list[str] = field(default_factory=list)
    attempts: int = 0


def load_cases(folder: Path = GOLDEN) -> list[Case]:
    cases = []
    for path in sorted(folder.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        inputs = REPO / data["inputs"]
        code = refine_graph.SUFFIXES[data["target"]]  # what `plan refine` shows a model: code, no reports
        files = {
            p.name: p.read_text(encoding="utf-8") for p in sorted(inputs.iterdir()) if p.name.endswith(code)
        }
        cases.append(
            Case(data["id"], data["prompt_version"], data["target"], data["request"], files, data["expect"])
        )
    return cases


def check(case: Case, state: dict[str, Any]) -> list[str]:
    """Why the answer lacks a property the case demands (empty: it has them all)."""
    expect, valid = case.expect, state["status"] == "valid"
    if not expect.get("valid", True):
        return ["a request the guardrails must refuse produced a valid change"] if valid else []
    if not valid:
        return [f"no valid answer: {state.get('reason', '')}"]
    result: dict[str, str] = state["result"]
    changed = sorted(n for n in result if result[n] != case.files.get(n))
    problems = [
        f"changed {n}, which the request does not concern" for n in changed if n not in expect["changed"]
    ]
    for name, needles in (expect.get("contains") or {}).items():
        problems += [f"{name} lacks {s}" for s in needles if s not in result.get(name, "")]
    for name, needles in (expect.get("absent") or {}).items():
        problems += [f"{name} still has {s}" for s in needles if s in result.get(name, "")]
    return problems


def run_case(case: Case, model: StructuredModel, use_tools: bool = False, attempts: int = 4) -> Outcome:
    graph = refine_graph.build(model, refine_graph.folder_validator(use_tools))
    start = refine_graph.initial_state(case.target, case.request, "{}", case.files, attempts)
    state = graph.invoke(start)
    problems = check(case, state)
    return Outcome(case.id, case.prompt_version, not problems, problems, len(state["attempts"]))


def pass_rates(outcomes: list[Outcome]) -> dict[str, tuple[int, int]]:
    """prompt version -> (passed, total)."""
    rates: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for o in outcomes:
        rates[o.prompt_version][0] += int(o.passed)
        rates[o.prompt_version][1] += 1
    return {v: (p, t) for v, (p, t) in sorted(rates.items())}


def report(outcomes: list[Outcome]) -> str:
    lines = [
        f"{'PASS' if o.passed else 'FAIL'} {o.case} ({o.attempts} attempt(s)) {'; '.join(o.problems)}"
        for o in outcomes
    ]
    for version, (passed, total) in pass_rates(outcomes).items():
        lines.append(f"prompt {version}: {passed}/{total} passed ({100 * passed // max(total, 1)}%)")
    return "\n".join(lines)
