"""Wave planning on a 10,000-VM (or --vms 50000) synthetic estate with planted applications (`make bench`).

Prints: planning wall time and peak memory; planted applications split across waves and
hard-rule violations; cross-wave traffic against a METIS k-way partition (pymetis) with the
same number of parts and balance that ignores our constraints; and what the shared services
did. The last line is a JSON summary (`BENCH {...}`) that benchmarks/report.py collects.
Planning is single-threaded and does no I/O: CPU time is what it costs; wall time above it
is time the process waited for a core (the load average is printed beside it: under
`nice` on a busy machine, wall time can be several times the CPU time).
Usage: python benchmarks/waves.py [--vms 10000] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pymetis

from waves.parameters import PlanParameters
from waves.plan import plan_waves
from waves.rules import check_plan
from waves.synthetic import generate


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def metis_cut(
    edges: dict[tuple[str, str], int], nodes: list[str], parts: int, imbalance: float
) -> tuple[int, list[int]]:
    index = {n: i for i, n in enumerate(nodes)}
    adj: list[list[tuple[int, int]]] = [[] for _ in nodes]
    for (a, b), w in edges.items():
        weight = max(1, w // 1_000_000)  # METIS wants integers: MB
        adj[index[a]].append((index[b], weight))
        adj[index[b]].append((index[a], weight))
    xadj, adjncy, eweights = [0], [], []
    for row in adj:
        for j, w in row:
            adjncy.append(j)
            eweights.append(w)
        xadj.append(len(adjncy))
    opts = pymetis.Options(ufactor=max(1, round((imbalance - 1) * 1000)), seed=1)
    csr = pymetis.CSRAdjacency(xadj, adjncy)
    _cut, membership = pymetis.part_graph(parts, adjacency=csr, eweights=eweights, options=opts)
    cut = sum(w for (a, b), w in edges.items() if membership[index[a]] != membership[index[b]])
    return cut, list(membership)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--vms", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    t0 = time.perf_counter()
    estate = generate(args.vms, seed=args.seed)
    gen_s = time.perf_counter() - t0
    rss_before = peak_rss_mib()
    print(
        f"estate: {len(estate.vms)} VMs, {estate.meta['apps']} planted applications "
        f"({estate.meta['labelled_share']:.0%} labelled), {len(estate.flows)} flow records; "
        f"generated in {gen_s:.1f} s"
    )

    params = PlanParameters()
    t0, cpu0 = time.perf_counter(), time.process_time()
    result = plan_waves(estate.vms, estate.clusters, estate.flows, params)
    plan_s, plan_cpu = time.perf_counter() - t0, time.process_time() - cpu0
    doc, placement, graph = result.document, result.placement, result.graph
    waves_of = placement.wave_of_vm
    time_target = 10 if args.vms <= 10_000 else 20
    # issue 24 at 100,000 VMs: a cut of at most 0.9x METIS's and waves at least 48 of 50 full
    cut_target = 0.9 if args.vms >= 100_000 else 1.05
    fill_target = f">= {0.96 * PlanParameters().max_vms:g}" if args.vms >= 100_000 else ""
    rss = peak_rss_mib()
    load = os.getloadavg()[0]
    print(
        f"planning wall time: {plan_s:.2f} s (target < {time_target} s; CPU time {plan_cpu:.2f} s, "
        f"load average {load:.1f}); peak RSS {rss:.0f} MiB "
        f"(target < 2048 MiB; after generating the estate: {rss_before:.0f} MiB)"
    )

    sizes = [len(w["vms"]) for w in doc["waves"]]
    fill = doc["fill"]
    print(
        f"waves: {len(sizes)}; VMs per wave min {min(sizes)}, mean {fill['mean_vms']:.1f} of at most "
        f"{fill['max_vms']} (fill {fill['ratio']:.0%}), max {max(sizes)}; "
        f"unplaced VMs: {len(doc['unplaced'])}"
    )

    split = []
    for app, members in estate.apps.items():
        found = {waves_of.get(vm) for vm in members}
        if len(found) > 1:
            split.append((app, sorted(str(w) for w in found)))
    print(f"planted applications split across waves: {len(split)} of {len(estate.apps)} (target 0)")
    for app, found in split[:5]:
        print(f"  {app}: waves {', '.join(found)}")
    violations = check_plan(placement.ctx, waves_of)
    print(f"hard-rule violations: {len(violations)} (must be 0)")
    for v in violations[:5]:
        print(f"  {v.rule}: {v.message}")

    # cross-wave traffic, ours vs METIS, over the same undirected VM graph
    edges: dict[tuple[str, str], int] = defaultdict(int)
    for u, v, data in graph.vm_edges():
        if data["bytes"] and u in waves_of and v in waves_of:
            edges[(min(u, v), max(u, v))] += data["bytes"]
    nodes = sorted(waves_of)
    ours = sum(w for (a, b), w in edges.items() if waves_of[a] != waves_of[b])
    parts = len(doc["waves"])
    imbalance = max(sizes) / (len(nodes) / parts)
    t0 = time.perf_counter()
    metis, membership = metis_cut(edges, nodes, parts, imbalance)
    metis_s = time.perf_counter() - t0
    total = sum(edges.values())
    print(
        f"cross-wave traffic: ours {ours / 1e12:.3f} TB ({ours / total:.1%} of all VM-to-VM traffic); "
        f"METIS k={parts}, imbalance {imbalance:.2f}: {metis / 1e12:.3f} TB ({metis / total:.1%}) "
        f"in {metis_s:.1f} s"
    )
    ratio = ours / max(metis, 1)
    print(f"cross-wave ratio ours/METIS: {ratio:.3f} (target <= {cut_target})")
    part_of = dict(zip(nodes, membership, strict=True))
    shared_set = set(estate.shared)
    app_edges = {e: w for e, w in edges.items() if not shared_set & set(e)}
    ours_apps = sum(w for (a, b), w in app_edges.items() if waves_of[a] != waves_of[b])
    metis_apps = sum(w for (a, b), w in app_edges.items() if part_of[a] != part_of[b])
    print(
        f"  without edges to shared services: ours {ours_apps / 1e12:.3f} TB, "
        f"METIS {metis_apps / 1e12:.3f} TB "
        f"(ratio {ours_apps / max(metis_apps, 1):.3f})"
    )

    shared = doc["shared_services"]
    missed = [s for s in estate.shared if s not in {x["vm"] for x in shared}]
    print(
        f"shared services detected: {len(shared)} of {len(estate.shared)} planted; "
        f"missed: {', '.join(missed) or 'none'}"
    )
    for item in shared:
        group = doc["vms"][item["vm"]]["group"] if item["vm"] in doc["vms"] else []
        print(
            f"  {item['vm']}: wave {waves_of.get(item['vm'])}, moves with {len(group) - 1} other VM(s); "
            f"{item['reason']}"
        )
    biggest = max(len(g.members) for g in placement.groups)
    print(
        f"move groups: {len(placement.groups)}; largest has {biggest} VMs "
        "(shared services do not glue applications)"
    )
    summary = {
        "bench": "waves",
        "vms": args.vms,
        "plan_s": round(plan_s, 2),
        "plan_cpu_s": round(plan_cpu, 2),
        "plan_target_s": time_target,
        "peak_rss_mib": round(rss),
        "rss_target_mib": 2048,
        "cut_ratio": round(ratio, 3),
        "cut_target": cut_target,
        "apps_split": len(split),
        "violations": len(violations),
        "waves": fill["waves"],
        "mean_vms": fill["mean_vms"],
        "max_vms": fill["max_vms"],
        "load": round(load, 1),
    }
    k = f"{args.vms // 1000}k"
    summary["figures"] = [
        [
            f"{k}: planning wall s (CPU s; load)",
            f"{plan_s:.1f} ({plan_cpu:.1f}; {load:.1f})",
            f"< {time_target}",
        ],
        [f"{k}: peak RSS MiB", f"{rss:.0f}", "< 2048"],
        [f"{k}: cut ours/METIS", f"{ratio:.3f}", f"<= {cut_target}"],
        [f"{k}: apps split / violations", f"{len(split)} / {len(violations)}", "0 / 0"],
        [
            f"{k}: fill (waves, mean of max)",
            f"{fill['waves']}, {fill['mean_vms']} of {fill['max_vms']}",
            fill_target,
        ],
    ]
    print("BENCH " + json.dumps(summary))


if __name__ == "__main__":
    main()
