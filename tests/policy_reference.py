"""The source findings as the engine computed them before the whole-estate evaluation: the pack's
rules as they were (`findings contains {...} if {...}`, a partial set per policy, kept verbatim in
fixtures/policies/reference/source/), 50 VMs a query, each batch with only the clusters and DRS
rules its VMs link to. Kept as the reference the new evaluation must agree with, finding for
finding (tests/test_findings_whole_estate.py, benchmarks/findings.py); slow on purpose.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from regopy import Interpreter
from regopy.interpreter import Bundle

from policies.engine import Finding
from policies.registry import SEVERITIES, library, policies, query, set_input

REFERENCE = Path(__file__).resolve().parents[1] / "fixtures" / "policies" / "reference" / "source"
BATCH = 50  # the old engine's batch: rego-cpp's partial sets slow down more than linearly


@cache
def _reference() -> tuple[Interpreter, Bundle]:
    rego = Interpreter()
    modules = {
        **library(),
        **{f"source/{f.name}": f.read_text(encoding="utf-8") for f in REFERENCE.glob("*.rego")},
    }
    for name, text in sorted(modules.items()):
        rego.add_module(name, text)
    return rego, rego.build("data.migrator.source")


def reference_findings(
    vms: list[dict[str, Any]], clusters: list[dict[str, Any]], target: str | None = None
) -> list[Finding]:
    """The old `policies.engine.source_findings`, on the old rules (metadata from the registry)."""
    rego, bundle = _reference()
    by_package = {p.name: p for p in policies("source")}
    found: set[Finding] = set()
    for start in range(0, len(vms), BATCH):
        batch = vms[start : start + BATCH]
        set_input(rego, {"target": target or "any", "vms": batch, "clusters": _clusters_of(batch, clusters)})
        for package, result in query(rego, "data.migrator.source", bundle).items():
            policy = by_package[package]
            meaning = (policy.metadata.get("targets") or {}).get(target or "", "")
            for f in result.get("findings") or []:
                found.add(
                    Finding(
                        str(f["vm"]),
                        policy.id,
                        policy.severity,
                        str(policy.metadata["title"]),
                        str(f["message"]),
                        str(policy.metadata.get("vsphere_path", "")),
                        meaning,
                    )
                )
    return sorted(found, key=lambda f: (f.vm, SEVERITIES.index(f.severity), f.policy, f.message))


def _clusters_of(batch: list[dict[str, Any]], clusters: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The clusters a batch's findings can see: its VMs' own and the DRS rules naming one of them."""
    names = {vm.get("name") for vm in batch}
    own = {vm.get("cluster") for vm in batch}
    out = []
    for cluster in clusters:
        rules = [r for r in cluster.get("drs_rules") or [] if names.intersection(r.get("vms") or [])]
        if rules or cluster.get("name") in own:
            out.append({**cluster, "drs_rules": rules})
    return out


def planted(
    vms: list[dict[str, Any]], clusters: list[dict[str, Any]], seed: int = 7, share: float = 0.2
) -> None:
    """Give a synthetic estate (waves.synthetic, whose VMs are clean but for their disks' missing
    datastore) the facts every source policy looks for, on about `share` of its VMs, in place:
    the comparison is only worth something if every policy finds something."""
    rng = random.Random(seed)
    for vm in vms:
        vm.update(cbt_enabled=True, consolidation_needed=False, vtpm=False, passthrough_devices=0)
        for disk in vm["disks"]:
            disk.update(datastore="DS1", independent=False, rdm=None, sharing="sharingNone")
    for cluster in clusters[::2]:
        cluster.update(drs_enabled=True, dpm_enabled=rng.random() < 0.5)
    for vm in rng.sample(vms, int(len(vms) * share)):
        for plant in rng.sample(_PLANTS, rng.choice([1, 1, 2, 3])):
            plant(vm, rng)
    tied = rng.sample(vms, max(1, len(vms) // 50))
    clusters[0]["drs_rules"].append(
        {
            "name": "pin-to-licensed-hosts",
            "kind": "vm-host",
            "vms": [v["name"] for v in tied],
            "hosts": ["h1", "h2"],
        }
    )


def _disk(vm: dict[str, Any], rng: random.Random, **facts: Any) -> None:
    rng.choice(vm["disks"]).update(facts)


_PLANTS: list[Callable[[dict[str, Any], random.Random], None]] = [
    lambda vm, rng: vm.update(cbt_enabled=False),
    lambda vm, rng: vm.update(consolidation_needed=True),
    lambda vm, rng: vm.update(cpu_affinity=[0, 1], numa_affinity=rng.choice([None, "0"])),
    lambda vm, rng: vm.update(hostname=rng.choice([None, "", "localhost", "Localhost", 5])),
    lambda vm, rng: _disk(vm, rng, datastore=None),
    lambda vm, rng: vm.update(fault_tolerance=rng.choice(["running", "notConfigured", None])),
    lambda vm, rng: vm.update(cpu_hot_add=True, memory_hot_add=rng.random() < 0.5),
    lambda vm, rng: _disk(vm, rng, independent=True),
    lambda vm, rng: vm.update(name=vm["name"] + rng.choice([" (old)", "_x", "-" * 70])),
    lambda vm, rng: vm.update(ip_addresses=[], nics=[{"network": "n", "ip_addresses": []}]),
    lambda vm, rng: vm.update(passthrough_devices=rng.choice([1, 2])),
    lambda vm, rng: _disk(vm, rng, rdm=rng.choice(["physicalMode", {"lun": "naa.1", "mode": "virtual"}])),
    lambda vm, rng: _disk(vm, rng, sharing="sharingMultiWriter"),
    lambda vm, rng: vm.update(snapshot_count=rng.choice([1, 4])),
    lambda vm, rng: vm.update(sriov_nics=2),
    lambda vm, rng: vm.update(disks=[dict(vm["disks"][0]) for _ in range(rng.choice([28, 166]))]),
    lambda vm, rng: vm.update(
        guest_id=rng.choice(["otherGuest", "winXPProGuest", "", None, "freebsd12_64Guest"])
    ),
    lambda vm, rng: vm.update(usb_controllers=1),
    lambda vm, rng: vm.update(vtpm=True),
    lambda vm, rng: _disk(vm, rng, capacity_gb=rng.choice([0, -1])),
    lambda vm, rng: vm.update(power_state="poweredOff", cbt_enabled=False),
]
