"""Reading a snapshot's inventory: its VMs, one VM, the export document, sizing and the graph."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from migrator.app.planning import load_inputs
from migrator.app.workspace import Workspace
from migrator.export import build_export
from migrator.store.models import Snapshot
from waves.graph import DependencyGraph, build_graph
from waves.parameters import PlanParameters
from waves.sizing import SizingParameters, price_source, size_vm, totals


@dataclass(frozen=True)
class SnapshotVMs:
    snapshot: Snapshot
    vms: list[dict[str, Any]]  # export-contract records (docs/inventory-export.md)

    @property
    def snapshot_id(self) -> int:
        assert self.snapshot.id is not None
        return self.snapshot.id


def snapshot_vms(ws: Workspace, snapshot: int | None = None) -> SnapshotVMs:
    """Every VM of a snapshot (None: the latest complete one)."""
    snap = ws.store.get(snapshot)
    assert snap.id is not None
    return SnapshotVMs(snap, list(ws.store.records(snap.id, "vms")))


def find_vm(ws: Workspace, name: str, snapshot: int | None = None) -> dict[str, Any]:
    """One VM by name (exact; case-insensitive if unique); NotFound otherwise."""
    snap = ws.store.get(snapshot)
    assert snap.id is not None
    return ws.store.vm(snap.id, name)


def export_inventory(ws: Workspace, snapshot: int | None = None) -> dict[str, Any]:
    """The inventory export document of a snapshot (docs/inventory-export.md)."""
    return build_export(ws.store, snapshot)


@dataclass(frozen=True)
class SizingResult:
    snapshot_id: int
    parameters: SizingParameters
    vms: list[dict[str, Any]]  # one sizing per VM (templates left out)
    totals: dict[str, Any]
    prices: dict[str, Any]  # the price catalog's provenance

    def as_dict(self) -> dict[str, Any]:
        """`size --format json` (docs/size.md)."""
        params = {"percentile": self.parameters.percentile, "comfort": self.parameters.comfort}
        return {"parameters": params, "prices": self.prices, "totals": self.totals, "vms": self.vms}


def size_snapshot(ws: Workspace, params: SizingParameters, snapshot: int | None = None) -> SizingResult:
    """Right-size every VM of a snapshot and price it on AWS."""
    selected = snapshot_vms(ws, snapshot)
    sizes = [size_vm(vm, params) for vm in selected.vms if not vm.get("template")]
    return SizingResult(selected.snapshot_id, params, sizes, totals(sizes), price_source())


def dependency_graph(ws: Workspace, snapshot: int | None = None) -> DependencyGraph:
    """The dependency graph of a snapshot with all flow evidence, under the default parameters."""
    inputs = load_inputs(ws, snapshot)
    return build_graph(inputs.vms, inputs.clusters, inputs.flows, PlanParameters())
