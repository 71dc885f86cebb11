"""The short summary printed after a discovery or an import."""

from __future__ import annotations

from collections import Counter
from typing import Any

from rich.console import Console
from rich.table import Table

from migrator.store.snapshots import SnapshotStore


def print_snapshot_summary(store: SnapshotStore, snapshot_id: int, vms: list[dict[str, Any]]) -> None:
    """`vms`: the VM records just stored (the caller holds them: reading 10,000 back costs a second)."""
    snap = store.get(snapshot_id)
    power = Counter(vm.get("power_state") or "unknown" for vm in vms)
    table = Table(title=f"Snapshot {snap.id} ({snap.source}: {snap.server})", show_header=False)
    table.add_column("what")
    table.add_column("count", justify="right")
    table.add_row("VMs", str(snap.vm_count))
    for state_name, count in sorted(power.items()):
        table.add_row(f"  {state_name}", str(count))
    table.add_row("  templates", str(sum(1 for vm in vms if vm.get("template"))))
    table.add_row("  with utilisation data", str(sum(1 for vm in vms if vm.get("perf"))))
    table.add_row("vCPUs", str(sum(vm.get("num_cpu") or 0 for vm in vms)))
    table.add_row("memory (GiB)", f"{sum(vm.get('memory_mb') or 0 for vm in vms) / 1024:.1f}")
    table.add_row("disks", str(sum(len(vm.get("disks") or []) for vm in vms)))
    table.add_row(
        "provisioned storage (GiB)",
        f"{sum(d.get('capacity_gb') or 0 for vm in vms for d in vm.get('disks') or []):.1f}",
    )
    table.add_row("hosts", str(snap.host_count))
    table.add_row("clusters", str(snap.cluster_count))
    table.add_row(
        "DRS rules", str(sum(len(c.get("drs_rules") or []) for c in store.records(snapshot_id, "clusters")))
    )
    table.add_row("networks", str(snap.network_count))
    table.add_row("datastores", str(snap.datastore_count))
    table.add_row("warnings", str(len(snap.warnings or [])))
    Console().print(table)
