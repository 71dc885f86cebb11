"""Small inventories and flows for planner unit tests: every VM gets one IP, named after it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from migrator.flows.records import Flow
from waves.graph import DependencyGraph, build_graph
from waves.parameters import PlanParameters
from waves.plan import PlanResult, plan_waves
from waves.rules import PlanContext, Rule, SharedServices

GB = 10**9
START = datetime(2026, 11, 1, tzinfo=UTC)
_IPS: dict[str, str] = {}


def ip(name: str) -> str:
    if name not in _IPS:
        n = len(_IPS) + 10
        _IPS[name] = f"10.9.{n // 250}.{n % 250 + 1}"
    return _IPS[name]


def vm(
    name: str,
    app: str | None = None,
    env: str | None = "prod",
    host: str = "esx-01",
    disks: int = 1,
    gb: float = 50,
    **extra: Any,
) -> dict[str, Any]:
    custom = {k: v for k, v in (("app", app), ("env", env)) if v}
    custom.update(extra.pop("custom", {}))
    return {
        "name": name,
        "moref": f"vm-{name}",
        "template": False,
        "power_state": "poweredOn",
        "num_cpu": 2,
        "memory_mb": 4096,
        "guest_id": "rhel8_64Guest",
        "host": host,
        "cluster": "C1",
        "custom_fields": custom,
        "tags": [],
        "disks": [{"label": f"Hard disk {i + 1}", "capacity_gb": gb / disks} for i in range(disks)],
        "nics": [],
        "ip_addresses": [ip(name)],
        "annotation": "",
        **extra,
    }


def flow(src: str, dst: str, port: int = 443, gb_per_day: float = 0.01, days: int = 1) -> Flow:
    total = int(gb_per_day * GB * days)
    return Flow(
        ip(src) if "." not in src else src,
        ip(dst) if "." not in dst else dst,
        port,
        "tcp",
        total,
        total // 1000,
        10,
        START,
        START + timedelta(days=days),
    )


def cluster(*rules: dict[str, Any]) -> dict[str, Any]:
    return {"name": "C1", "moref": "domain-c1", "drs_rules": list(rules)}


def graph(
    vms: list[dict[str, Any]],
    flows: Iterable[Flow] = (),
    clusters: Iterable[dict[str, Any]] = (),
    **params: Any,
) -> tuple[DependencyGraph, PlanContext]:
    p = PlanParameters(**params)
    g = build_graph(vms, list(clusters), list(flows), p)
    ctx = PlanContext(g, p)
    ctx.shared = SharedServices().classify(ctx)
    return g, ctx


def plan(
    vms: list[dict[str, Any]],
    flows: Iterable[Flow] = (),
    clusters: Iterable[dict[str, Any]] = (),
    pins: dict[str, int] | None = None,
    **params: Any,
) -> PlanResult:
    return plan_waves(vms, list(clusters), list(flows), PlanParameters(**params), pins or {})


def waves_of(result: PlanResult) -> dict[int, list[str]]:
    return {w["number"]: w["vms"] for w in result.document["waves"]}


def pairs(rule: Rule, ctx: PlanContext) -> set[tuple[str, str]]:
    return {(link.a, link.b) for link in rule.links(ctx)}  # type: ignore[attr-defined]
