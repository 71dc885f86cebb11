"""Wave planning: gather a snapshot's inventory, flows and pins; plan, store and compare the plan."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from migrator.app.workspace import Workspace
from migrator.errors import Incomplete
from migrator.flows.records import Flow
from waves.diff import diff_plans
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
    snap = ws.store.get(snapshot)
    assert snap.id is not None
    return PlanInputs(
        snapshot_id=snap.id,
        vms=list(ws.store.records(snap.id, "vms")),
        clusters=list(ws.store.records(snap.id, "clusters")),
        flows=list(ws.flows.flows()),
        pins=ws.plans.pins(),
    )


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


def plan_waves(ws: Workspace, params: PlanParameters, snapshot: int | None = None) -> WavePlanResult:
    """Plan waves from a snapshot (None: the latest), all flow evidence and the pins; store the plan."""
    inputs = load_inputs(ws, snapshot)
    result = run_planner(inputs.vms, inputs.clusters, inputs.flows, params, inputs.pins)
    earlier = ws.plans.ids()
    doc = ws.plans.save(inputs.snapshot_id, params.as_dict(), result.document)
    change = None
    if earlier:  # re-planning: say what changed, so nobody compares spreadsheets by hand
        diff = diff_plans(ws.plans.get(earlier[-1]), doc)
        change = PlanChange(earlier[-1], len(diff["moved"]), len(diff["added"]), len(diff["removed"]))
    return WavePlanResult(doc, change)
