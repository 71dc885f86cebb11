"""One call from inventory and flows to the plan document."""

from __future__ import annotations

import gc
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from migrator.flows.records import Flow
from waves.document import build_document
from waves.facts import ReferenceInterpreter
from waves.graph import DependencyGraph, build_graph
from waves.parameters import PlanParameters
from waves.planner import Placement, place


@dataclass
class PlanResult:
    document: dict[str, Any]
    placement: Placement
    graph: DependencyGraph


def plan_waves(
    vms: list[dict[str, Any]],
    clusters: list[dict[str, Any]],
    flows: Iterable[Flow],
    params: PlanParameters,
    pins: Mapping[str, int] | None = None,
    interpreter: ReferenceInterpreter | None = None,
) -> PlanResult:
    # Planning allocates millions of small dicts and lists that all stay alive; the cyclic
    # collector's full passes over them took half the time at 10,000 VMs and more beyond.
    # Nothing here relies on it: it runs again afterwards.
    enabled = gc.isenabled()
    gc.disable()
    try:
        graph = build_graph(vms, clusters, flows, params, interpreter)
        placement = place(graph, params, pins)
        document = build_document(placement, graph, params, vms, graph.anti_affinity)
    finally:
        if enabled:
            gc.enable()
    return PlanResult(document, placement, graph)
