"""Combining one inventory per vCenter into an estate's inventory, and finding duplicates.

Pure functions (no database): docs/scale.md#multi-vcenter-estates. A VM is identified across
vCenters by (vCenter instance UUID, moref); its BIOS and instance UUIDs tell duplicates apart.
Nothing is merged: every VM of every vCenter stays a VM of the estate, duplicates are reported.

Names that occur in more than one vCenter (VMs, hosts, clusters, datastores) get the vCenter's
estate name as a suffix, `web-01@prod-vc-01`, in every vCenter that has them, and only then: a
name unique in the estate is unchanged, so planning, code names, PR titles and URLs of a
one-vCenter estate read exactly as before, and a colliding name never depends on the order of
discovery. Networks keep their names: a portgroup name seen in several vCenters is taken as
the same segment (a stretched VLAN) by the network mapping, as `plan` maps networks by name.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from migrator.store.inventory import Inventory

RENAMED_KINDS = ("vms", "hosts", "clusters", "datastores")


@dataclass(frozen=True)
class MemberInventory:
    vcenter: str  # the estate's name for the vCenter
    instance_uuid: str  # the vCenter's about.instanceUuid ("" when it did not say)
    inventory: Inventory


Names = dict[tuple[str, str], str]  # (vCenter, original name) -> name in the estate


def estate_names(members: list[MemberInventory], kind: str) -> Names:
    """The estate name of every object of `kind`: suffixed with its vCenter only where the name
    occurs in more than one vCenter (and further with its moref if even that is taken)."""
    seen: dict[str, set[str]] = defaultdict(set)
    for m in members:
        for rec in getattr(m.inventory, kind):
            seen[rec["name"]].add(m.vcenter)
    names: Names = {}
    for m in members:
        for rec in getattr(m.inventory, kind):
            name = rec["name"]
            if len(seen[name]) == 1:
                names[(m.vcenter, name)] = name
                continue
            suffixed = f"{name}@{m.vcenter}"
            names[(m.vcenter, name)] = suffixed if suffixed not in seen else f"{suffixed}#{rec['moref']}"
    return names


def combine(members: list[MemberInventory]) -> Inventory:
    """The estate's inventory: every member's objects, stamped with their vCenter, colliding
    names made distinct (and every reference to them: a VM's host, cluster and datastores, a
    host's cluster, a DRS rule's VMs and hosts)."""
    names = {kind: estate_names(members, kind) for kind in RENAMED_KINDS}
    out = Inventory()
    for m in sorted(members, key=lambda x: x.vcenter):
        vc = m.vcenter

        def rename(kind: str, name: Any, vc: str = vc) -> Any:
            return names[kind].get((vc, name), name) if isinstance(name, str) else name

        stamp = {"vcenter": vc, "vcenter_uuid": m.instance_uuid or None}
        for vm in m.inventory.vms:
            disks = [
                {**d, "datastore": rename("datastores", d.get("datastore"))} for d in vm.get("disks") or []
            ]
            out.vms.append(
                {
                    **vm,
                    **stamp,
                    "name": rename("vms", vm["name"]),
                    "source_name": vm["name"],
                    "host": rename("hosts", vm.get("host")),
                    "cluster": rename("clusters", vm.get("cluster")),
                    "disks": disks,
                }
            )
        for host in m.inventory.hosts:
            out.hosts.append(
                {
                    **host,
                    **stamp,
                    "name": rename("hosts", host["name"]),
                    "cluster": rename("clusters", host.get("cluster")),
                }
            )
        for cluster in m.inventory.clusters:
            rules = [
                {
                    **rule,
                    "vms": sorted(rename("vms", v) for v in rule.get("vms") or []),
                    "hosts": sorted(rename("hosts", h) for h in rule.get("hosts") or []),
                }
                for rule in cluster.get("drs_rules") or []
            ]
            out.clusters.append(
                {**cluster, **stamp, "name": rename("clusters", cluster["name"]), "drs_rules": rules}
            )
        out.datastores += [
            {**d, **stamp, "name": rename("datastores", d["name"])} for d in m.inventory.datastores
        ]
        out.networks += [{**n, **stamp} for n in m.inventory.networks]
        out.warnings += [f"{vc}: {w}" for w in m.inventory.warnings]
    for kind in ("vms", "hosts", "clusters", "networks", "datastores"):
        getattr(out, kind).sort(key=lambda r: (r["name"], r["vcenter"], r["moref"]))
    return out


# -- duplicates ----------------------------------------------------------------------------------

SEEN_TWICE = "same-vm-in-several-vcenters"  # one instance UUID under two vCenters
CLONE = "same-bios-uuid"  # different VMs (instance UUIDs) sharing a BIOS UUID: clones, copies
MOVED = "moved-between-vcenters"  # in another vCenter in the previous complete estate snapshot


def vm_ref(vm: dict[str, Any]) -> dict[str, Any]:
    """How a VM is identified in the estate: (vCenter instance UUID, moref), plus its UUIDs."""
    return {
        "name": vm["name"],
        "vcenter": vm.get("vcenter"),
        "vcenter_uuid": vm.get("vcenter_uuid"),
        "moref": vm.get("moref"),
        "bios_uuid": vm.get("bios_uuid"),
        "instance_uuid": vm.get("instance_uuid"),
    }


def duplicates(vms: list[dict[str, Any]], previous: Iterable[dict[str, Any]] = ()) -> list[dict[str, Any]]:
    """Every group of VMs that may be one machine counted twice, and every VM that moved since
    `previous` (the VMs of the previous complete estate snapshot). Sorted, deterministic."""
    found: list[dict[str, Any]] = []
    by_instance: dict[str, list[dict[str, Any]]] = defaultdict(list)
    by_bios: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for vm in vms:
        if vm.get("instance_uuid"):
            by_instance[vm["instance_uuid"]].append(vm)
        if vm.get("bios_uuid"):
            by_bios[vm["bios_uuid"]].append(vm)
    for uuid, group in sorted(by_instance.items()):
        if len({vm.get("vcenter") for vm in group}) > 1:
            found.append(_finding(SEEN_TWICE, "instance_uuid", uuid, group))
    for uuid, group in sorted(by_bios.items()):
        if len({vm.get("instance_uuid") for vm in group}) > 1:
            found.append(_finding(CLONE, "bios_uuid", uuid, group))
    found += _moved(vms, previous)
    return found


def _finding(kind: str, key: str, value: str, group: list[dict[str, Any]]) -> dict[str, Any]:
    refs = sorted((vm_ref(vm) for vm in group), key=lambda r: (r["vcenter"] or "", r["moref"] or ""))
    return {"kind": kind, "key": key, "value": value, "vms": refs}


def _moved(vms: list[dict[str, Any]], previous: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    before: dict[str, set[str]] = defaultdict(set)
    old_refs: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for vm in previous:
        if vm.get("instance_uuid") and vm.get("vcenter"):
            before[vm["instance_uuid"]].add(vm["vcenter"])
            old_refs[vm["instance_uuid"]].append(vm)
    found = []
    for vm in sorted(vms, key=lambda v: (v["name"], v.get("vcenter") or "")):
        uuid = vm.get("instance_uuid")
        if uuid and before.get(uuid) and vm.get("vcenter") not in before[uuid]:
            entry = _finding(MOVED, "instance_uuid", uuid, [vm])
            entry["previously"] = sorted(
                (vm_ref(o) for o in old_refs[uuid]), key=lambda r: r["vcenter"] or ""
            )
            found.append(entry)
    return found
