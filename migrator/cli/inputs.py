"""Gathering what planning reads from the store: a snapshot's VMs and clusters, flows, pins."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from migrator.cli.context import AppState
from migrator.flows.records import Flow


@dataclass
class PlanInputs:
    snapshot_id: int
    vms: list[dict[str, Any]]
    clusters: list[dict[str, Any]]
    flows: list[Flow]
    pins: dict[str, int]


def load_inputs(app: AppState, snapshot: int | None) -> PlanInputs:
    snap = app.store.get(snapshot)
    assert snap.id is not None
    return PlanInputs(
        snapshot_id=snap.id,
        vms=list(app.store.records(snap.id, "vms")),
        clusters=list(app.store.records(snap.id, "clusters")),
        flows=list(app.flows.flows()),
        pins=app.plans.pins(),
    )
