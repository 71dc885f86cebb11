"""One call from inventory and flows to the plan document."""

from __future__ import annotations

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
    graph = build_graph(vms, clusters, flows, params, interpreter)
    placement = place(graph, params, pins)
    document = build_document(placement, graph, params, vms, graph.anti_affinity)
    return PlanResult(document, placement, graph)
