"""Wave planning: gather a snapshot's inventory, flows and pins; plan, store and compare the plan."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from migrator.app.audit import record as audit
from migrator.app.cmdb import with_cmdb
from migrator.app.identities import Actor
from migrator.app.workspace import Workspace
from migrator.errors import Incomplete, NotFound
from migrator.flows.records import Flow
from transpilers.registry import TRANSPILERS
from waves.diff import diff_plans
from waves.facts import ReferenceInterpreter
from waves.parameters import PlanParameters
from waves.plan import plan_waves as run_planner


@dataclass
class PlanInputs:
    """What planning reads from the store: a snapshot's VMs and clusters, all flows, the pins."""

    snapshot_id: int
    vms: list[dict[str, Any]]
    clusters: list[dict[str, Any]]
    flows: list[Flow]
    pins: dict[str, int]


def load_inputs(ws: Workspace, snapshot: int | None) -> PlanInputs:
    """The inputs of a plan from one snapshot (None: the latest complete one)."""
    from migrator.app.history import with_history

    snap = ws.store.get(snapshot)
    assert snap.id is not None
    vms, _used = with_history(ws, snap.id, list(ws.store.records(snap.id, "vms")))  # sizing's percentiles
    return PlanInputs(
        snapshot_id=snap.id,
        vms=with_cmdb(vms, ws.cmdb.latest()),
        clusters=list(ws.store.records(snap.id, "clusters")),
        flows=list(ws.flows.flows()),
        pins=ws.plans.pins(),
    )


def plan_parameters(document: dict[str, Any]) -> PlanParameters:
    """The parameters a stored plan was planned with (lists back to tuples; unknown keys dropped)."""
    known = set(PlanParameters.__dataclass_fields__)
    values: dict[str, Any] = {
        k: tuple(v) if isinstance(v, list) else v
        for k, v in document["plan"]["parameters"].items()
        if k in known
    }
    return PlanParameters(**values)


def sizing_target(name: str) -> str:
    """The planner sizes for "aws" or "kubevirt"; a code target's name (terraform-aws) means its sizing."""
    transpiler = TRANSPILERS.get(name)
    return transpiler.meta.sizing if transpiler is not None else name


@dataclass(frozen=True)
class PlanChange:
    """What moved since the previous plan (the full diff: `compare_plans`)."""

    previous_plan_id: int
    moved: int
    added: int
    removed: int


@dataclass(frozen=True)
class WavePlanResult:
    """A stored plan. `document` is the waves-json contract (docs/waves-json.md)."""

    document: dict[str, Any]
    change: PlanChange | None  # None for the first plan of the workspace

    @property
    def plan_id(self) -> int:
        return int(self.document["plan"]["id"])

    @property
    def notes(self) -> list[str]:
        return list(self.document["notes"])

    def incomplete(self) -> Incomplete | None:
        """The error to end with when the plan was stored but needs a human, else None."""
        doc = self.document
        if doc["unplaced"]:
            unplaced = len(doc["unplaced"])
            return Incomplete(
                f"plan {self.plan_id} stored with {unplaced} unplaced VM(s); see the reasons above"
            )
        if doc["violations"]:
            return Incomplete(
                f"plan {self.plan_id} breaks {len(doc['violations'])} rule(s); please report this"
            )
        return None

    def unplaced_reasons(self) -> list[str]:
        return list(dict.fromkeys(item["reason"] for item in self.document["unplaced"]))


def plan_waves(
    ws: Workspace,
    params: PlanParameters,
    snapshot: int | None = None,
    interpreter: ReferenceInterpreter | None = None,
) -> WavePlanResult:
    """Plan waves from a snapshot (None: the latest), all flow evidence and the pins; store the plan.
    `interpreter`: free-text references (default: waves' PatternInterpreter); pass
    `migrator.app.interpret.interpret(ws).interpreter()` to plan with interpreted (model) facts."""
    inputs = load_inputs(ws, snapshot)
    result = run_planner(inputs.vms, inputs.clusters, inputs.flows, params, inputs.pins, interpreter)
    earlier = ws.plans.ids()
    doc = ws.plans.save(inputs.snapshot_id, params.as_dict(), result.document)
    change = None
    if earlier:  # re-planning: say what changed, so nobody compares spreadsheets by hand
        diff = diff_plans(ws.plans.get(earlier[-1]), doc)
        change = PlanChange(earlier[-1], len(diff["moved"]), len(diff["added"]), len(diff["removed"]))
    return WavePlanResult(doc, change)


@dataclass(frozen=True)
class PlanComparison:
    plan_a: int
    plan_b: int
    diff: dict[str, Any]  # waves.diff.diff_plans: moved (with why), added, removed, parameters, pins


def compare_plans(ws: Workspace, plan_a: int | None = None, plan_b: int | None = None) -> PlanComparison:
    """What moved between two plans. One id: that plan against the one before it; none: the latest two."""
    plans = ws.plans
    ids = plans.ids()
    if plan_b is None:
        if plan_a is not None:
            plan_a, plan_b = None, plan_a
        else:
            plan_b = ids[-1] if ids else None
    if plan_b is None:
        raise NotFound("no wave plan yet: run `migrator waves plan`")
    if plan_a is None:
        earlier = [i for i in ids if i < plan_b]
        if not earlier:
            raise NotFound(f"no plan before plan {plan_b} to compare with")
        plan_a = earlier[-1]
    return PlanComparison(plan_a, plan_b, diff_plans(plans.get(plan_a), plans.get(plan_b)))


def pin_vm(ws: Workspace, vm: str, wave: int, actor: Actor | None = None) -> str:
    """Record that this VM (and its move group) moves in `wave` in every re-plan; returns its exact name.
    `actor`: who pins (None: the CLI's user)."""
    if actor is not None:
        actor.require("pin")
    snap = ws.store.get(None)
    assert snap.id is not None
    name = str(ws.store.vm(snap.id, vm)["name"])  # a typo is an error, not a silent pin
    ws.plans.pin(name, wave)
    audit(ws, actor, "pin.set", f"vm:{name}", {"wave": wave})
    return name


def unpin_vm(ws: Workspace, vm: str, actor: Actor | None = None) -> None:
    if actor is not None:
        actor.require("pin")
    if not ws.plans.unpin(vm):
        raise NotFound(f"{vm!r} is not pinned")
    audit(ws, actor, "pin.remove", f"vm:{vm}", {})
