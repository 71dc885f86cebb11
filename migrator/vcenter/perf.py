"""Utilisation from PerformanceManager, rolled up per VM to p50/p95/max with coverage.

QueryPerf is batched (many VMs per call) and asks for CSV series, which real vCenters
return as one string per series instead of one XML element per sample; simulators that
answer in the normal format are handled too. Responses are not deserialised by pyvmomi: a
week of samples is millions of elements. A per-sample answer in vSphere's canonical shape is
read by byte scans (migrator.vcenter.perfscan); anything else is parsed as a tree with lxml
(migrator.vcenter.rawsoap).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from xml.etree import ElementTree

from pyVmomi import vim

from migrator.vcenter.perfscan import scan_samples
from migrator.vcenter.rawsoap import RETURNVAL_DEPTH, VIM, Answer, answer_elements, fetch, series_values
from migrator.vcenter.retrieval import retrieve_objects

BATCH = 100
COUNTERS = {"cpu": "cpu.usage.average", "mem": "mem.usage.average"}  # both in 1/100 percent

# vCenter's default historical intervals: (sampling period s, retention s).
DEFAULT_INTERVALS = [(300, 86400), (1800, 7 * 86400), (7200, 30 * 86400), (86400, 365 * 86400)]


@dataclass(frozen=True)
class PerfPlan:
    counter_ids: dict[str, int]  # "cpu" | "mem" -> counter id
    interval_s: int
    window_days: float
    start: datetime
    end: datetime
    keep_samples: bool = False  # periodic discovery: each sample with its time, for the history

    @property
    def expected_samples(self) -> int:
        return max(1, int(self.window_days * 86400 // self.interval_s))


def plan_perf(content: Any, days: float) -> PerfPlan | None:
    """Choose counters and the finest historical interval that still covers `days`."""
    if days <= 0:
        return None
    manager = content.perfManager
    props: dict[str, Any] = {}
    for _ref, _obj, found in retrieve_objects(
        content,
        vim.PerformanceManager,
        [manager._moId],
        ["perfCounter", "historicalInterval"],
    ):
        props = found
    by_name = {
        f"{c.groupInfo.key}.{c.nameInfo.key}.{c.rollupType}": c.key for c in props.get("perfCounter") or []
    }
    ids = {short: by_name[full] for short, full in COUNTERS.items() if full in by_name}
    if not ids:
        return None
    intervals = (
        sorted(
            (int(i.samplingPeriod), int(i.length)) for i in props.get("historicalInterval") or [] if i.enabled
        )
        or DEFAULT_INTERVALS
    )
    window = days * 86400
    period = next((p for p, length in intervals if length >= window), intervals[-1][0])
    end = datetime.now(UTC)
    return PerfPlan(ids, period, days, end - timedelta(days=days), end)


def percentile(sorted_values: Sequence[float], pct: float, scale: float = 1.0) -> float:
    """Linear interpolation between closest ranks (the usual 'p95') of the values divided by
    `scale`: dividing the two ranks used gives the same result as dividing every value first."""
    if not sorted_values:
        return math.nan
    k = (len(sorted_values) - 1) * pct / 100
    lo, hi = math.floor(k), math.ceil(k)
    low, high = sorted_values[lo] / scale, sorted_values[hi] / scale
    return low + (high - low) * (k - lo)


def _series(metric: ElementTree.Element) -> dict[int, list[float]]:
    """counter id -> samples, from one <returnval> (PerfEntityMetric or PerfEntityMetricCSV)."""
    out: dict[int, list[float]] = {}
    for series in metric.findall(VIM + "value"):
        counter = int(series.findtext(f"{VIM}id/{VIM}counterId") or -1)
        out.setdefault(counter, []).extend(series_values(series))
    return out


def rollup(values_by_counter: Mapping[int, Sequence[float]], plan: PerfPlan) -> dict[str, Any] | None:
    result: dict[str, Any] = {}
    samples = 0
    for short, counter in plan.counter_ids.items():
        # Samples are in 1/100 %. Dividing is monotonic, so sorting first and dividing only the
        # ranks used gives the same figures as dividing every sample.
        values = sorted(values_by_counter.get(counter, ()))
        samples = max(samples, len(values))
        if values:
            result[f"{short}_p50_pct"] = round(percentile(values, 50, scale=100), 2)
            result[f"{short}_p95_pct"] = round(percentile(values, 95, scale=100), 2)
            result[f"{short}_max_pct"] = round(values[-1] / 100, 2)
        else:
            result[f"{short}_p50_pct"] = result[f"{short}_p95_pct"] = result[f"{short}_max_pct"] = None
    if samples == 0:
        return None
    result.update(
        samples=samples,
        expected_samples=plan.expected_samples,
        coverage=round(min(1.0, samples / plan.expected_samples), 3),
        interval_s=plan.interval_s,
        window_days=plan.window_days,
        window_start=plan.start.isoformat(timespec="seconds"),
        window_end=plan.end.isoformat(timespec="seconds"),
    )
    return result


def query_perf(content: Any, morefs: Iterable[str], plan: PerfPlan) -> dict[str, dict[str, Any] | None]:
    """moref -> rolled-up utilisation (None where vCenter has no samples)."""
    manager = content.perfManager
    refs = list(morefs)
    out: dict[str, dict[str, Any] | None] = {ref: None for ref in refs}
    batches = [refs[start : start + BATCH] for start in range(0, len(refs), BATCH)]
    if not batches:
        return out
    # One batch ahead: vCenter prepares the next answer while this one is parsed.
    with ThreadPoolExecutor(1, thread_name_prefix="queryperf") as ahead:
        pending = ahead.submit(ask, manager, batches[0], plan)
        for following in [*batches[1:], None]:
            answer = pending.result()
            if following is not None:
                pending = ahead.submit(ask, manager, following, plan)
            out.update(rollups(answer, plan))
    return out


def ask(manager: Any, batch: list[str], plan: PerfPlan) -> Answer:
    """One QueryPerf call for a batch of VMs, read but not parsed."""
    metric_ids = [
        vim.PerformanceManager.MetricId(counterId=c, instance="") for c in plan.counter_ids.values()
    ]
    specs = [
        vim.PerformanceManager.QuerySpec(
            entity=vim.VirtualMachine(ref, manager._stub),
            metricId=metric_ids,
            intervalId=plan.interval_s,
            startTime=plan.start,
            endTime=plan.end,
            maxSample=plan.expected_samples,
            format="csv",
        )
        for ref in batch
    ]
    return fetch(manager, "QueryStats", [specs])  # pyvmomi's name for QueryPerf


def rollups(answer: Answer, plan: PerfPlan) -> dict[str, dict[str, Any] | None]:
    """moref -> rolled-up utilisation, for every entity of one QueryPerf answer."""
    body = b"".join(answer.chunks)
    scanned = scan_samples(body)
    if scanned is None:
        result = tree_rollups(Answer(answer.method, [body]), plan)
    else:
        result = {ref: rollup(series, plan) for ref, series in scanned.items()}
    if plan.keep_samples:
        # Carried in the rollup to the parent process; discovery moves it to Inventory.history.
        from migrator.vcenter.perfhistory import timed_samples

        for ref, rows in timed_samples(body, answer.method, plan.counter_ids).items():
            found = result.get(ref)
            if found is not None and rows:
                found["history"] = rows
    return result


def tree_rollups(answer: Answer, plan: PerfPlan) -> dict[str, dict[str, Any] | None]:
    """The same from a parsed tree: CSV answers and anything the scan does not take."""
    return {
        metric.findtext(VIM + "entity") or "": rollup(_series(metric), plan)
        for metric in answer_elements(answer, RETURNVAL_DEPTH)
    }
