"""Per-VM planning facts from the inventory record: metadata, size, placement, references.

Application, environment, tier and criticality come from custom attributes or tags whose key
(or tag category) matches the configured keys, case-insensitively; the source is kept so a
rationale can say where a value came from.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from waves.parameters import PlanParameters

NONPROD_VALUES = frozenset(
    {
        "dev",
        "development",
        "test",
        "testing",
        "qa",
        "uat",
        "staging",
        "stage",
        "sandbox",
        "lab",
        "demo",
        "int",
        "integration",
        "preprod",
        "pre-prod",
        "nonprod",
        "non-prod",
    }
)
CRITICAL_VALUES = frozenset({"high", "critical", "mission-critical", "tier-1", "tier1", "tier 1"})


@dataclass(slots=True)
class Facts:
    name: str
    moref: str
    app: str | None
    app_source: str | None
    env: str | None
    env_class: str  # "prod" | "nonprod"  (unknown counts as prod: the careful choice)
    tier: str | None
    critical: str | None  # why it is critical, or None
    vapp: str | None
    host: str | None
    cluster: str | None
    vcpu: int
    memory_mb: int
    disks: int
    storage_gb: float
    replicate_gb: float  # committed (used) space where known: what replication moves
    powered_on: bool
    template: bool
    hostname: str | None
    ips: list[str]  # the VM's own addresses: primary and those on its virtual NICs
    annotation: str
    concerns: list[str] = field(default_factory=list)  # inventory facts that raise risk
    # Addresses on guest interfaces that are not a virtual NIC (docker bridges, NSX router
    # ports): a flow to one is still this VM's, but they are no address to open a firewall for.
    guest_only_ips: list[str] = field(default_factory=list)
    owner: str | None = None
    # Where each business fact came from (app, env, tier, criticality, owner): a vCenter custom
    # attribute or tag, or the CMDB import (column and file). Absent: nobody stated it.
    sources: dict[str, str] = field(default_factory=dict)
    vcenter: str | None = None  # the estate's name of its vCenter (multi-vCenter estates)


def _lookup(vm: dict[str, Any], keys: Iterable[str]) -> tuple[str | None, str | None]:
    wanted = {k.lower() for k in keys}
    for key, value in sorted((vm.get("custom_fields") or {}).items()):
        if key.lower() in wanted and str(value).strip():
            return str(value).strip(), f"custom attribute {key}"
    for tag in vm.get("tags") or []:
        category, _, value = str(tag).partition(":")
        if category.lower() in wanted and value.strip():
            return value.strip(), f"tag {tag}"
    return None, None


OWNER_KEYS = ("owner", "owned_by")
# business fact -> the CMDB field that may state it (app_source etc. name the one that did)
CMDB_FIELDS = {"app": "application", "env": "environment", "criticality": "criticality", "owner": "owner"}


def lookup(vm: dict[str, Any], keys: Iterable[str]) -> tuple[str | None, str | None]:
    """A business fact stated in vCenter (custom attribute or tag) and where it was stated."""
    return _lookup(vm, keys)


def _business(vm: dict[str, Any], params: PlanParameters) -> dict[str, tuple[str | None, str | None]]:
    """Each business fact with its provenance. What vCenter states is kept; the CMDB fills the
    gaps (docs/drift.md: a stated inventory fact is never overridden; disagreements are drift)."""
    keys = {
        "app": params.app_keys,
        "env": params.env_keys,
        "tier": params.tier_keys,
        "criticality": params.criticality_keys,
        "owner": OWNER_KEYS,
    }
    found = {fact: _lookup(vm, k) for fact, k in keys.items()}
    ci = vm.get("cmdb") or {}
    for fact, cmdb_field in CMDB_FIELDS.items():
        value = ci.get(cmdb_field)
        if found[fact][0] is None and value:
            column = (ci.get("columns") or {}).get(cmdb_field, cmdb_field)
            found[fact] = (str(value), f"CMDB {column} ({ci.get('origin', 'import')})")
    return found


def _critical(value: str | None, source: str | None) -> str | None:
    """Why the VM counts as critical: a known word, or ServiceNow's "1 - most critical"."""
    if not value:
        return None
    text = value.strip().lower()
    return f"{source}={value}" if text in CRITICAL_VALUES or text.startswith("1 - ") else None


def facts_of(vm: dict[str, Any], params: PlanParameters) -> Facts:
    business = _business(vm, params)
    app, app_source = business["app"]
    env, _ = business["env"]
    tier, _ = business["tier"]
    crit, crit_source = business["criticality"]
    disks = vm.get("disks") or []
    storage = float(sum(d.get("capacity_gb") or 0 for d in disks))
    committed = vm.get("committed_gb")
    ips, guest_only = vm_addresses(vm)
    return Facts(
        name=vm["name"],
        moref=vm.get("moref") or "",
        app=app,
        app_source=app_source,
        env=env,
        env_class="nonprod" if env and env.lower() in NONPROD_VALUES else "prod",
        tier=tier,
        critical=_critical(crit, crit_source),
        vapp=vm.get("vapp"),
        host=vm.get("host"),
        cluster=vm.get("cluster"),
        vcpu=int(vm.get("num_cpu") or 0),
        memory_mb=int(vm.get("memory_mb") or 0),
        disks=len(disks),
        storage_gb=round(storage, 2),
        replicate_gb=round(float(committed), 2) if committed else round(storage, 2),
        powered_on=vm.get("power_state") == "poweredOn",
        template=bool(vm.get("template")),
        hostname=vm.get("hostname"),
        ips=ips,
        guest_only_ips=guest_only,
        annotation=vm.get("annotation") or "",
        concerns=_concerns(vm),
        owner=business["owner"][0],
        sources={fact: source for fact, (_v, source) in business.items() if source},
        vcenter=vm.get("vcenter"),
    )


def vm_addresses(vm: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(the primary address and those on virtual NICs, addresses only on other guest interfaces)."""
    other = [ip for iface in vm.get("guest_interfaces") or [] for ip in iface.get("ip_addresses") or []]
    on_nics = [ip for nic in vm.get("nics") or [] for ip in nic.get("ip_addresses") or []]
    ips: list[str] = []
    for ip in [*(vm.get("ip_addresses") or []), *on_nics]:
        if ip not in ips and (ip not in other or ip in on_nics):
            ips.append(ip)
    guest_only: list[str] = []
    for ip in other:
        if ip not in ips and ip not in guest_only:
            guest_only.append(ip)
    return ips, guest_only


def _concerns(vm: dict[str, Any]) -> list[str]:
    found = []
    if vm.get("snapshot_count"):
        found.append(f"{vm['snapshot_count']} snapshot(s)")
    disks = vm.get("disks") or []
    if any(d.get("independent") for d in disks):
        found.append("independent disk(s)")
    if any(d.get("rdm") for d in disks):
        found.append("RDM disk(s)")
    if any(d.get("sharing") == "sharingMultiWriter" for d in disks):
        found.append("shared disk(s)")
    if vm.get("passthrough_devices"):
        found.append("PCI passthrough")
    if vm.get("fault_tolerance") not in (None, "notConfigured"):
        found.append("fault tolerance")
    unknown = [
        label for key, label in (("num_cpu", "vCPU count"), ("memory_mb", "memory")) if vm.get(key) is None
    ]
    if unknown:
        found.append(f"size unknown ({' and '.join(unknown)} empty in the inventory)")
    if any(d.get("synthetic") for d in disks):
        found.append("disk layout unknown (one disk of the provisioned storage assumed)")
    return found


# -- references in free text ----------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Reference:
    source: str  # the VM whose text mentions the other
    target: str
    relation: str  # "depends" (source needs target) | "peer" (they belong together)
    phrase: str  # the words that say so, for the rationale
    confidence: float


class ReferenceInterpreter(Protocol):
    """Turns a VM's free text into references to other VMs. The deterministic one is below; the
    LLM interpreter of the agent issue plugs in here with the same signature."""

    def references(self, vm: str, text: str, names: NameIndex) -> list[Reference]: ...


class NameIndex:
    """Resolves a word to a VM by name, host name or short host name (case-insensitive)."""

    def __init__(self, facts: Iterable[Facts]) -> None:
        self._by_key: dict[str, str | None] = {}
        for f in facts:
            keys = {f.name.lower()}
            if f.hostname:
                keys |= {f.hostname.lower(), f.hostname.lower().split(".")[0]}
            for key in keys:
                # an ambiguous key resolves to nothing rather than to a guess
                self._by_key[key] = f.name if self._by_key.get(key, f.name) == f.name else None

    def resolve(self, word: str) -> str | None:
        return self._by_key.get(word.lower().strip(".,;:()[]'\"`"))


_DEPENDS = re.compile(
    r"\b(depends on|depend on|requires|uses|talks to|connects to|calls|backend|database|db)\b"
    r"[:\s]+(.{1,200})",
    re.IGNORECASE,
)
_PEER = re.compile(
    r"\b(replica(?: of)?|primary(?: of)?|standby(?: of)?|mirror(?:ed)? (?:of|with)|clustered with|"
    r"partner)\b[:\s]+(.{1,200})",
    re.IGNORECASE,
)
_WORD = re.compile(r"[^\s,;/]+")


class PatternInterpreter:
    """Finds 'Depends on X', 'Replica: Y' style phrases and resolves the words that follow."""

    def references(self, vm: str, text: str, names: NameIndex) -> list[Reference]:
        found: dict[tuple[str, str], Reference] = {}
        for pattern, relation, confidence in ((_DEPENDS, "depends", 0.6), (_PEER, "peer", 0.6)):
            for match in pattern.finditer(text[:4096]):
                tail = match.group(2).split("\n")[0].split(".  ")[0]
                for word in _WORD.findall(tail)[:8]:
                    target = names.resolve(word)
                    if target and target != vm and (relation, target) not in found:
                        phrase = f"{match.group(1)} {word.strip('.,;:()')}"
                        found[(relation, target)] = Reference(vm, target, relation, phrase, confidence)
        return sorted(found.values(), key=lambda r: (r.relation, r.target))
