"""Discovery benchmark: a 10,000-VM vcsim, full discovery through the CLI, and the raw baseline.

Prints VMs/s, wall time and peak RSS (the whole process tree: CLI + workers) of
`migrator discover`, and the time of the naive baseline: ONE pyvmomi RetrievePropertiesEx
stream over a ContainerView with the same VM property set, run in this process against the
same simulator. Targets (issue 14), as ratios of discovery's time to the baseline's in the
same run: inventory only <= 0.5x, with 7 days of utilisation <= 1.0x; peak RSS < 1 GiB.
The strong anchor (issue 24) is the compiled peer, benchmarks/gopeer.py: a govmomi client
reading the same VM property set over a ContainerView into typed mo.VirtualMachine objects,
run twice (before and after the CLI runs; the faster counts) against the same simulator.
Target: inventory-only discovery at most 1.0x of the peer, process wall against process wall
(both start a process, log in and retrieve; discovery also reads tags and infrastructure and
stores the snapshot); the ratio to the peer's retrieval alone is printed beside it.
Every figure is printed with the load average beside it and with CPU seconds (user + sys of the
CLI and its workers; of this process for the baseline; of vcsim separately), which other
processes on the machine disturb far less than wall time. Last, the client CPU to read QueryPerf
answers by byte scan and by lxml tree, on the same answers, scaled to 10,000 VMs, and whether
both give identical rollups. The last line is `BENCH {json}`
(benchmarks/report.py). The CLI runs as installed code does, with bytecode caches allowed.

    python benchmarks/discovery.py [--vms 10000] [--clusters 10] [--perf-days 0 7] [--skip-baseline]
                                   [--skip-peer]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
from gopeer import PeerRun, run_peer  # benchmarks/gopeer.py, beside this script
from pyVim.connect import Disconnect, SmartConnect
from pyVmomi import vim, vmodl

from migrator.simulator.build import SimulatorUnavailable
from migrator.simulator.estate import Estate
from migrator.simulator.launcher import Simulator
from migrator.vcenter.perf import BATCH, PerfPlan, ask, plan_perf, rollups, tree_rollups
from migrator.vcenter.properties import VM_PROPERTIES
from migrator.vcenter.rawsoap import Answer
from migrator.vcenter.retrieval import list_morefs

PC = vmodl.query.PropertyCollector


def tree_rss(proc: psutil.Process) -> int:
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            total += p.memory_info().rss
    return total


@dataclass
class Run:
    wall_s: float
    cpu_s: float  # user + sys of the client side (CLI and workers, or this process)
    sim_cpu_s: float  # user + sys of vcsim during the run
    load: float  # 1-minute load average at the end
    vms: int
    peak_rss: int = 0

    def line(self) -> str:
        return (
            f"{self.vms} VMs in {self.wall_s:.1f} s wall = {self.vms / self.wall_s:.0f} VMs/s; "
            f"CPU {self.cpu_s:.1f} s client, {self.sim_cpu_s:.1f} s vcsim; load average {self.load:.1f}"
        )


def cpu_of(proc: psutil.Process) -> float:
    times = proc.cpu_times()
    return float(times.user + times.system)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_cli_discovery(sim: Simulator, perf_days: float, workspace: Path) -> Run:
    env = dict(os.environ, BENCH_VC_PASSWORD=sim.password, MIGRATOR_WORKSPACE=str(workspace))
    env.pop("MIGRATOR_DB_URL", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # an installed package has its bytecode compiled
    cmd = [
        sys.executable,
        "-m",
        "migrator",
        *sim.discover_args("BENCH_VC_PASSWORD", "--perf-days", str(perf_days)),
    ]
    assert sim.process is not None
    vcsim = psutil.Process(sim.process.pid)
    sim_cpu, cpu = cpu_of(vcsim), children_cpu()
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = 0
    watched = psutil.Process(proc.pid)
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            try:
                peak = max(peak, tree_rss(watched))
            except psutil.Error:
                return
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()  # waits: the CLI's CPU (and its joined workers') is now ours
    elapsed = time.perf_counter() - started
    stop.set()
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"discovery failed ({proc.returncode}): {err.strip()}")
    vms = int(next(line.split("│")[2] for line in out.splitlines() if line.startswith("│ VMs ")))
    return Run(elapsed, children_cpu() - cpu, cpu_of(vcsim) - sim_cpu, os.getloadavg()[0], vms, peak)


@contextlib.contextmanager
def session(sim: Simulator) -> Iterator[Any]:
    """A pyvmomi session on the simulator (the baseline's way in); yields its ServiceContent."""
    host, port = sim.address
    si = SmartConnect(
        host=host,
        port=port,
        user=sim.username,
        pwd=sim.password,
        protocol="http",
        disableSslCertValidation=True,
    )
    try:
        yield si.RetrieveContent()
    finally:
        Disconnect(si)


def run_baseline(sim: Simulator) -> Run:
    with session(sim) as content:
        assert sim.process is not None
        vcsim = psutil.Process(sim.process.pid)
        sim_cpu, cpu = cpu_of(vcsim), time.process_time()
        started = time.perf_counter()
        view = content.viewManager.CreateContainerView(content.rootFolder, [vim.VirtualMachine], True)
        spec = PC.FilterSpec(
            objectSet=[
                PC.ObjectSpec(
                    obj=view,
                    skip=True,
                    selectSet=[
                        PC.TraversalSpec(name="v", path="view", skip=False, type=vim.view.ContainerView)
                    ],
                )
            ],
            propSet=[PC.PropertySpec(type=vim.VirtualMachine, pathSet=sorted(VM_PROPERTIES.values()))],
        )
        result = content.propertyCollector.RetrievePropertiesEx([spec], PC.RetrieveOptions())
        count = len(result.objects)
        while result.token:
            result = content.propertyCollector.ContinueRetrievePropertiesEx(result.token)
            count += len(result.objects)
        elapsed = time.perf_counter() - started
        return Run(elapsed, time.process_time() - cpu, cpu_of(vcsim) - sim_cpu, os.getloadavg()[0], count)


@dataclass
class Peer:
    """The Go peer's best round: its process wall (exec, login, retrieval, decoding, logout)
    and the retrieval alone, as timed inside it."""

    run: Run  # wall_s = the process; cpu_s = the peer's own user + sys (rusage)
    retrieve_s: float
    rounds: list[float]

    def line(self) -> str:
        walls = ", ".join(f"{w:.2f}" for w in self.rounds)
        return f"{self.run.line()}; retrieval + decoding {self.retrieve_s:.2f} s; rounds {walls} s"


def run_go_peer(sim: Simulator) -> tuple[Run, float]:
    """One round of the Go peer; vcsim's CPU from /proc/<pid>/stat (psutil reads it) around it."""
    assert sim.process is not None
    vcsim = psutil.Process(sim.process.pid)
    sim_cpu = cpu_of(vcsim)
    started = time.perf_counter()
    try:
        peer: PeerRun = run_peer(sim, list(VM_PROPERTIES.values()))
    except (RuntimeError, SimulatorUnavailable) as exc:  # one line, not a traceback
        raise SystemExit(f"Go peer: {exc}") from None
    elapsed = time.perf_counter() - started
    if peer.decoded != peer.vms:
        raise SystemExit(f"Go peer decoded {peer.decoded} of {peer.vms} VMs")
    run = Run(elapsed, peer.cpu_s, cpu_of(vcsim) - sim_cpu, os.getloadavg()[0], peer.vms)
    return run, peer.elapsed_s


def best_peer(rounds: list[tuple[Run, float]]) -> Peer:
    run, retrieve_s = min(rounds, key=lambda r: r[0].wall_s)
    return Peer(run, retrieve_s, [r.wall_s for r, _ in rounds])


def perf_reading(sim: Simulator, days: float, vms: int = 200) -> list[list[str]]:
    """CPU seconds to read QueryPerf answers, scaled to 10,000 VMs: the byte scan against the
    lxml tree it falls back to, on the same answers fetched once from vcsim (best of five)."""
    with session(sim) as content:
        plan = plan_perf(content, days)
        assert plan is not None
        refs = list_morefs(content, vim.VirtualMachine)[:vms]
        answers = [
            b"".join(ask(content.perfManager, refs[i : i + BATCH], plan).chunks)
            for i in range(0, len(refs), BATCH)
        ]

    def best(read: Callable[[Answer, PerfPlan], dict[str, Any]]) -> tuple[float, list[dict[str, Any]]]:
        times, results = [], []
        for _ in range(5):
            started = time.process_time()
            results = [read(Answer("QueryPerf", [body]), plan) for body in answers]
            times.append(time.process_time() - started)
        return min(times) * 10_000 / len(refs), results

    (scan_s, by_scan), (tree_s, by_tree) = best(rollups), best(tree_rollups)
    same = "identical" if by_scan == by_tree else "DIFFERENT"
    print(
        f"reading QueryPerf answers for {days:g} days, per 10,000 VMs: byte scan {scan_s:.2f} s CPU, "
        f"lxml tree {tree_s:.2f} s ({scan_s / tree_s:.2f}x); rollups {same}"
    )
    return [
        [
            f"QueryPerf reading, {days:g} days, per 10k VMs: scan / tree CPU s",
            f"{scan_s:.2f} / {tree_s:.2f}",
            "",
        ],
        ["QueryPerf rollups, scan vs tree", same, "identical"],
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--vms", type=int, default=10_000)
    parser.add_argument("--clusters", type=int, default=10)
    parser.add_argument("--perf-days", type=float, nargs="+", default=[0.0, 7.0])
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--skip-peer", action="store_true", help="do not build or run the Go peer")
    args = parser.parse_args()

    print(
        f"machine: {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB, "
        f"load average {_load()}"
    )
    started = time.perf_counter()
    with Simulator(topology=Estate.generated(args.vms, args.clusters), password="bench-pw") as sim:
        print(
            f"vcsim with {args.vms} VMs in {args.clusters} clusters up "
            f"in {time.perf_counter() - started:.1f} s"
        )
        peer_rounds = [] if args.skip_peer else [run_go_peer(sim)]
        results: dict[float, Run] = {}
        for days in args.perf_days:
            with tempfile.TemporaryDirectory() as ws:
                results[days] = run = run_cli_discovery(sim, days, Path(ws))
            print(
                f"migrator discover --perf-days {days:g}: {run.line()}; "
                f"peak RSS {run.peak_rss / 2**20:.0f} MiB (CLI + workers, incl. SQLite write)"
            )
        base = None if args.skip_baseline else run_baseline(sim)
        if base is not None:
            print(f"baseline, one pyvmomi RetrievePropertiesEx stream, same VM property set: {base.line()}")
        peer = None
        if not args.skip_peer:
            peer = best_peer([*peer_rounds, run_go_peer(sim)])
            print(f"Go peer (govmomi, ContainerView, typed mo.VirtualMachine), best of 2: {peer.line()}")
        figures = summarise(results, base)
        if peer is not None:
            figures += against_peer(results, peer)
        if max(args.perf_days) > 0:
            figures += perf_reading(sim, max(args.perf_days))
        print(f"load average at the end {_load()}")
    print("BENCH " + json.dumps({"bench": "discovery", "vms": args.vms, "figures": figures}))


def summarise(results: dict[float, Run], base: Run | None) -> list[list[str]]:
    """Print the ratios; return the figures of the BENCH line."""
    figures: list[list[str]] = []
    for days, run in results.items():
        what = "inventory only" if days == 0 else f"{days:g} days of utilisation"
        figures.append(
            [
                f"discovery {what}: wall s (CPU client + vcsim; load)",
                f"{run.wall_s:.1f} ({run.cpu_s:.1f} + {run.sim_cpu_s:.1f}; {run.load:.1f})",
                "",
            ]
        )
        if base is None:
            continue
        target = 0.5 if days == 0 else 1.0
        ratio, cpu_ratio = run.wall_s / base.wall_s, run.cpu_s / base.cpu_s
        print(
            f"discover --perf-days {days:g} / baseline: {ratio:.2f}x wall (target <= {target:g}x: "
            f"{'met' if ratio <= target else 'NOT met'}); {cpu_ratio:.2f}x client CPU"
        )
        figures.append(
            [
                f"discovery {what} / baseline: wall (client CPU)",
                f"{ratio:.2f}x ({cpu_ratio:.2f}x)",
                f"<= {target:g}x",
            ]
        )
    if base is not None:
        figures.append(
            [
                "discovery baseline: wall s (CPU client + vcsim; load)",
                f"{base.wall_s:.1f} ({base.cpu_s:.1f} + {base.sim_cpu_s:.1f}; {base.load:.1f})",
                "",
            ]
        )
    peak = max((run.peak_rss for run in results.values()), default=0)
    print(f"peak RSS {peak / 2**20:.0f} MiB (target < 1024 MiB: {'met' if peak < 2**30 else 'NOT met'})")
    figures.append(["discovery peak RSS MiB", f"{peak / 2**20:.0f}", "< 1024"])
    return figures


def against_peer(results: dict[float, Run], peer: Peer) -> list[list[str]]:
    """Inventory-only discovery against the Go peer, with the split the issue asks for."""
    p = peer.run
    figures = [
        [
            "Go peer: wall s (retrieval s; CPU client + vcsim; load)",
            f"{p.wall_s:.2f} ({peer.retrieve_s:.2f}; {p.cpu_s:.1f} + {p.sim_cpu_s:.1f}; {p.load:.1f})",
            "",
        ]
    ]
    run = results.get(0.0)
    if run is None:
        return figures
    ratio, strict = run.wall_s / p.wall_s, run.wall_s / peer.retrieve_s
    print(
        f"discover --perf-days 0 / Go peer: {ratio:.2f}x wall, process against process (target <= 1.0x: "
        f"{'met' if ratio <= 1.0 else 'NOT met'}); {strict:.2f}x of the peer's retrieval alone"
    )
    print(
        f"split, discovery against peer: vcsim CPU {run.sim_cpu_s:.1f} s vs {p.sim_cpu_s:.1f} s; "
        f"client CPU {run.cpu_s:.1f} s (CLI + workers) vs {p.cpu_s:.1f} s; "
        "store: not reported separately by discovery (inside its client CPU and wall)"
    )
    figures.append(
        [
            "discovery inventory only / Go peer: wall (vs retrieval alone)",
            f"{ratio:.2f}x ({strict:.2f}x)",
            "<= 1.0x",
        ]
    )
    figures.append(
        [
            "discovery inventory only vs Go peer: vcsim CPU s, client CPU s",
            f"{run.sim_cpu_s:.1f} vs {p.sim_cpu_s:.1f}; {run.cpu_s:.1f} vs {p.cpu_s:.1f}",
            "",
        ]
    )
    return figures


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


if __name__ == "__main__":
    main()
