"""Synthetic estates with planted applications, for the planning benchmark and tests.

The ground truth is known: every application's VMs, its environment and criticality. Traffic
is heavy inside an application (web -> app -> db chains, db replication), light between
applications (API calls, mostly one way), and shared services (DNS, AD, NFS, a monitoring
server that scrapes everyone and receives everyone's logs) talk to everything. Only some
applications carry an `app` label, so the planner must find the rest from traffic.
Deterministic for a seed.
"""

from __future__ import annotations

import ipaddress
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from migrator.flows.records import Flow

GB = 10**9
MB = 10**6
DAYS = 7
START = datetime(2026, 11, 1, tzinfo=UTC)


@dataclass
class SyntheticEstate:
    vms: list[dict[str, Any]]
    clusters: list[dict[str, Any]]
    flows: list[Flow]
    apps: dict[str, list[str]]  # ground truth: application -> VM names
    shared: list[str]
    meta: dict[str, Any] = field(default_factory=dict)


def _vm(
    name: str, ip: str, host: str, cluster: str, rng: random.Random, custom: dict[str, str]
) -> dict[str, Any]:
    cpus = rng.choice([1, 2, 2, 4, 4, 8])
    disks = [
        {"label": f"Hard disk {i + 1}", "capacity_gb": rng.choice([40, 60, 100, 200])}
        for i in range(rng.choice([1, 1, 2, 3]))
    ]
    return {
        "name": name,
        "moref": f"vm-{name}",
        "template": False,
        "power_state": "poweredOn",
        "num_cpu": cpus,
        "memory_mb": cpus * rng.choice([2048, 4096]),
        "guest_id": rng.choice(["rhel8_64Guest", "ubuntu64Guest", "windows2019srv_64Guest"]),
        "host": host,
        "cluster": cluster,
        "vapp": None,
        "custom_fields": custom,
        "tags": [],
        "disks": disks,
        "nics": [],
        "ip_addresses": [ip],
        "hostname": f"{name}.corp.example",
        "annotation": "",
        "snapshot_count": 0,
        "perf": {
            "cpu_p50_pct": rng.uniform(2, 30),
            "cpu_p95_pct": rng.uniform(10, 70),
            "cpu_max_pct": 90.0,
            "mem_p50_pct": rng.uniform(20, 50),
            "mem_p95_pct": rng.uniform(30, 80),
            "mem_max_pct": 95.0,
            "samples": 2016,
            "expected_samples": 2016,
            "coverage": 1.0,
            "window_days": DAYS,
        },
    }


def generate(n_vms: int = 10_000, seed: int = 1, labelled_share: float = 0.3) -> SyntheticEstate:
    rng = random.Random(seed)
    clusters = [f"Cluster-{c:02d}" for c in range(max(1, n_vms // 1000))]
    hosts = {c: [f"esx-{c[-2:]}-{h:02d}" for h in range(40)] for c in clusters}
    ips = (str(ipaddress.IPv4Address(int(ipaddress.IPv4Address("10.0.0.0")) + i)) for i in range(10, 10**7))
    vms: list[dict[str, Any]] = []
    ip_of: dict[str, str] = {}
    flows: list[Flow] = []

    def flow(src: str, dst: str, port: int, per_day: float, proto: str = "tcp") -> None:
        total = int(per_day * DAYS)
        flows.append(
            Flow(
                ip_of.get(src, src),
                ip_of.get(dst, dst),
                port,
                proto,
                total,
                total // 1200,
                max(1, total // (50 * MB)),
                START,
                START + timedelta(days=DAYS),
            )
        )

    def add(name: str, cluster: str, custom: dict[str, str]) -> None:
        ip_of[name] = next(ips)
        vms.append(_vm(name, ip_of[name], rng.choice(hosts[cluster]), cluster, rng, custom))

    shared = ["dns-01", "dns-02", "ad-01", "ad-02", "nfs-01", "nfs-02", "monitor-01", "backup-01"]
    for name in shared:
        add(name, clusters[0], {"env": "prod"})
    apps: dict[str, list[str]] = {}
    app_env: dict[str, str] = {}
    count = len(shared)
    index = 0
    while count < n_vms:
        size = min(n_vms - count, max(2, int(rng.lognormvariate(1.8, 0.6))))
        size = min(size, 40)
        app = f"app{index:04d}"
        env = "prod" if rng.random() < 0.7 else rng.choice(["dev", "test", "uat"])
        critical = env == "prod" and rng.random() < 0.1
        labelled = rng.random() < labelled_share
        cluster = rng.choice(clusters)
        custom = {
            "env": env,
            **({"app": app} if labelled else {}),
            **({"criticality": "high"} if critical else {}),
        }
        n_db = 1 if size < 4 else 2
        n_web = max(1, (size - n_db) // 3)
        n_app = size - n_db - n_web
        names = (
            [f"{app}-web-{i}" for i in range(n_web)]
            + [f"{app}-app-{i}" for i in range(n_app)]
            + [f"{app}-db-{i}" for i in range(n_db)]
        )
        for name in names:
            add(name, cluster, dict(custom))
        webs, apps_tier, dbs = names[:n_web], names[n_web : n_web + n_app], names[n_web + n_app :]
        backends = apps_tier or dbs
        for i, web in enumerate(webs):
            flow(web, backends[i % len(backends)], 8080, rng.uniform(2, 20) * GB)
            if len(backends) > 1:
                flow(web, backends[(i + 1) % len(backends)], 8080, rng.uniform(0.2, 3) * GB)
            for _ in range(rng.randint(1, 3)):
                flow(
                    f"198.51.{rng.randint(0, 255)}.{rng.randint(1, 254)}", web, 443, rng.uniform(0.1, 2) * GB
                )
        for i, node in enumerate(apps_tier):
            flow(node, dbs[i % len(dbs)], 5432, rng.uniform(1.2, 40) * GB)
        if len(dbs) > 1:
            flow(dbs[1], dbs[0], 5432, rng.uniform(5, 30) * GB)  # replication
        apps[app] = names
        app_env[app] = env
        count += size
        index += 1
    # light API calls between applications: mostly to older applications (a DAG), a few back
    names_by_app = list(apps)
    for pos, app in enumerate(names_by_app):
        for _ in range(rng.choice([0, 1, 1, 2, 3])):
            if pos == 0:
                break
            other = (
                names_by_app[rng.randrange(0, pos)]
                if rng.random() > 0.01
                else names_by_app[rng.randrange(len(names_by_app))]
            )
            if other == app or (app_env[other] != app_env[app] and rng.random() < 0.9):
                continue
            src = rng.choice(apps[app][-3:])
            flow(src, rng.choice(apps[other]), 8443, rng.uniform(10, 300) * MB)
    # shared services: everyone resolves names, logs to the monitor, is scraped by it; some use NFS
    for vm in vms:
        name = vm["name"]
        if name in shared:
            continue
        flow(name, rng.choice(["dns-01", "dns-02"]), 53, rng.uniform(1, 5) * MB, "udp")
        flow(name, "monitor-01", 514, rng.uniform(5, 20) * MB, "udp")
        flow("monitor-01", name, 9100, rng.uniform(2, 8) * MB)
        if "windows" in vm["guest_id"]:
            flow(name, rng.choice(["ad-01", "ad-02"]), 389, rng.uniform(5, 50) * MB)
        if rng.random() < 0.2:
            flow(name, rng.choice(["nfs-01", "nfs-02"]), 2049, rng.uniform(1, 10) * GB)
        if rng.random() < 0.5:
            flow("backup-01", name, 10000 + rng.randint(0, 5), rng.uniform(1, 5) * GB)
    cluster_rules: list[dict[str, Any]] = [
        {"name": c, "moref": f"domain-{c}", "drs_rules": []} for c in clusters
    ]
    cluster_of = {v["name"]: v["cluster"] for v in vms}  # a scan per app was quadratic
    rules_of = {c["name"]: c["drs_rules"] for c in cluster_rules}
    for app, members in apps.items():
        dbs = [m for m in members if "-db-" in m]
        if len(dbs) == 2:
            rules = rules_of[cluster_of[dbs[0]]]
            rules.append({"name": f"{app}-db-apart", "kind": "vm-anti-affinity", "enabled": True, "vms": dbs})
    return SyntheticEstate(
        vms=vms,
        clusters=cluster_rules,
        flows=flows,
        apps=apps,
        shared=shared,
        meta={"apps": len(apps), "flows": len(flows), "labelled_share": labelled_share},
    )
