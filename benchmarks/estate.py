"""Estate benchmark (issue 23): three vCenters of --vms VMs each (default 10,000), discovered
one after the other in one process (`migrator discover --estate`), then by one and by two
`migrator worker` processes (`discover --estate --queue`), on a throw-away PostgreSQL; then
planning the combined estate.

Prints the wall time of each way from start to the complete estate snapshot and the speed-up
of the workers against the single process; the CPU split of each run (the three vcsim
processes, the migrator processes: the CLI or the workers, PostgreSQL, and the machine as a
whole, from /proc via psutil) with the load average. On one machine the simulators compete
with the workers for the same cores: the speed-up here is bounded by them, see docs/scale.md.
Each vCenter is read with `--workers 1` (no discovery process pool), so the parallelism is
the job workers'. Workers serve only the discovery queue: the findings jobs an estate snapshot
queues are not part of the figure.

Planning: the combined estate snapshot's VM records (every VM of the three vCenters, names
made distinct by the estate union) get the traffic of a synthetic estate of the same size
(waves.synthetic: planted applications; each discovered VM takes one synthetic VM's address and
labels), then waves are planned as benchmarks/waves.py does: wall and CPU time, peak RSS,
planted applications split, and cross-wave traffic against METIS (its functions, imported).
The last line is `BENCH {json}` (benchmarks/report.py).

    python benchmarks/estate.py [--vms 10000] [--clusters 10] [--perf-days 0] [--skip-planning]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psutil
from discovery import cpu_of  # benchmarks/discovery.py, beside this script
from sqlalchemy import create_engine, text

from migrator.app.workspace import Workspace
from migrator.simulator.estate import Estate
from migrator.simulator.launcher import Simulator
from migrator.simulator.postgres import fresh_database, throwaway_postgres

HERE = Path(__file__).resolve().parent
VCENTERS = ("vc-a", "vc-b", "vc-c")
DONE = "select status from snapshots where source = 'estate' order by id desc limit 1"


def bench_waves() -> Any:
    """benchmarks/waves.py as a module (its name is the `waves` package's, so loaded by path)."""
    spec = importlib.util.spec_from_file_location("bench_waves", HERE / "waves.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class Split:
    """CPU seconds (user + sys) spent during one run, by whom."""

    sims: float
    migrator: float
    postgres: float
    machine: float

    def line(self) -> str:
        other = max(0.0, self.machine - self.sims - self.migrator - self.postgres)
        return (
            f"CPU s: vcsim {self.sims:.1f}, migrator {self.migrator:.1f}, PostgreSQL {self.postgres:.1f}, "
            f"other processes {other:.1f} (machine {self.machine:.1f})"
        )


@dataclass
class Way:
    name: str
    wall_s: float
    cpu: Split
    load: float
    vms: int
    note: str = ""


def machine_cpu() -> float:
    times = psutil.cpu_times()
    return float(times.user + times.system)


def tree_cpu(procs: list[psutil.Process]) -> float:
    """CPU of processes and their children (ended children count once reaped: the CLI's)."""
    total = 0.0
    for proc in procs:
        for p in [proc, *proc.children(recursive=True)]:
            with suppress(psutil.Error):
                total += cpu_of(p)
    return total


def postgres_procs(port: int) -> list[psutil.Process]:
    """The cluster's postmaster (its backends are its children)."""
    for proc in psutil.process_iter(["name", "cmdline"]):
        cmd = " ".join(proc.info["cmdline"] or [])
        if proc.info["name"] == "postgres" and f"-p {port}" in cmd:
            return [proc]
    return []


@contextmanager
def measured(
    sims: list[Simulator], pg: list[psutil.Process], workers: list[psutil.Process]
) -> Iterator[dict[str, Any]]:
    """Wall time and the CPU split of the block (the CLI's CPU arrives as reaped children)."""
    vcsims = [psutil.Process(s.process.pid) for s in sims if s.process is not None]
    from discovery import children_cpu

    before = (tree_cpu(vcsims), tree_cpu(workers) + children_cpu(), tree_cpu(pg), machine_cpu())
    out: dict[str, Any] = {}
    started = time.perf_counter()
    yield out
    out["wall_s"] = time.perf_counter() - started
    after = (tree_cpu(vcsims), tree_cpu(workers) + children_cpu(), tree_cpu(pg), machine_cpu())
    out["split"] = Split(*(a - b for a, b in zip(after, before, strict=True)))
    out["load"] = os.getloadavg()[0]


def migrator(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "migrator", *args], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"migrator {args[0]} failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout


def estate_env(pg_url: str, database: str, sims: list[Simulator], folder: Path) -> dict[str, str]:
    """A workspace on its own database with the three vCenters added (passwords in variables)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIGRATOR_")}
    env.update(MIGRATOR_DB_URL=fresh_database(pg_url, database), MIGRATOR_WORKSPACE=str(folder / database))
    for name, sim in zip(VCENTERS, sims, strict=True):
        var = f"BENCH_{name.upper().replace('-', '_')}_PASSWORD"
        env[var] = sim.password
        migrator(
            env, "estate", "add", name, "--server", sim.url, "--user", sim.username, "--password-env", var
        )
    return env


def estate_status(env: dict[str, str]) -> str | None:
    engine = create_engine(env["MIGRATOR_DB_URL"])
    try:
        with engine.connect() as conn:
            return conn.execute(text(DONE)).scalar()
    finally:
        engine.dispose()


def vm_count(env: dict[str, str]) -> int:
    ws = Workspace.open(None, env["MIGRATOR_DB_URL"])
    try:
        from migrator.app.estates import latest_estate_snapshot

        snap = latest_estate_snapshot(ws)
        return 0 if snap is None else len(list(ws.store.records(snap, "vms")))
    finally:
        ws.close()


def in_one_process(env: dict[str, str], sims: list[Simulator], pg: list[psutil.Process], days: str) -> Way:
    with measured(sims, pg, []) as m:
        migrator(env, "discover", "--estate", "--workers", "1", "--perf-days", days)
    return Way("one process, one vCenter after the other", m["wall_s"], m["split"], m["load"], vm_count(env))


def wait(condition: Callable[[], bool], what: str, timeout: float = 3600) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.2)


def with_workers(
    env: dict[str, str], sims: list[Simulator], pg: list[psutil.Process], days: str, count: int
) -> Way:
    """`count` workers, up and idle first (their start is not timed); then queue and wait."""
    with ExitStack() as stack:
        procs = [stack.enter_context(worker(env)) for _ in range(count)]
        wait(lambda: registered(env) >= count, "the workers")
        watched = [psutil.Process(p.pid) for p in procs]
        with measured(sims, pg, watched) as m:
            migrator(env, "discover", "--estate", "--queue", "--workers", "1", "--perf-days", days)
            wait(lambda: estate_status(env) in ("complete", "incomplete"), "the estate snapshot")
    if estate_status(env) != "complete":
        raise SystemExit(f"the estate snapshot with {count} worker(s) did not complete")
    label = f"{count} worker{'s' if count > 1 else ''}"
    note = f" (at most {at_once(env)} vCenter(s) at once)"
    return Way(label, m["wall_s"], m["split"], m["load"], vm_count(env), note)


SPANS = """
select min(e.at) filter (where e.type = 'started'), max(e.at) filter (where e.type = 'succeeded')
  from procrastinate_jobs j join procrastinate_events e on e.job_id = j.id
 where j.task_name = 'discover-estate-vcenter' group by j.id
"""


def at_once(env: dict[str, str]) -> int:
    """How many vCenter discoveries ran at the same time at most (procrastinate's event times)."""
    engine = create_engine(env["MIGRATOR_DB_URL"])
    try:
        with engine.connect() as conn:
            spans = [(a, b) for a, b in conn.execute(text(SPANS)) if a is not None and b is not None]
    finally:
        engine.dispose()
    return max((sum(1 for a, b in spans if a <= start < b) for start, _ in spans), default=0)


def registered(env: dict[str, str]) -> int:
    engine = create_engine(env["MIGRATOR_DB_URL"])
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("select count(*) from procrastinate_workers")).scalar_one())
    except Exception:  # the table exists once the first worker has upgraded the store
        return 0
    finally:
        engine.dispose()


@contextmanager
def worker(env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "migrator", "worker", "--queue", "discovery"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        yield proc
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def grafted_estate(
    env: dict[str, str],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], Any, dict[str, str]]:
    """The combined snapshot's VMs and clusters with a synthetic estate's traffic and labels:
    each discovered VM (in name order) takes one synthetic VM's address and custom fields."""
    from migrator.app.estates import latest_estate_snapshot
    from waves.synthetic import generate

    ws = Workspace.open(None, env["MIGRATOR_DB_URL"])
    try:
        snap = latest_estate_snapshot(ws)
        assert snap is not None
        vms = sorted(ws.store.records(snap, "vms"), key=lambda v: v["name"])
        clusters = list(ws.store.records(snap, "clusters"))
    finally:
        ws.close()
    synthetic = generate(len(vms), seed=1)
    name_of: dict[str, str] = {}
    for rec, syn in zip(vms, synthetic.vms, strict=False):
        rec["ip_addresses"] = list(syn["ip_addresses"])
        rec["custom_fields"] = {**(rec.get("custom_fields") or {}), **syn["custom_fields"]}
        rec["guest_interfaces"] = []
        for nic in rec.get("nics") or []:
            nic["ip_addresses"] = []  # vcsim's addresses repeat across simulators
        name_of[syn["name"]] = rec["name"]
    return vms, clusters, synthetic, name_of


def plan_combined(env: dict[str, str]) -> list[list[str]]:
    """Plan the combined estate as benchmarks/waves.py does; print and return its figures."""
    from waves.parameters import PlanParameters
    from waves.plan import plan_waves

    bw = bench_waves()
    vms, clusters, synthetic, name_of = grafted_estate(env)
    rss_before = bw.peak_rss_mib()
    t0, cpu0 = time.perf_counter(), time.process_time()
    result = plan_waves(vms, clusters, synthetic.flows, PlanParameters())
    plan_s, plan_cpu = time.perf_counter() - t0, time.process_time() - cpu0
    rss, load = bw.peak_rss_mib(), os.getloadavg()[0]
    waves_of = result.placement.wave_of_vm
    split = sum(
        1 for members in synthetic.apps.values() if len({waves_of.get(name_of.get(m)) for m in members}) > 1
    )
    vcenters_per_wave = defaultdict(set)
    for vm in vms:
        vcenters_per_wave[waves_of.get(vm["name"])].add(vm.get("vcenter"))
    mixed = sum(1 for wave, found in vcenters_per_wave.items() if wave is not None and len(found) > 1)
    print(
        f"planning the combined estate ({len(vms)} VMs of {len(VCENTERS)} vCenters, "
        f"{len(synthetic.flows)} synthetic flow records): wall {plan_s:.2f} s (CPU {plan_cpu:.2f} s, "
        f"load average {load:.1f}); peak RSS {rss:.0f} MiB "
        f"(after loading the snapshot: {rss_before:.0f} MiB); "
        f"{len(result.document['waves'])} waves, {mixed} with VMs of several vCenters; "
        f"planted applications split: {split} of {len(synthetic.apps)}"
    )
    ratio = cut_against_metis(bw, result, waves_of)
    k = f"{len(vms) / 1000:g}k"
    return [
        [f"estate {k}: planning wall s (CPU s; load)", f"{plan_s:.1f} ({plan_cpu:.1f}; {load:.1f})", ""],
        [f"estate {k}: planning peak RSS MiB", f"{rss:.0f}", "< 2048"],
        [f"estate {k}: cut ours/METIS", f"{ratio:.3f}", "<= 1.05"],
    ]


def cut_against_metis(bw: Any, result: Any, waves_of: dict[str, int]) -> float:
    edges: dict[tuple[str, str], int] = defaultdict(int)
    for u, v, data in result.graph.vm_edges():
        if data["bytes"] and u in waves_of and v in waves_of:
            edges[(min(u, v), max(u, v))] += data["bytes"]
    nodes = sorted(waves_of)
    sizes = [len(w["vms"]) for w in result.document["waves"]]
    ours = sum(w for (a, b), w in edges.items() if waves_of[a] != waves_of[b])
    imbalance = max(sizes) / (len(nodes) / len(sizes))
    metis, _membership = bw.metis_cut(edges, nodes, len(sizes), imbalance)
    total = max(1, sum(edges.values()))
    ratio = ours / max(metis, 1)
    print(
        f"cross-wave traffic: ours {ours / 1e12:.3f} TB ({ours / total:.1%}); METIS k={len(sizes)}, "
        f"imbalance {imbalance:.2f}: {metis / 1e12:.3f} TB ({metis / total:.1%}); ratio {ratio:.3f}"
    )
    return ratio


def discover_three_ways(
    pg_url: str, sims: list[Simulator], folder: Path, days: str
) -> tuple[list[Way], dict[str, str]]:
    port = int(pg_url.rsplit(":", 1)[1].split("/")[0])
    pg = postgres_procs(port)
    ways = [in_one_process(estate_env(pg_url, "sequential", sims, folder), sims, pg, days)]
    for count in (1, 2):
        env = estate_env(pg_url, f"workers{count}", sims, folder)
        ways.append(with_workers(env, sims, pg, days, count))
    for way in ways:
        speed = ways[0].wall_s / way.wall_s
        print(
            f"{way.name}{way.note}: {way.vms} VMs in {way.wall_s:.1f} s wall "
            f"({way.vms / way.wall_s:.0f} VMs/s, "
            f"speed-up {speed:.2f}x); {way.cpu.line()}; load average {way.load:.1f}"
        )
    return ways, env


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--vms", type=int, default=10_000, help="VMs per vCenter")
    parser.add_argument("--clusters", type=int, default=10)
    parser.add_argument("--perf-days", default="0", help="days of utilisation each discovery reads")
    parser.add_argument("--skip-planning", action="store_true")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    started = time.perf_counter()
    with ExitStack() as stack, tempfile.TemporaryDirectory() as folder:
        pg_url = stack.enter_context(throwaway_postgres())
        sims = [
            stack.enter_context(
                Simulator(
                    topology=Estate.generated(args.vms, args.clusters),
                    password=f"bench-{i}-Pw",
                    instance_uuid=f"00000000-0000-4000-8000-00000000000{i}",
                )
            )
            for i in range(len(VCENTERS))
        ]
        print(
            f"{len(sims)} vcsim of {args.vms} VMs each and PostgreSQL up "
            f"in {time.perf_counter() - started:.1f} s"
        )
        ways, env = discover_three_ways(pg_url, sims, Path(folder), args.perf_days)
        figures = [
            [
                f"estate 3x{args.vms / 1000:g}k: {w.name} wall s (speed-up)",
                f"{w.wall_s:.1f} ({ways[0].wall_s / w.wall_s:.2f}x)",
                "",
            ]
            for w in ways
        ]
        if not args.skip_planning:
            figures += plan_combined(env)
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
    print("BENCH " + json.dumps({"bench": "estate", "vms": args.vms * len(VCENTERS), "figures": figures}))


if __name__ == "__main__":
    main()
