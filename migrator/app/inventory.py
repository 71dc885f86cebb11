"""Reading a snapshot's inventory: its VMs, one VM, the export document, sizing and the graph."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from migrator.app.history import HistoryUse, with_history
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
    history: HistoryUse | None = None  # what came from the utilisation history (None: none kept)

    def as_dict(self) -> dict[str, Any]:
        """`size --format json` (docs/size.md); `utilisation` only when history was used."""
        params = {"percentile": self.parameters.percentile, "comfort": self.parameters.comfort}
        doc = {"parameters": params, "prices": self.prices, "totals": self.totals, "vms": self.vms}
        if self.history is not None:
            doc["utilisation"] = self.history.as_dict()
        return doc


def size_snapshot(ws: Workspace, params: SizingParameters, snapshot: int | None = None) -> SizingResult:
    """Right-size every VM of a snapshot and price it on AWS."""
    selected = snapshot_vms(ws, snapshot)
    vms, used = with_history(ws, selected.snapshot_id, selected.vms)
    sizes = [size_vm(vm, params) for vm in vms if not vm.get("template")]
    history = used if used.vms else None
    return SizingResult(selected.snapshot_id, params, sizes, totals(sizes), price_source(), history)


def dependency_graph(ws: Workspace, snapshot: int | None = None) -> DependencyGraph:
    """The dependency graph of a snapshot with all flow evidence, under the default parameters."""
    inputs = load_inputs(ws, snapshot)
    return build_graph(inputs.vms, inputs.clusters, inputs.flows, PlanParameters())
