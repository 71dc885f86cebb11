"""What-if pinning for the dashboard: re-plan with a pin without storing anything, or store it.

A preview plans the latest snapshot with the current plan's parameters and the stored pins plus
(or minus) one, and compares the result with the current plan. Applying does exactly what
`waves pin` + `waves plan` do, through the same functions.

Previews are made while the architect waits (issue 24: under 1 s at 10,000 VMs), so what a pin
cannot change is kept per process in a `_Basis`: the current plan's document (parsed once), and
the prepared planning inputs (waves.plan.prepare: the dependency graph and every VM's sizing).
A preview then only places and writes the document (waves.plan.plan_prepared), which gives the
same plan as planning from scratch. The basis is keyed by everything the graph is built from:
the database, the plan (id and time: its parameters), the snapshot, the flow sets and the CMDB
import; a new one of any of them makes a new basis. The pins are read for every preview.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from threading import Lock
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
from waves.plan import Prepared, plan_prepared, prepare


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


@dataclass(frozen=True)
class _Basis:
    """What every preview of one plan on one set of inputs shares; never changed once made."""

    current: dict[str, Any]
    params: PlanParameters
    prepared: Prepared


_KEPT = 2  # bases per process: a 10,000-VM one holds a few hundred MB
_bases: OrderedDict[tuple[Any, ...], _Basis] = OrderedDict()
_lock = Lock()


def _basis_key(ws: Workspace) -> tuple[Any, ...]:
    """Everything a basis is made from, read without reading the documents themselves."""
    plan = ws.plans.stamp(None)
    if plan is None:
        raise NotFound("no wave plan yet: run `migrator waves plan`")
    snap = ws.store.get(None)
    flow_sets = tuple((s.id, s.records) for s in ws.flows.sets())
    return (*ws.cache_key, plan, snap.id, str(snap.started_at), flow_sets, ws.cmdb.latest_id())


def _basis(ws: Workspace) -> _Basis:
    key = _basis_key(ws)
    with _lock:
        if key in _bases:
            _bases.move_to_end(key)
            return _bases[key]
    current, params = current_parameters(ws)
    inputs = load_inputs(ws, None)
    basis = _Basis(current, params, prepare(inputs.vms, inputs.clusters, inputs.flows, params))
    with _lock:
        _bases[key] = basis
        while len(_bases) > _KEPT:
            _bases.popitem(last=False)
    return basis


def _preview(ws: Workspace, vm: str, wave: int | None) -> WhatIf:
    basis = _basis(ws)
    current = basis.current
    pins = {k: v for k, v in ws.plans.pins().items() if k != vm}
    if wave is not None:
        pins[vm] = wave
    after = plan_prepared(basis.prepared, basis.params, pins).document
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
