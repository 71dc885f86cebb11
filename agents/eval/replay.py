"""Time-ordered replay of merged-PR cases (`migrator eval replay`, docs/learning.md "Replay").

For each case, in order: learn from the earlier cases only (waves.learning), give the generated
plan the corrections that match, and count the reviewer edits still needed to reach the merged
plan, against the count without learning. The corpus format is documented in docs/learning.md.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from migrator.errors import InputFileError, NotFound
from waves.learning import (
    Correction,
    Example,
    family_of,
    generalise,
    matches,
    normalise,
)

Plan = dict[str, Any]  # one VM: instance_type, disks {label: settings}, tags {key: value}
MAX_CASES = 10_000


@dataclass(frozen=True)
class CaseVM:
    name: str
    facts: dict[str, str]
    disks: list[str]
    generated: Plan
    merged: Plan


@dataclass(frozen=True)
class Case:
    name: str
    pr: int
    approver: str
    reviewers: list[str]
    vms: list[CaseVM]


def _plan(data: Any, where: str) -> Plan:
    if not isinstance(data, dict):
        raise InputFileError(f"{where}: a plan is an object with instance_type, disks, tags")
    disks = data.get("disks") or {}
    tags = data.get("tags") or {}
    if not isinstance(disks, dict) or not isinstance(tags, dict):
        raise InputFileError(f"{where}: disks and tags are objects")
    return {
        "instance_type": str(data.get("instance_type") or ""),
        "disks": {str(k): dict(v) for k, v in disks.items()},
        "tags": {str(k): str(v) for k, v in tags.items()},
    }


def _vm(data: Any, where: str) -> CaseVM:
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        raise InputFileError(f"{where}: each VM is an object with a name")
    facts = data.get("facts")
    if not isinstance(facts, dict):  # or the inventory record, normalised as `migrator plan` does
        facts = normalise(data.get("record") or {"name": data["name"]})
    generated = _plan(data.get("generated"), f"{where} generated")
    return CaseVM(
        data["name"],
        {str(k): str(v) for k, v in facts.items()},
        list(generated["disks"]),
        generated,
        _plan(data.get("merged"), f"{where} merged"),
    )


def load_corpus(folder: Path) -> list[Case]:
    """The cases of a corpus folder, in file-name order (the time order)."""
    if not folder.is_dir():
        raise NotFound(f"corpus {folder} is not a folder")
    files = sorted(folder.glob("*.json"))[:MAX_CASES]
    if not files:
        raise InputFileError(f"corpus {folder} has no case files (*.json)")
    cases = []
    for number, path in enumerate(files, 1):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            raise InputFileError(f"{path.name}: not JSON ({str(exc).splitlines()[0][:120]})") from None
        vms = data.get("vms") if isinstance(data, dict) else None
        if not isinstance(vms, list):
            raise InputFileError(f"{path.name}: a case is an object with a list of vms")
        cases.append(
            Case(
                path.stem,
                int(data.get("pr") or number),
                str(data.get("approver") or ""),
                [str(r) for r in data.get("reviewers") or []],
                [_vm(vm, f"{path.name} vms[{i}]") for i, vm in enumerate(vms)],
            )
        )
    return cases


# ---- plans, slots, distance -------------------------------------------------------------------


def _settings(value: Mapping[str, Any]) -> str:
    return json.dumps({k: value[k] for k in ("type", "iops", "throughput") if k in value}, sort_keys=True)


def slots(plan: Plan) -> dict[str, str]:
    """A VM's plan in the learner's slots (waves.learning)."""
    found = {f"tag:{k}": v for k, v in plan["tags"].items()}
    if plan["instance_type"]:
        found["instance-family"] = family_of(plan["instance_type"])
    labels = list(plan["disks"])
    if labels:
        found["volume:boot"] = _settings(plan["disks"][labels[0]])
    if len(labels) > 1:
        found["volume:data"] = _settings(plan["disks"][labels[1]])
    return found


def fix(answer: Plan, merged: Plan) -> dict[str, str]:
    """The slots the reviewer changed between the answer and the merged plan."""
    before, after = slots(answer), slots(merged)
    changed = {s: v for s, v in after.items() if before.get(s) != v and not s.startswith("volume:")}
    labels = list(merged["disks"])
    for i, label in enumerate(labels):
        if _settings(answer["disks"].get(label, {})) != _settings(merged["disks"][label]):
            changed["volume:boot" if i == 0 else "volume:data"] = _settings(merged["disks"][label])
    return changed


def distance(a: Plan, b: Plan) -> int:
    """Edits needed from a to b: one per instance type, per disk, per tag key that differs."""
    edits = int(a["instance_type"] != b["instance_type"])
    labels = set(a["disks"]) | set(b["disks"])
    edits += sum(_settings(a["disks"].get(d, {})) != _settings(b["disks"].get(d, {})) for d in labels)
    keys = set(a["tags"]) | set(b["tags"])
    return edits + sum(a["tags"].get(k) != b["tags"].get(k) for k in keys)


def apply(plan: Plan, slot: str, value: str) -> Plan:
    """The plan with one learned value (a family keeps the generated size, as reviewers do here)."""
    new = {"instance_type": plan["instance_type"], "disks": dict(plan["disks"]), "tags": dict(plan["tags"])}
    if slot == "instance-family" and "." in plan["instance_type"]:
        new["instance_type"] = f"{value}.{plan['instance_type'].split('.', 1)[1]}"
    elif slot.startswith("tag:"):
        new["tags"][slot[4:]] = value
    elif slot.startswith("volume:"):
        labels = list(plan["disks"])
        for label in labels[:1] if slot == "volume:boot" else labels[1:]:
            new["disks"][label] = json.loads(value)
    return new


# ---- the replay -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseResult:
    case: str
    pr: int
    vms: int
    edits_without: int
    edits_with: int
    corrections: int  # learned corrections known before the case
    applied: int  # learned values given to its VMs

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def replay(cases: list[Case]) -> list[CaseResult]:
    examples: list[Example] = []
    results = []
    for order, case in enumerate(cases):
        known: list[Correction] = generalise(examples)
        applied_count, new_examples, with_learning, without = 0, [], 0, 0
        for vm in case.vms:
            answer = vm.generated
            for m in matches(vm.facts, vm.disks, known, examples):
                answer = apply(answer, m.correction.slot, m.correction.value)
                applied_count += 1
            without += distance(vm.generated, vm.merged)
            with_learning += distance(answer, vm.merged)
            new_examples.append(
                Example(
                    case.pr,
                    order,
                    vm.name,
                    vm.facts,
                    vm.disks,
                    slots(answer),
                    fix(answer, vm.merged),
                    tuple(case.reviewers),
                    case.approver,
                )
            )
        examples.extend(new_examples)
        results.append(
            CaseResult(case.name, case.pr, len(case.vms), without, with_learning, len(known), applied_count)
        )
    return results


def summary(results: list[CaseResult]) -> dict[str, Any]:
    """The figures the README reports: totals, after the first quarter, cases with no edit, worse."""
    quarter = len(results) // 4
    later = results[quarter:]

    def totals(rows: list[CaseResult], attr: str) -> int:
        return sum(getattr(r, attr) for r in rows)

    def share_clean(attr: str) -> float:
        return round(sum(getattr(r, attr) == 0 for r in results) / len(results), 3) if results else 0.0

    without_later, with_later = totals(later, "edits_without"), totals(later, "edits_with")
    return {
        "cases": len(results),
        "first_quarter": quarter,
        "edits": {
            "without": totals(results, "edits_without"),
            "deterministic": totals(results, "edits_with"),
        },
        "edits_after_first_quarter": {"without": without_later, "deterministic": with_later},
        "removed_after_first_quarter": round(1 - with_later / without_later, 3) if without_later else 0.0,
        "cases_without_edits": {
            "without": share_clean("edits_without"),
            "deterministic": share_clean("edits_with"),
        },
        "cases_worse": [r.case for r in results if r.edits_with > r.edits_without],
    }


# ---- the model path: requests and model edits on the replay's plan model ----------------------

# What the request names per slot the case's reviewers changed (kinds only: never a value, never
# a VM; the values can only come from the retrieved examples). docs/learning.md.
REQUEST_WORDS = {"instance-family": "instance family", "volume:boot": "boot disk",
                 "volume:data": "data disk", "tag": "tag"}  # fmt: skip
PLAN_KINDS = ("instance-type", "instance-family", "volume", "tags")  # what `apply_edit` models


def _kind_of(slot: str) -> str:
    return "tag" if slot.startswith("tag:") else slot


def request_for(case: Case) -> str:
    """The refinement request of a case: the kinds of change its reviewers made, as a user would
    ask for the team's usual corrections ("" when the reviewers changed nothing)."""
    changed = {_kind_of(s) for vm in case.vms for s in fix(vm.generated, vm.merged)}
    words = [REQUEST_WORDS[k] for k in REQUEST_WORDS if k in changed]
    if not words:
        return ""
    listed = words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"
    return f"apply the {listed} corrections our reviewers usually make to these VMs"


def apply_edit(plan: Plan, edit: Mapping[str, Any]) -> tuple[Plan, int]:
    """A plan edit (JSON form, one VM) on a VM's plan, and the changes it makes that the replay's plan
    model does not hold (a size, a wave-level kind...): the merged plan did not have them, so each
    is one reviewer edit to undo it. A family keeps the generated size, as `apply` does."""
    kind = edit.get("kind")
    if kind == "instance-family":
        return apply(plan, "instance-family", str(edit["family"])), 0
    new = {"instance_type": plan["instance_type"], "disks": dict(plan["disks"]), "tags": dict(plan["tags"])}
    if kind == "instance-type":
        new["instance_type"] = str(edit["instance_type"])
        return new, 0
    if kind == "tags":
        new["tags"].update({str(k): str(v) for k, v in (edit.get("tags") or {}).items()})
        return new, 0
    if kind == "volume" and edit.get("disk") in plan["disks"]:
        settings = {k: edit[k] for k in ("type", "iops", "throughput") if edit.get(k) is not None}
        new["disks"][str(edit["disk"])] = {**plan["disks"][str(edit["disk"])], **settings}
        return new, int(edit.get("size_gb") is not None)
    return new, 1


def apply_edits_to(plans: Mapping[str, Plan], edits: list[Mapping[str, Any]]) -> tuple[dict[str, Plan], int]:
    """Every VM's plan once the edits apply, and the changes outside the replay's plan model."""
    out, outside = dict(plans), 0
    for edit in edits:
        vm = edit.get("vm")
        if isinstance(vm, str) and vm in out:
            out[vm], extra = apply_edit(out[vm], edit)
            outside += extra
        else:  # a wave-level edit (region, port rule, anti-affinity set, ...)
            outside += 1
    return out, outside
