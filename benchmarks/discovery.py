"""Discovery benchmark: a 10,000-VM vcsim, full discovery through the CLI, and the raw baseline.

Prints VMs/s, wall time and peak RSS (the whole process tree: CLI + workers) of
`migrator discover`, and the time of the naive baseline: ONE pyvmomi RetrievePropertiesEx
stream over a ContainerView with the same VM property set, run in this process against the
same simulator. Targets (issue 14), as ratios of discovery's time to the baseline's in the
same run: inventory only <= 0.5x, with 7 days of utilisation <= 1.0x; peak RSS < 1 GiB.

    python benchmarks/discovery.py [--vms 10000] [--clusters 10] [--perf-days 0 7] [--skip-baseline]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
from pyVim.connect import Disconnect, SmartConnect
from pyVmomi import vim, vmodl

from migrator.simulator.estate import Estate
from migrator.simulator.launcher import Simulator
from migrator.vcenter.properties import VM_PROPERTIES

PC = vmodl.query.PropertyCollector


def tree_rss(proc: psutil.Process) -> int:
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            total += p.memory_info().rss
    return total


def run_cli_discovery(sim: Simulator, perf_days: float, workspace: Path) -> tuple[float, int, int]:
    env = dict(os.environ, BENCH_VC_PASSWORD=sim.password, MIGRATOR_WORKSPACE=str(workspace))
    env.pop("MIGRATOR_DB_URL", None)
    cmd = [
        sys.executable,
        "-m",
        "migrator",
        *sim.discover_args("BENCH_VC_PASSWORD", "--perf-days", str(perf_days)),
    ]
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
    out, err = proc.communicate()
    elapsed = time.perf_counter() - started
    stop.set()
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"discovery failed ({proc.returncode}): {err.strip()}")
    vms = int(next(line.split("│")[2] for line in out.splitlines() if line.startswith("│ VMs ")))
    return elapsed, peak, vms


def run_baseline(sim: Simulator) -> tuple[float, int]:
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
        content = si.RetrieveContent()
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
        return time.perf_counter() - started, count
    finally:
        Disconnect(si)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--vms", type=int, default=10_000)
    parser.add_argument("--clusters", type=int, default=10)
    parser.add_argument("--perf-days", type=float, nargs="+", default=[0.0, 7.0])
    parser.add_argument("--skip-baseline", action="store_true")
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
        results: dict[float, tuple[float, int]] = {}
        for days in args.perf_days:
            with tempfile.TemporaryDirectory() as ws:
                elapsed, peak, vms = run_cli_discovery(sim, days, Path(ws))
            results[days] = (elapsed, peak)
            print(
                f"migrator discover --perf-days {days:g}: {vms} VMs in {elapsed:.1f} s "
                f"= {vms / elapsed:.0f} VMs/s, "
                f"peak RSS {peak / 2**20:.0f} MiB (CLI + workers, incl. SQLite write)"
            )
        if not args.skip_baseline:
            base_time, base_count = run_baseline(sim)
            print(
                "baseline, one pyvmomi RetrievePropertiesEx stream, same VM property set: "
                f"{base_count} VMs in "
                f"{base_time:.1f} s"
            )
            for days, (elapsed, peak) in results.items():
                target = 0.5 if days == 0 else 1.0
                ratio = elapsed / base_time
                print(
                    f"discover --perf-days {days:g} / baseline: {ratio:.2f}x (target <= {target:g}x: "
                    f"{'met' if ratio <= target else 'NOT met'}); peak RSS {peak / 2**20:.0f} MiB "
                    f"(target < 1024 MiB: {'met' if peak < 2**30 else 'NOT met'})"
                )
        print(f"load average at the end {_load()}")


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


if __name__ == "__main__":
    main()
