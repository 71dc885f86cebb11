"""Source policy findings of a whole synthetic estate (`make bench`): the evaluation the dashboard
and `plan` wait for on a new snapshot.

The estate is waves/synthetic.py's with every source policy's facts planted on a fifth of the
VMs (tests/policy_reference.py `planted`). Times each step of the way from the old evaluation to
the new, each in this process (wall and CPU seconds, the load average beside them):
  reference   the old per-batch path: the old rules (partial sets), 50 VMs a query
  all fields  the whole-estate rules, one query per policy, every VM field in the input
  one process the same with only the fields the pack names (what runs below PARALLEL_FROM VMs)
  workers     the same, cut into parts that this process and one worker process per further core
              evaluate at once (engine.PARTS_PER_PROCESS), cold (the pool's start and the pack's
              compilation included) and warm (the pool kept, as a server keeps it); "CPU here" is
              this process's share, the workers' CPU is counted when the pool is shut down
  next        a real SQLite workspace: the estate's snapshot evaluated (and cached), then the
              next discovery with 1% of the VMs changed, whose evaluation reuses the findings
              of unchanged VMs (migrator/app/findings.py `_known`); its findings are compared
              with a whole evaluation of the changed estate
and checks that every step gives exactly the reference's findings (the reference is skipped
with --no-reference: at 50,000 VMs it takes minutes; the steps are then compared with each
other). The last line is a JSON summary (`BENCH {...}`) that benchmarks/report.py collects.
Usage: python benchmarks/findings.py [--vms 10000] [--no-reference]
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from migrator.app.findings import FindingsQuery, list_findings
from migrator.app.snapshots import store_inventory
from migrator.app.workspace import Workspace
from migrator.store.inventory import Inventory
from policies import engine
from policies.engine import Finding, source_findings
from tests.policy_reference import planted, reference_findings
from waves.synthetic import generate

TARGET = {10_000: 5.0, 50_000: 25.0}  # seconds, issue #24


def timed(label: str, fn: Callable[[], list[Finding]]) -> tuple[list[Finding], dict[str, Any]]:
    load = os.getloadavg()[0]
    cpu, children, wall = time.process_time(), _children_cpu(), time.perf_counter()
    found = fn()
    row = {
        "step": label,
        "wall": time.perf_counter() - wall,
        "cpu": time.process_time() - cpu,
        "workers_cpu": _children_cpu() - children,
        "load": load,
    }
    print(
        f"{label:34s} {row['wall']:7.2f} s wall, {row['cpu']:6.2f} s CPU here"
        + (f" + {row['workers_cpu']:.2f} s in workers" if row["workers_cpu"] else "")
        + f" (load {load:.1f}); {len(found)} findings",
        flush=True,
    )
    return found, row


def _children_cpu() -> float:
    """CPU seconds of this process's ended children (the worker pool is shut down to count it)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _in_one_process(
    vms: list[dict[str, Any]], clusters: list[dict[str, Any]], all_fields: bool
) -> list[Finding]:
    saved = engine.PARALLEL_FROM, engine._named_fields
    engine.PARALLEL_FROM = len(vms) + 1
    if all_fields:
        engine._named_fields = lambda vm, named: vm  # type: ignore[assignment]
    try:
        return source_findings(vms, clusters, "kubevirt")
    finally:
        engine.PARALLEL_FROM, engine._named_fields = saved


def _workers(
    vms: list[dict[str, Any]], clusters: list[dict[str, Any]]
) -> tuple[list[list[Finding]], list[dict[str, Any]]]:
    """Cold then warm through the worker pool; the pool is shut down after, so that its CPU
    seconds are counted (they are reported with the warm run: both runs' workers)."""
    cold, cold_row = timed(
        "workers, cold (start + compile)", lambda: source_findings(vms, clusters, "kubevirt")
    )
    warm, warm_row = timed(
        "workers, warm (a server's pool)", lambda: source_findings(vms, clusters, "kubevirt")
    )
    children = _children_cpu()
    for pool in _pools():
        pool.shutdown()
    engine._new_pool.cache_clear()
    warm_row["workers_cpu"] = _children_cpu() - children
    print(f"{'':34s} workers of both runs: {warm_row['workers_cpu']:.2f} s CPU")
    return [cold, warm], [cold_row, warm_row]


def _pools() -> list[Any]:
    processes = min(engine.MAX_WORKERS, os.cpu_count() or 1)  # this one and its workers
    return [engine._pool(processes - 1)] if processes > 1 else []


def _next_snapshot(vms: list[dict[str, Any]], clusters: list[dict[str, Any]]) -> tuple[bool, dict[str, Any]]:
    """The estate stored and evaluated in a workspace, then its next discovery with every
    hundredth VM changed: that evaluation is timed (store reads included) and checked."""
    after = copy.deepcopy(vms)
    for vm in after[::100]:
        vm["snapshot_count"] = int(vm.get("snapshot_count") or 0) + 1
    with tempfile.TemporaryDirectory(prefix="migrator-bench-") as folder:
        ws = Workspace.open(Path(folder))
        store_inventory(ws, "import", "first", Inventory(vms=vms, clusters=clusters))
        list_findings(ws, FindingsQuery(target="kubevirt"))
        store_inventory(ws, "import", "next", Inventory(vms=after, clusters=clusters))
        found, row = timed(
            "next snapshot, 1% changed (workspace)",
            lambda: list_findings(ws, FindingsQuery(target="kubevirt")).findings,
        )
        ws.close()
    whole = source_findings(after, clusters, "kubevirt")
    same = found == whole
    print(f"{'':34s} identical to a whole evaluation of the changed estate: {'yes' if same else 'NO'}")
    return same, row


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--vms", type=int, default=10_000)
    parser.add_argument("--no-reference", action="store_true", help="skip the old per-batch path")
    args = parser.parse_args()
    t0 = time.perf_counter()
    estate = generate(args.vms)
    planted(estate.vms, estate.clusters)
    vms, clusters = estate.vms, estate.clusters
    print(f"estate: {len(vms)} VMs, {len(clusters)} clusters, built in {time.perf_counter() - t0:.1f} s")
    (cold, warm), rows = _workers(vms, clusters)
    one, row = timed("one process", lambda: _in_one_process(vms, clusters, all_fields=False))
    rows.append(row)
    results = [cold, warm, one]
    if args.vms <= 10_000:
        every, row = timed(
            "one process, every field", lambda: _in_one_process(vms, clusters, all_fields=True)
        )
        rows.append(row)
        results.append(every)
    reference = None
    if not args.no_reference:
        reference, row = timed(
            "reference (old rules, 50 VMs a query)", lambda: reference_findings(vms, clusters, "kubevirt")
        )
        rows.append(row)
    expected = reference if reference is not None else one
    next_same, row = _next_snapshot(vms, clusters)
    rows.append(row)
    identical = all(r == expected for r in results) and next_same
    print(
        f"identical findings: {'yes' if identical else 'NO'} ({len(expected)} findings, against "
        f"{'the reference' if reference is not None else 'the one-process run'})"
    )
    summarise(args.vms, rows, identical, len(expected))


def summarise(n_vms: int, rows: list[dict[str, Any]], identical: bool, count: int) -> None:
    target = TARGET.get(n_vms)
    by_step = {r["step"]: r for r in rows}
    cold = by_step["workers, cold (start + compile)"]["wall"]
    figures = [
        [
            f"{n_vms} VMs, first evaluation (cold workers): wall s",
            f"{cold:.2f}",
            f"< {target:g}" if target else "",
        ]
    ]
    figures += [[f"{n_vms} VMs, {r['step']}: wall s", f"{r['wall']:.2f}", ""] for r in rows[1:]]
    figures.append([f"{n_vms} VMs, findings identical to the reference", "yes" if identical else "NO", "yes"])
    summary = {"bench": "findings", "vms": n_vms, "findings": count, "identical": identical, "steps": rows}
    summary["figures"] = figures
    summary["load"] = round(os.getloadavg()[0], 1)
    print("BENCH " + json.dumps(summary))


if __name__ == "__main__":
    main()
