"""What-if pinning for the dashboard: re-plan with a pin without storing anything, or store it.

A preview plans the latest snapshot with the current plan's parameters and the stored pins plus
(or minus) one, and compares the result with the current plan. Applying does exactly what
`waves pin` + `waves plan` do, through the same functions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from migrator.app.identities import Actor
from migrator.app.planning import (
    WavePlanResult,
    load_inputs,
    pin_vm,
    plan_parameters,
    plan_waves,
    unpin_vm,
)
from migrator.app.workspace import Workspace
from migrator.errors import NotFound
from waves.diff import diff_plans
from waves.parameters import PlanParameters
from waves.plan import plan_waves as run_planner


@dataclass(frozen=True)
class WhatIf:
    vm: str
    wave: int | None  # None: the preview of an unpin
    plan_id: int  # the current plan compared against
    moved: list[dict[str, Any]]  # waves.diff rows: vm, from, to, why, pinned
    waves_changed: list[int]  # wave numbers whose membership changes
    cross_wave_before: dict[str, int]  # edges, bytes
    cross_wave_after: dict[str, int]
    violations_before: list[dict[str, Any]]
    violations_after: list[dict[str, Any]]
    cost_before: dict[str, Any]
    cost_after: dict[str, Any]
    unplaced_added: list[str]
    # per changed wave: vms, aws_monthly_usd, replication_hours, cross_wave_bytes (before and after)
    wave_metrics_before: dict[int, dict[str, Any]]
    wave_metrics_after: dict[int, dict[str, Any]]
    document: dict[str, Any] = field(repr=False)  # the re-planned document (plan id None: not stored)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "document"}


def current_parameters(ws: Workspace) -> tuple[dict[str, Any], PlanParameters]:
    """The latest plan and the parameters it was planned with."""
    doc = ws.plans.get(None)
    return doc, plan_parameters(doc)


def preview_pin(ws: Workspace, vm: str, wave: int) -> WhatIf:
    """The plan as it would be with `vm` pinned to `wave`; nothing is stored."""
    snap = ws.store.get(None)
    name = str(ws.store.vm(snap.id or 0, vm)["name"])
    return _preview(ws, name, wave)


def preview_unpin(ws: Workspace, vm: str) -> WhatIf:
    if vm not in ws.plans.pins():
        raise NotFound(f"{vm!r} is not pinned")
    return _preview(ws, vm, None)


def apply_pin(ws: Workspace, vm: str, wave: int, actor: Actor | None = None) -> WavePlanResult:
    """Store the pin and a new plan with the current plan's parameters (as `waves pin` + `waves plan`)."""
    if actor is not None:
        actor.require("pin")  # before the re-plan's work, not after it
    _doc, params = current_parameters(ws)
    pin_vm(ws, vm, wave, actor)
    return plan_waves(ws, params)


def apply_unpin(ws: Workspace, vm: str, actor: Actor | None = None) -> WavePlanResult:
    if actor is not None:
        actor.require("pin")
    _doc, params = current_parameters(ws)
    unpin_vm(ws, vm, actor)
    return plan_waves(ws, params)


def _preview(ws: Workspace, vm: str, wave: int | None) -> WhatIf:
    current, params = current_parameters(ws)
    inputs = load_inputs(ws, None)
    pins = {k: v for k, v in inputs.pins.items() if k != vm}
    if wave is not None:
        pins[vm] = wave
    after = run_planner(inputs.vms, inputs.clusters, inputs.flows, params, pins).document
    diff = diff_plans(current, after)
    changed = _waves_changed(current, after)
    return WhatIf(
        vm=vm,
        wave=wave,
        plan_id=int(current["plan"]["id"]),
        moved=diff["moved"],
        waves_changed=changed,
        cross_wave_before=_cross(current),
        cross_wave_after=_cross(after),
        violations_before=list(current["violations"]),
        violations_after=list(after["violations"]),
        cost_before=_cost(current),
        cost_after=_cost(after),
        unplaced_added=diff["newly_unplaced"],
        wave_metrics_before=_wave_metrics(current, changed),
        wave_metrics_after=_wave_metrics(after, changed),
        document=after,
    )


def _waves_changed(before: dict[str, Any], after: dict[str, Any]) -> list[int]:
    def members(doc: dict[str, Any]) -> dict[int, set[str]]:
        return {w["number"]: set(w["vms"]) for w in doc["waves"]}

    a, b = members(before), members(after)
    return sorted(n for n in set(a) | set(b) if a.get(n, set()) != b.get(n, set()))


def _cross(doc: dict[str, Any]) -> dict[str, int]:
    return {"edges": int(doc["cross_wave"]["edges"]), "bytes": int(doc["cross_wave"]["bytes"])}


def _cost(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc["cost"].items() if k != "prices"}


_WAVE_KEYS = ("vms", "aws_monthly_usd", "replication_hours", "cross_wave_bytes")


def _wave_metrics(doc: dict[str, Any], numbers: list[int]) -> dict[int, dict[str, Any]]:
    return {
        w["number"]: {k: w["metrics"].get(k) for k in _WAVE_KEYS}
        for w in doc["waves"]
        if w["number"] in numbers
    }
