"""One call from inventory and flows to the plan document.

Planning is two steps: `prepare` (the dependency graph and each VM's sizing: what the inputs
alone decide) and `plan_prepared` (placement under the pins, then the document). A what-if
preview changes only the pins, so it runs the second step on a `Prepared` it keeps: the result
is the same as `plan_waves` on the same inputs, as placement reads the graph without changing it
(tests/test_whatif.py checks both, twice in a row on one `Prepared`).
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import networkx as nx

from migrator.flows.records import Flow
from waves.document import Views, build_document, dependency_views
from waves.facts import ReferenceInterpreter
from waves.graph import DependencyGraph, build_graph
from waves.parameters import PlanParameters
from waves.planner import Placement, place
from waves.sizing import SizingParameters, size_vm

T = TypeVar("T")


@dataclass
class PlanResult:
    document: dict[str, Any]
    placement: Placement
    graph: DependencyGraph


@dataclass(frozen=True)
class Prepared:
    """What the inputs decide before any pin: shared by every what-if of one plan; read only."""

    vms: list[dict[str, Any]]
    graph: DependencyGraph
    sizes: dict[str, dict[str, Any]]  # VM name -> size_vm (the last VM of a name, as the document)
    views: Views  # VM name -> its dependencies as the document shows them, but for their waves


def _without_gc(work: Callable[[], T]) -> T:
    # Planning allocates millions of small dicts and lists that all stay alive; the cyclic
    # collector's full passes over them took half the time at 10,000 VMs and more beyond.
    # Nothing here relies on it: it runs again afterwards.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return work()
    finally:
        if enabled:
            gc.enable()


def prepare(
    vms: list[dict[str, Any]],
    clusters: list[dict[str, Any]],
    flows: Iterable[Flow],
    params: PlanParameters,
    interpreter: ReferenceInterpreter | None = None,
) -> Prepared:
    def work() -> Prepared:
        graph = build_graph(vms, clusters, flows, params, interpreter)
        sizing = SizingParameters()
        sizes = {vm["name"]: size_vm(vm, sizing) for vm in vms if vm["name"] in graph.facts}
        nx.freeze(graph.g)  # placement and the document only read it (adding a node or edge raises)
        return Prepared(vms, graph, sizes, dependency_views(graph))

    return _without_gc(work)


def plan_prepared(
    prepared: Prepared, params: PlanParameters, pins: Mapping[str, int] | None = None
) -> PlanResult:
    """Place under `pins` and write the document; `params` must be those `prepared` was made with."""

    def work() -> PlanResult:
        placement = place(prepared.graph, params, pins)
        graph = prepared.graph
        document = build_document(
            placement, graph, params, prepared.sizes, graph.anti_affinity, prepared.views
        )
        return PlanResult(document, placement, graph)

    return _without_gc(work)


def plan_waves(
    vms: list[dict[str, Any]],
    clusters: list[dict[str, Any]],
    flows: Iterable[Flow],
    params: PlanParameters,
    pins: Mapping[str, int] | None = None,
    interpreter: ReferenceInterpreter | None = None,
) -> PlanResult:
    return plan_prepared(prepare(vms, clusters, flows, params, interpreter), params, pins)
