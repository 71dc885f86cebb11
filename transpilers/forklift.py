"""Forklift (Migration Toolkit for Virtualization) hand-off for the kubevirt target (docs/handoff.md).

Per wave: a NetworkMap (each source portgroup or NSX segment to the Multus network the kubevirt
transpiler chose), a StorageMap (each datastore to a storage class, access and volume mode), a
Plan (the wave's VMs by moref and name) and a Migration that runs it. Once per estate: the
Provider pair (vSphere with the credentials Secret's *name*, the host cluster). Forklift then
copies the disks and converts each guest with virt-v2v, which is why the boot-bus and driver
caveats of migrator's own CDI path do not apply here.

Everything is plain data for the YAML emitter, so inventory text lands only as quoted scalars.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from migrator.diagnostics import Diagnostic
from transpilers import forklift_hooks
from transpilers.escape import one_line
from transpilers.model import TargetOptions, VMInput, WaveInput

API = "forklift.konveyor.io/v1beta1"
KINDS = ("Provider", "NetworkMap", "StorageMap", "Hook", "Plan", "Migration")  # and a core ConfigMap
PLAN_FILE, MIGRATION_FILE, PROVIDERS_FILE = (
    "forklift-plan.yaml",
    "forklift-migration.yaml",
    "forklift-providers.yaml",
)
SOURCE_PROVIDER = "vsphere-source"
HOST_PROVIDER = "host"
LABEL_PREFIX = "migrator.io"
# A storage class must be named for Forklift to create the disks; without --storage-class the map
# names this placeholder and REPORT.md says to replace it (as terraform.tfvars.example does).
STORAGE_PLACEHOLDER = "replace-with-storage-class"


def cutover_time(wave: WaveInput, scheduled: datetime | None = None) -> datetime | None:
    """When the wave cuts over: its cutover-window edit's start (a reviewer's decision) when it
    has one, else the schedule's time (given here or carried on the wave), else unknown."""
    if wave.cutover is not None:
        return wave.cutover[0]
    return scheduled or wave.scheduled_cutover


def rfc3339(moment: datetime) -> str:
    utc = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Choices:
    """What the kubevirt transpiler chose for the wave, so the maps point at the same objects."""

    names: dict[str, str]  # VM planning name -> Kubernetes name
    nad_names: dict[str, str]  # source network -> NetworkAttachmentDefinition name


def _meta(name: str, options: TargetOptions, wave: WaveInput | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": options.namespace}
    if wave is not None:
        meta["labels"] = {"migration-wave": str(wave.number)}
    return meta


def _ref(name: str, options: TargetOptions) -> dict[str, str]:
    return {"name": name, "namespace": options.namespace}


def _providers_ref(options: TargetOptions) -> dict[str, Any]:
    return {"source": _ref(SOURCE_PROVIDER, options), "destination": _ref(HOST_PROVIDER, options)}


def providers(options: TargetOptions) -> list[dict[str, Any]]:
    """The estate-level Provider pair. The vSphere one references the Secret by name only."""
    spec: dict[str, Any] = {"type": "vsphere", "secret": _ref(options.vddk_secret, options)}
    if options.vddk_url:
        spec["url"] = options.vddk_url
    settings = {"sdkEndpoint": "vcenter"}
    if options.vddk_init_image:
        settings["vddkInitImage"] = options.vddk_init_image
    spec["settings"] = settings
    source = {
        "apiVersion": API,
        "kind": "Provider",
        "metadata": _meta(SOURCE_PROVIDER, options),
        "spec": spec,
    }
    # The host cluster: Forklift reaches it with its own service account, so no URL and no Secret.
    host = {
        "apiVersion": API,
        "kind": "Provider",
        "metadata": _meta(HOST_PROVIDER, options),
        "spec": {"type": "openshift", "secret": {}},
    }
    return [source, host]


def warm_decision(placed: list[VMInput], options: TargetOptions) -> tuple[bool, str]:
    """Warm only when every VM has CBT known enabled and a VDDK image copies the changed blocks."""
    without = [vm.name for vm in placed if vm.record.get("cbt_enabled") is not True]
    if without:
        listed = ", ".join(one_line(n, 60) for n in without[:5]) + (" ..." if len(without) > 5 else "")
        return False, f"cold: CBT is not known enabled on {listed}"
    if not options.vddk_init_image:
        return (
            False,
            "cold: CBT is enabled on every VM, but warm copies need a VDDK image (--vddk-init-image)",
        )
    return True, "warm: CBT is enabled on every VM and a VDDK image is configured"


def transfer_path(options: TargetOptions) -> str:
    """How Forklift reads the disks (docs/handoff.md): VDDK only when an image is configured."""
    if options.vddk_init_image:
        return "VDDK (the configured init image)"
    return "vCenter's HTTPS file access (no VDDK image: slower, cold only; allow more replication time)"


def _network_map(
    wave: WaveInput, placed: list[VMInput], c: Choices, options: TargetOptions
) -> tuple[dict[str, Any], list[Diagnostic]]:
    chosen: dict[str, set[str]] = {}
    for vm in placed:
        for nic in vm.nics:
            chosen.setdefault(nic["network"], set()).add(
                vm.changes.network(nic) or c.nad_names[nic["network"]]
            )
    notes = []
    entries = []
    for network in sorted(chosen):
        targets = sorted(chosen[network])
        if len(targets) > 1:
            notes.append(_split_note("network", network, targets))
        source = network_ref(wave, network)
        destination = {"type": "multus", "name": targets[0], "namespace": options.namespace}
        entries.append({"source": source, "destination": destination})
    doc = {
        "apiVersion": API,
        "kind": "NetworkMap",
        "metadata": _meta(f"wave-{wave.number:02d}-networks", options, wave),
        "spec": {"provider": _providers_ref(options), "map": entries},
    }
    return doc, notes


def network_ref(wave: WaveInput, network: str) -> dict[str, str]:
    """How a map names a source network: by vCenter id when the inventory has it (names may
    repeat across datacenters and need not survive cleaning), else by its one-line name."""
    net = wave.networks.get(network)
    if net is not None and net.moref:
        return {"id": one_line(net.moref)}
    return {"name": one_line(network)}


def _split_note(what: str, source: str, targets: list[str]) -> Diagnostic:
    return Diagnostic(
        "transpiler",
        "FORKLIFT-MAP-SPLIT",
        "warning",
        PLAN_FILE,
        None,
        f"plan edits send {what} {one_line(source)} to {', '.join(targets)}; a Forklift map has one "
        f"destination per source, so the map uses {targets[0]}: move the other VMs in a separate plan",
    )


def _storage_map(
    wave: WaveInput, placed: list[VMInput], options: TargetOptions
) -> tuple[dict[str, Any], list[Diagnostic]]:
    classes: dict[str, set[str]] = {}
    shared: set[str] = set()
    for vm in placed:
        for disk in vm.record.get("disks") or []:
            datastore = str(disk.get("datastore") or "")
            if not datastore:
                continue
            chosen = vm.changes.storage_class or options.storage_class or STORAGE_PLACEHOLDER
            classes.setdefault(datastore, set()).add(chosen)
            if disk.get("sharing") == "sharingMultiWriter":
                shared.add(datastore)
    notes = []
    entries = []
    for datastore in sorted(classes):
        targets = sorted(classes[datastore])
        if len(targets) > 1:
            notes.append(_split_note("datastore", datastore, targets))
        # A multi-writer disk is attached to several VMs: its volume must be shareable.
        mode = ("ReadWriteMany", "Block") if datastore in shared else ("ReadWriteOnce", "Filesystem")
        entries.append(
            {
                "source": {"name": one_line(datastore)},
                "destination": {"storageClass": targets[0], "accessMode": mode[0], "volumeMode": mode[1]},
            }
        )
    doc = {
        "apiVersion": API,
        "kind": "StorageMap",
        "metadata": _meta(f"wave-{wave.number:02d}-storage", options, wave),
        "spec": {"provider": _providers_ref(options), "map": entries},
    }
    return doc, notes


def _source_facts(wave: WaveInput, placed: list[VMInput], options: TargetOptions) -> dict[str, Any]:
    """A ConfigMap of the wave's VMs with the networks and datastores they use, as the inventory
    has them: what the guardrails (policies/iac/forklift_*.rego) check the Plan and the maps
    against. Flat keys (`vm.<i>.network.<j>`), so no policy has to parse text."""
    data: dict[str, str] = {}
    for i, vm in enumerate(placed):
        data[f"vm.{i}.id"] = str(vm.record.get("moref") or "")
        data[f"vm.{i}.name"] = one_line(vm.name)
        refs = {next(iter(network_ref(wave, n["network"]).values())) for n in vm.nics}
        for j, network in enumerate(sorted(refs)):
            data[f"vm.{i}.network.{j}"] = network
        stores = {one_line(str(d["datastore"])) for d in vm.record.get("disks") or [] if d.get("datastore")}
        for k, datastore in enumerate(sorted(stores)):
            data[f"vm.{i}.datastore.{k}"] = datastore
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _meta(f"wave-{wave.number:02d}-source", options, wave),
        "data": data,
    }


def _plan_vm(vm: VMInput, c: Choices, hook: str | None, options: TargetOptions) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": str(vm.record.get("moref") or "")}
    name = str(vm.record.get("name") or vm.name)
    if name == one_line(name):  # Forklift matches the name verbatim; the moref alone is enough
        entry["name"] = name
    entry["targetName"] = c.names[vm.name]
    if hook is not None:
        entry["hooks"] = forklift_hooks.plan_hooks(hook, options)
    return entry


def _plan(
    wave: WaveInput,
    placed: list[VMInput],
    c: Choices,
    options: TargetOptions,
    warm: tuple[bool, str],
    hooks: dict[str, str],
) -> dict[str, Any]:
    prefix = f"wave-{wave.number:02d}"
    # Forklift keeps a static guest address only where the guest configures one (DHCP guests stay on
    # DHCP); the inventory knows addresses, not how they were set, so any known guest IP turns it on.
    static = any(vm.ips for vm in placed)
    spec: dict[str, Any] = {
        "description": one_line(f"migrator wave {wave.number}: {wave.name}"),
        "provider": _providers_ref(options),
        "map": {
            "network": _ref(f"{prefix}-networks", options),
            "storage": _ref(f"{prefix}-storage", options),
        },
        "targetNamespace": options.namespace,
        "warm": warm[0],
        "preserveStaticIPs": static,
        "targetPowerState": "off" if options.run_strategy == "Halted" else "auto",
        "vms": [_plan_vm(vm, c, hooks.get(vm.name), options) for vm in placed],
    }
    meta = _meta(prefix, options, wave)
    meta["annotations"] = {
        f"{LABEL_PREFIX}/migration-type": warm[1],
        f"{LABEL_PREFIX}/transfer-path": transfer_path(options),
        f"{LABEL_PREFIX}/source-facts": f"{prefix}-source",
    }
    return {"apiVersion": API, "kind": "Plan", "metadata": meta, "spec": spec}


def _migration(
    wave: WaveInput, options: TargetOptions, warm: bool, cutover: datetime | None
) -> dict[str, Any]:
    prefix = f"wave-{wave.number:02d}"
    meta = _meta(prefix, options, wave)
    spec: dict[str, Any] = {"plan": _ref(prefix, options)}
    if cutover is not None and warm:
        spec["cutover"] = rfc3339(cutover)  # the warm copy runs until then, then the VMs switch
    elif cutover is not None:
        # A cold Migration starts when it is created: apply it at this time (the runbook says so).
        meta["annotations"] = {f"{LABEL_PREFIX}/apply-at": rfc3339(cutover)}
    return {"apiVersion": API, "kind": "Migration", "metadata": meta, "spec": spec}


def wave_documents(
    wave: WaveInput,
    placed: list[VMInput],
    options: TargetOptions,
    choices: Choices,
    cutover: datetime | None = None,
) -> tuple[list[dict[str, Any]], list[Diagnostic]]:
    """The wave's source facts (a ConfigMap), NetworkMap, StorageMap, Hooks (transpilers/forklift_hooks.py),
    Plan and Migration, and the notes REPORT.md shows.

    `cutover` is the schedule's time for the wave; a cutover-window edit on the wave wins over it."""
    warm = warm_decision(placed, options)
    networks, notes = _network_map(wave, placed, choices, options)
    storage, more = _storage_map(wave, placed, options)
    notes += more
    notes += _several_vcenters(wave, placed)
    if STORAGE_PLACEHOLDER in json.dumps(storage):
        notes.append(
            Diagnostic(
                "transpiler",
                "FORKLIFT-STORAGE-CLASS",
                "warning",
                PLAN_FILE,
                None,
                f"no storage class given (--storage-class): the StorageMap names {STORAGE_PLACEHOLDER}; "
                "replace it before applying",
                f"StorageMap/wave-{wave.number:02d}-storage",
            )
        )
    notes += [_path_note(wave, vm, options, warm[0]) for vm in placed]
    hooks, by_vm, hook_notes = forklift_hooks.wave_hooks(wave, placed, choices.names, options)
    notes += hook_notes
    documents = [
        _source_facts(wave, placed, options),
        networks,
        storage,
        *hooks,  # before the Plan that references them: one `kubectl apply` creates both
        _plan(wave, placed, choices, options, warm, by_vm),
        _migration(wave, options, warm[0], cutover_time(wave, cutover)),
    ]
    return documents, notes


def _path_note(wave: WaveInput, vm: VMInput, options: TargetOptions, warm: bool) -> Diagnostic:
    """What REPORT.md says per VM: how Forklift will copy its disks."""
    return Diagnostic(
        "transpiler",
        "FORKLIFT-TRANSFER-PATH",
        "info",
        PLAN_FILE,
        None,
        f"{one_line(vm.name)}: {'warm' if warm else 'cold'} copy, disks read over {transfer_path(options)}; "
        "virt-v2v converts the guest (drivers, boot bus)",
        f"Plan/wave-{wave.number:02d}",
    )


def _several_vcenters(wave: WaveInput, placed: list[VMInput]) -> list[Diagnostic]:
    """A wave of a multi-vCenter estate with VMs from several vCenters: the Plan has one source
    Provider and names VMs by moref, which is unique only within one vCenter, so it could name
    the wrong VM. An error (the wave needs a human) until Plans are split per vCenter."""
    vcenters = sorted({str(vm.record["vcenter"]) for vm in placed if vm.record.get("vcenter")})
    if len(vcenters) < 2:
        return []
    return [
        Diagnostic(
            "transpiler",
            "FORKLIFT-SEVERAL-VCENTERS",
            "error",
            PLAN_FILE,
            None,
            f"the wave's VMs are in {len(vcenters)} vCenters ({one_line(', '.join(vcenters))[:200]}) but a "
            "Forklift Plan reads one source Provider: use --executor cdi for this wave, or pin its VMs "
            "so that each wave holds one vCenter's VMs (docs/scale.md)",
            f"Plan/wave-{wave.number:02d}",
        )
    ]
