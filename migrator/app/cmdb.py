"""The CMDB as a source: import an export, match its CIs to VMs, and list where it and vCenter disagree."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from migrator.app.cmdb_csv import read_cmdb
from migrator.app.workspace import Workspace
from migrator.input_files import Limits
from migrator.store.cmdb import Cmdb
from waves.facts import lookup, vm_addresses

RETIRED = frozenset({"6", "retired", "non-operational", "2"})  # ServiceNow operational_status


@dataclass(frozen=True)
class CmdbImportResult:
    import_id: int
    origin: str
    items: int
    matched: int  # CIs that name a VM of the latest snapshot (0 when there is no snapshot yet)
    columns: dict[str, str]
    warnings: list[str]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def import_cmdb(ws: Workspace, path: Path, limits: Limits | None = None) -> CmdbImportResult:
    """Read the whole file first (any error: nothing stored), then store it in one transaction.
    `limits`: None for the defaults and MIGRATOR_LIMIT_* variables (docs/limits.md)."""
    parsed = read_cmdb(path, limits)
    import_id = ws.cmdb.save(parsed.origin, parsed.digest, parsed.columns, parsed.items, parsed.warnings)
    matched = 0
    snaps = [s for s in ws.store.list() if s.status == "complete"]
    if snaps:
        vms = list(ws.store.records(snaps[-1].id or 0, "vms"))
        matched = len(match_items(vms, ws.cmdb.latest()))
    return CmdbImportResult(
        import_id, parsed.origin, len(parsed.items), matched, parsed.columns, parsed.warnings
    )


def match_items(vms: list[dict[str, Any]], cmdb: Cmdb | None) -> dict[str, dict[str, Any]]:
    """VM name -> its CI: by name (ignoring case), else by the VM's host name or short host name.
    A key two CIs or two VMs share matches nothing rather than a guess."""
    if cmdb is None:
        return {}
    by_key: dict[str, str | None] = {}
    for name in cmdb.items:
        key = name.lower()
        by_key[key] = None if key in by_key else name
    matches: dict[str, dict[str, Any]] = {}
    used: dict[str, int] = {}
    for vm in vms:
        keys = [str(vm["name"]).lower()]
        host = str(vm.get("hostname") or "").lower()
        if host:
            keys += [host, host.split(".")[0]]
        for key in keys:
            ci = by_key.get(key)
            if ci is not None:
                matches[vm["name"]] = cmdb.items[ci]
                used[ci] = used.get(ci, 0) + 1
                break
    return {vm: ci for vm, ci in matches.items() if used[ci["name"]] == 1}


def with_cmdb(vms: list[dict[str, Any]], cmdb: Cmdb | None) -> list[dict[str, Any]]:
    """The VM records with their CI attached under "cmdb" (for the planner's facts; not stored)."""
    matches = match_items(vms, cmdb)
    if not matches or cmdb is None:
        return vms
    return [
        {**vm, "cmdb": {**matches[vm["name"]], "origin": cmdb.origin, "columns": cmdb.columns}}
        if vm["name"] in matches
        else vm
        for vm in vms
    ]


@dataclass(frozen=True)
class DriftItem:
    kind: str  # mismatch | ci-without-vm | vm-without-ci
    name: str  # the VM's name (the CI's for ci-without-vm)
    field: str | None = None  # cpu | memory_mb | ip_addresses | application | environment
    cmdb: Any = None
    vcenter: Any = None
    ci: str | None = None  # the CI's name where it differs from the VM's


@dataclass(frozen=True)
class DriftReport:
    snapshot_id: int
    cmdb_import_id: int
    cmdb_origin: str
    items: list[DriftItem] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "snapshot_id": self.snapshot_id,
            "cmdb_import_id": self.cmdb_import_id,
            "cmdb_origin": self.cmdb_origin,
            "counts": {k: sum(1 for i in self.items if i.kind == k) for k in DRIFT_KINDS},
            "items": [asdict(i) for i in self.items],
        }


DRIFT_KINDS = ("mismatch", "ci-without-vm", "vm-without-ci")
_BUSINESS = (("application", ("app", "application")), ("environment", ("env", "environment")))


def drift(ws: Workspace, snapshot: int | None = None) -> DriftReport:
    """Where the latest CMDB import and a snapshot (None: the latest) disagree."""
    from migrator.errors import NotFound

    cmdb = ws.cmdb.latest()
    if cmdb is None:
        raise NotFound("no CMDB imported yet: run `migrator import cmdb FILE.csv`")
    snap = ws.store.get(snapshot)
    vms = [vm for vm in ws.store.records(snap.id or 0, "vms") if not vm.get("template")]
    matches = match_items(vms, cmdb)
    items: list[DriftItem] = []
    for vm in sorted(vms, key=lambda v: str(v["name"])):
        ci = matches.get(vm["name"])
        if ci is None:
            items.append(DriftItem("vm-without-ci", vm["name"]))
            continue
        items.extend(_mismatches(vm, ci))
    matched = {ci["name"] for ci in matches.values()}
    for name, ci in sorted(cmdb.items.items()):
        if name not in matched and str(ci.get("operational_status") or "").lower() not in RETIRED:
            items.append(DriftItem("ci-without-vm", name))
    return DriftReport(snap.id or 0, cmdb.import_id, cmdb.origin, items)


def _mismatches(vm: dict[str, Any], ci: dict[str, Any]) -> list[DriftItem]:
    name, ci_name = vm["name"], (ci["name"] if ci["name"] != vm["name"] else None)
    found: list[DriftItem] = []
    for key, vm_key in (("cpu", "num_cpu"), ("memory_mb", "memory_mb")):
        if ci.get(key) is not None and vm.get(vm_key) is not None and ci[key] != vm[vm_key]:
            found.append(DriftItem("mismatch", name, key, ci[key], vm[vm_key], ci_name))
    ips, guest_only = vm_addresses(vm)
    known = set(ips) | set(guest_only)
    expected = ci.get("ip_addresses") or []
    if expected and not set(expected) <= known:
        found.append(DriftItem("mismatch", name, "ip_addresses", expected, sorted(known), ci_name))
    for key, keys in _BUSINESS:
        stated = _stated(vm, keys)
        if ci.get(key) and stated and stated.lower() != str(ci[key]).lower():
            found.append(DriftItem("mismatch", name, key, ci[key], stated, ci_name))
    return found


def _stated(vm: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    return lookup(vm, keys)[0]
