"""Sizing from the utilisation history (docs/scale.md#utilisation-history).

A VM whose vCenter's periodic discovery kept samples is sized from all of them, not only from
the window its snapshot read: its `perf` is recomputed over the history (the same p50/p95/max
fields, `window_days` the span the samples cover, `source: history`), so sizing and PLAN.md
say over how many days the percentile is. Without history nothing changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from migrator.app.workspace import Workspace


@dataclass(frozen=True)
class HistoryUse:
    """What sizing took from the history: how many VMs, over how many days at most, from how many runs."""

    vms: int
    days: float
    runs: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": "history" if self.vms else "snapshot",
            "vms": self.vms,
            "days": self.days,
            "runs": self.runs,
        }


def history_perf(samples: list[tuple[Any, ...]]) -> dict[str, Any] | None:
    """A VM's perf record over its kept samples [(at, interval s, cpu %, mem %)] in time order."""
    if not samples:
        return None
    from migrator.vcenter.perf import percentile  # here: pyVmomi loads only where history is kept

    result: dict[str, Any] = {}
    for short, column in (("cpu", 2), ("mem", 3)):
        values = sorted(float(s[column]) for s in samples if s[column] is not None)
        if values:
            result[f"{short}_p50_pct"] = round(percentile(values, 50), 2)
            result[f"{short}_p95_pct"] = round(percentile(values, 95), 2)
            result[f"{short}_max_pct"] = round(values[-1], 2)
        else:
            result[f"{short}_p50_pct"] = result[f"{short}_p95_pct"] = result[f"{short}_max_pct"] = None
    first, last = samples[0], samples[-1]
    span = (last[0] - first[0]).total_seconds() + last[1]  # the last sample covers its interval
    covered = sum(s[1] for s in samples)  # each sample stands for its interval
    result.update(
        source="history",
        samples=len(samples),
        expected_samples=len(samples),
        coverage=round(min(1.0, covered / span), 3),
        interval_s=min(s[1] for s in samples),
        window_days=round(span / 86400, 2),
        window_start=first[0].isoformat(timespec="seconds"),
        window_end=last[0].isoformat(timespec="seconds"),
    )
    return result


def with_history(
    ws: Workspace, snapshot_id: int, vms: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], HistoryUse]:
    """The snapshot's VM records, each with its perf over the history where some is kept. A VM's
    vCenter is its `vcenter_uuid` (an estate snapshot) or the snapshot's own discovery's."""
    default = ws.history.source(snapshot_id)

    def source(vm: dict[str, Any]) -> str | None:
        return vm.get("vcenter_uuid") or default

    uuids = {uuid for uuid in map(source, vms) if uuid}
    if not uuids:
        return vms, HistoryUse(0, 0.0, 0)
    kept = ws.history.samples(uuids)
    out, used, days = [], 0, 0.0
    for vm in vms:
        perf = history_perf(kept.get((source(vm) or "", vm["moref"]), []))
        if perf is not None and not vm.get("template"):
            vm = {**vm, "perf": perf}
            used += 1
            days = max(days, perf["window_days"])
        out.append(vm)
    return out, HistoryUse(used, days, ws.history.runs(uuids) if used else 0)
