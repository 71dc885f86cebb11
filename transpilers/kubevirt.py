"""kubevirt: one folder per wave of Kubernetes manifests (docs/transpilers.md has the mapping).

networks.yaml holds a Multus NetworkAttachmentDefinition (bridge CNI) per source VLAN; each VM
gets a file with a CDI DataVolume per disk importing from vCenter over VDDK and the KubeVirt
VirtualMachine that boots from them. YAML is produced by the emitter from plain data, so
inventory text can only ever be a quoted scalar.
"""

from __future__ import annotations

import json
import math
from typing import Any

import yaml

from migrator.diagnostics import Diagnostic
from transpilers import forklift
from transpilers.base import OptionSpec, Rendered, TranspilerMeta, header
from transpilers.escape import label_value, one_line
from transpilers.guest import DiskPlan, disk_plan
from transpilers.model import NetworkInput, SpreadSet, TargetOptions, VMInput, WaveInput
from transpilers.naming import dns_names, dns_slug

HEADER = f"# {header('kubevirt')}\n"
LABEL_PREFIX = "migrator.io"
# The kinds this transpiler writes, with their apiVersions; the validator ships a schema for each
# and never lets a missing schema for one of them pass as a warning (docs/validate.md).
API_VERSIONS = {
    "NetworkAttachmentDefinition": "k8s.cni.cncf.io/v1",
    "DataVolume": "cdi.kubevirt.io/v1beta1",
    "VirtualMachine": "kubevirt.io/v1",
    **{kind: forklift.API for kind in forklift.KINDS},
    "ConfigMap": "v1",  # the Forklift plan's source facts
}
DISK_SUFFIX_ROOM = len("-disk-99")


# libyaml's emitter writes what PyYAML's pure-Python one does, four times faster, except that it
# escapes characters beyond the Basic Multilingual Plane (emoji) where PyYAML writes them as they
# are: those documents keep the Python emitter, so the output never depends on which one ran
# (tests/test_known_parse.py compares the two).
_FAST_DUMPER = getattr(yaml, "CSafeDumper", None)


def _dump(docs: list[dict[str, Any]], dumper: type[yaml.SafeDumper] | None = None) -> str:
    body = "---\n".join(
        yaml.dump(
            d,
            Dumper=dumper or (_FAST_DUMPER if _FAST_DUMPER and _basic_plane(d) else yaml.SafeDumper),
            sort_keys=False,
            allow_unicode=True,
            width=120,
        )
        for d in docs
    )
    return HEADER + body


def _basic_plane(value: Any) -> bool:
    """No text in the value has a character beyond U+FFFF."""
    if isinstance(value, str):
        return value.isascii() or max(value) <= "\uffff"
    if isinstance(value, dict):
        return all(_basic_plane(k) and _basic_plane(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_basic_plane(v) for v in value)
    return True


def spread_label(s: SpreadSet) -> str:
    """One label key per set, so a VM can be in several sets: spread.migrator.io/<slug>."""
    return f"spread.{LABEL_PREFIX}/{dns_slug(s.id, 63)}"


class KubeVirt:
    meta = TranspilerMeta(
        id="kubevirt",
        target="KubeVirt on Kubernetes (kubevirt.io/v1 by Forklift v1beta1 or CDI v1beta1, Multus)",
        version="2",
        language="kubernetes",
        estate_files=(forklift.PROVIDERS_FILE,),
        description="Forklift Plans (default) or VirtualMachines with DataVolumes importing over VDDK; "
        "Multus bridge networks",
        sizing="kubevirt",
        options=(
            OptionSpec("namespace", str, "vm-migration", "namespace of the manifests."),
            OptionSpec("run_strategy", str, "Halted", "runStrategy (Halted until cutover)."),
            OptionSpec("storage_class", str, None, "storage class of the DataVolumes."),
            OptionSpec("vddk_url", str, None, "vCenter SDK URL the import reads from."),
            OptionSpec("vddk_thumbprint", str, None, "SHA-1 thumbprint of vCenter's certificate."),
            OptionSpec(
                "vddk_secret",
                str,
                "vcenter-credentials",
                "name of the Secret with vCenter credentials (referenced, never written).",
            ),
            OptionSpec("vddk_init_image", str, None, "VDDK init image (default: CDI's cluster setting)."),
            OptionSpec(
                "executor",
                str,
                "forklift",
                "who moves the VMs: forklift (Forklift Plan, virt-v2v conversion) or cdi "
                "(DataVolumes importing over VDDK); docs/handoff.md.",
            ),
            OptionSpec(
                "hook_image",
                str,
                None,
                "image of the Forklift hooks that check a started VM's ports (default "
                "quay.io/kubev2v/hook-runner; pin a tag).",
            ),
            OptionSpec(
                "hook_service_account",
                str,
                None,
                "service account the Forklift hooks run as (needs get/list on VirtualMachineInstances).",
            ),
            OptionSpec(
                "virtio_drivers",
                bool,
                False,
                "every guest already has virtio drivers (boot disks on virtio; docs/plan.md).",
            ),
        ),
    )

    def estate_files(self, options: TargetOptions) -> dict[str, str]:
        """Files for the whole estate, beside the wave folders: the Forklift Provider pair."""
        if options.executor != "forklift":
            return {}
        return {forklift.PROVIDERS_FILE: _dump(forklift.providers(options))}

    def render(self, wave: WaveInput, options: TargetOptions) -> Rendered:
        notes: list[Diagnostic] = []
        placed = [vm for vm in wave.vms if vm.name not in wave.blocked]
        names = dns_names((vm.name for vm in placed), 63 - DISK_SUFFIX_ROOM)
        # A NIC a plan edit maps to a network of the cluster's needs no NAD for its source network.
        used_networks = sorted({n["network"] for vm in placed for n in vm.nics if not vm.changes.network(n)})
        nad_names = dns_names(used_networks)
        files: dict[str, str] = {}
        documents: dict[str, list[dict[str, Any]]] = {}
        if used_networks:
            documents["networks.yaml"] = [
                _nad(wave.networks.get(n) or NetworkInput(n, None), nad_names[n], options)
                for n in used_networks
            ]
            files["networks.yaml"] = _dump(documents["networks.yaml"])
        notes += [
            _nsx_note(wave.networks[n], nad_names[n], options) for n in used_networks if _is_nsx(wave, n)
        ]
        if options.executor == "forklift":
            notes += _forklift(wave, placed, options, forklift.Choices(names, nad_names), files, documents)
            return Rendered(files, notes, documents=documents)
        notes += _vddk_notes(options, ("url", "thumbprint"))
        for vm in placed:
            name = names[vm.name]
            disks = _edited_plan(vm, disk_plan(vm.record, options.virtio_drivers))
            notes.append(_bus_note(vm, name, disks))
            spread = [
                s for s in wave.spread if vm.name in s.vms and sum(m not in wave.blocked for m in s.vms) >= 2
            ]
            docs = [
                _datavolume(vm, name, i, disk, options) for i, disk in enumerate(vm.record.get("disks") or [])
            ]
            docs.append(_virtual_machine(wave, vm, name, nad_names, spread, options, disks))
            files[f"vm-{name}.yaml"] = _dump(docs)
            documents[f"vm-{name}.yaml"] = docs
        return Rendered(files, notes, documents=documents)


def _vddk_notes(options: TargetOptions, needed: tuple[str, ...]) -> list[Diagnostic]:
    """A vCenter setting the import reads that was not given (the thumbprint only CDI needs:
    Forklift reads it from the provider's Secret)."""
    given = {"url": options.vddk_url, "thumbprint": options.vddk_thumbprint}
    missing = next((key for key in needed if given[key] is None), None)
    if missing is None:
        return []
    return [
        Diagnostic(
            "transpiler",
            "KV-VDDK-SETTING-MISSING",
            "warning",
            "",
            None,
            f"no vCenter {missing} for the VDDK import given (--vddk-{missing}); "
            + (
                "the DataVolumes leave it out and will not import until it is set"
                if options.executor == "cdi"
                else "the vSphere Provider leaves it out and Forklift cannot connect until it is set"
            ),
        )
    ]


def _forklift(
    wave: WaveInput,
    placed: list[VMInput],
    options: TargetOptions,
    choices: forklift.Choices,
    files: dict[str, str],
    documents: dict[str, list[dict[str, Any]]],
) -> list[Diagnostic]:
    """Forklift moves the VMs: its CRs instead of migrator's DataVolumes and VirtualMachines
    (Forklift creates both, after virt-v2v has converted the guest); the NADs stay, the
    NetworkMap points at them."""
    docs, notes = forklift.wave_documents(wave, placed, options, choices)
    # The Migration apart: applying it starts the copy, so it waits for the window (the runbook).
    for name, part in ((forklift.PLAN_FILE, docs[:-1]), (forklift.MIGRATION_FILE, docs[-1:])):
        documents[name] = part
        files[name] = _dump(part)
    return _vddk_notes(options, ("url",)) + notes


def _edited_plan(vm: VMInput, plan: DiskPlan) -> DiskPlan:
    """The boot bus and NIC model a plan edit chose, said so in REPORT.md's line for the VM."""
    changes = vm.changes
    if changes.boot_bus is None and changes.nic_model is None:
        return plan
    boot = changes.boot_bus or plan.boot_bus
    nic = changes.nic_model or plan.nic_model
    why = f"{plan.why}; plan edit: boot disk on {boot}" + (f", NICs {nic}" if changes.nic_model else "")
    return DiskPlan(plan.family, boot, plan.data_bus, why, nic)


def _nad(net: NetworkInput, name: str, options: TargetOptions) -> dict[str, Any]:
    config: dict[str, Any] = {"cniVersion": "0.3.1", "name": name, "type": "bridge", "bridge": options.bridge}
    if net.vlan is not None:
        config["vlan"] = net.vlan
    if net.vlan_trunk:
        config["vlanTrunk"] = [{"minID": a, "maxID": b} for a, b in net.vlan_trunk]
    config["ipam"] = {}
    return {
        "apiVersion": API_VERSIONS["NetworkAttachmentDefinition"],
        "kind": "NetworkAttachmentDefinition",
        "metadata": {
            "name": name,
            "namespace": options.namespace,
            "annotations": _nad_annotations(net),
        },
        "spec": {"config": json.dumps(config, sort_keys=True)},
    }


def _is_nsx(wave: WaveInput, network: str) -> bool:
    net = wave.networks.get(network)
    return net is not None and net.nsx


def _nsx_note(net: NetworkInput, nad: str, options: TargetOptions) -> Diagnostic:
    return Diagnostic(
        "transpiler",
        "KV-NSX-SEGMENT",
        "warning",
        "networks.yaml",
        None,
        f"source network {one_line(net.name)} is an {one_line(net.describe())}: it has no VLAN to "
        f"carry over, so its NetworkAttachmentDefinition bridges untagged on {options.bridge}; give the "
        "segment a VLAN or bridge on the cluster before cutover",
        f"NetworkAttachmentDefinition/{nad}",
    )


def _bus_note(vm: VMInput, name: str, disks: DiskPlan) -> Diagnostic:
    """What REPORT.md says per VM: the boot disk's bus and the guest conversion it implies."""
    return Diagnostic(
        "transpiler",
        "KV-GUEST-DISK-BUS",
        "info",
        f"vm-{name}.yaml",
        None,
        f"{one_line(vm.name)} ({disks.family}): {disks.why}",
        f"VirtualMachine/{name}",
    )


def _nad_annotations(net: NetworkInput) -> dict[str, str]:
    """Where the network came from. An NSX segment has no VLAN to carry over: the bridge is
    untagged until someone maps the segment (the note in REPORT.md says so)."""
    annotations = {f"{LABEL_PREFIX}/source-network": one_line(net.name)}
    if net.kind:
        annotations[f"{LABEL_PREFIX}/source-network-kind"] = net.kind
    if net.segment_id:
        annotations[f"{LABEL_PREFIX}/nsx-segment-id"] = one_line(net.segment_id)
    return annotations


def _labels(wave: WaveInput, vm: VMInput) -> dict[str, str]:
    labels = {"migration-wave": str(wave.number)}
    for key, value in (("app", vm.app), ("env", vm.env), ("tier", vm.tier), *vm.changes.tags):
        if value and label_value(value):
            labels[key] = label_value(value)
    return labels


def _datavolume(
    vm: VMInput, name: str, index: int, disk: dict[str, Any], options: TargetOptions
) -> dict[str, Any]:
    vddk: dict[str, Any] = {
        "backingFile": str(disk.get("file") or ""),
        "uuid": str(vm.record.get("bios_uuid") or ""),
        "secretRef": options.vddk_secret,
    }
    if options.vddk_url:
        vddk["url"] = options.vddk_url
    if options.vddk_thumbprint:
        vddk["thumbprint"] = options.vddk_thumbprint
    if options.vddk_init_image:
        vddk["initImageURL"] = options.vddk_init_image
    size = vm.changes.volume(disk.get("label")).size_gb or max(
        1, math.ceil(float(disk.get("capacity_gb") or 0))
    )
    storage: dict[str, Any] = {"resources": {"requests": {"storage": f"{size}Gi"}}}
    if vm.changes.storage_class or options.storage_class:
        storage["storageClassName"] = vm.changes.storage_class or options.storage_class
    return {
        "apiVersion": API_VERSIONS["DataVolume"],
        "kind": "DataVolume",
        "metadata": {
            "name": f"{name}-disk-{index}",
            "namespace": options.namespace,
            "labels": {f"{LABEL_PREFIX}/vm": name},
        },
        "spec": {"source": {"vddk": vddk}, "storage": storage},
    }


def _virtual_machine(
    wave: WaveInput,
    vm: VMInput,
    name: str,
    nad_names: dict[str, str],
    spread: list[SpreadSet],
    options: TargetOptions,
    bus: DiskPlan,
) -> dict[str, Any]:
    record = vm.record
    sizing = vm.sizing["kubevirt"]
    cores_per_socket = max(1, int(record.get("cores_per_socket") or 1))
    cores = int(sizing["cores"])
    if cores % cores_per_socket:
        cores_per_socket = 1
    efi = record.get("firmware") == "efi"
    secure = efi and bool(record.get("secure_boot"))
    firmware: dict[str, Any] = {"bootloader": {"efi": {"secureBoot": secure}} if efi else {"bios": {}}}
    if record.get("bios_uuid"):
        firmware["serial"] = str(record["bios_uuid"])
    domain: dict[str, Any] = {
        "cpu": {"sockets": cores // cores_per_socket, "cores": cores_per_socket, "threads": 1},
        "memory": {"guest": sizing["memory_guest"]},
        "resources": {"requests": {"cpu": sizing["cpu_request"], "memory": sizing["memory_request"]}},
        "firmware": firmware,
    }
    if secure:
        domain["features"] = {"smm": {"enabled": True}}
    disks = record.get("disks") or []
    nics = vm.nics
    domain["devices"] = {
        "disks": [
            {"name": f"disk-{i}", "disk": {"bus": bus.data_bus}}
            if i
            else {"name": "disk-0", "disk": {"bus": bus.boot_bus}, "bootOrder": 1}
            for i in range(len(disks))
        ],
        "interfaces": [
            {
                "name": f"nic-{i}",
                "bridge": {},
                **({"model": bus.nic_model} if bus.nic_model else {}),
                **({"macAddress": nic["mac"]} if nic.get("mac") else {}),
            }
            for i, nic in enumerate(nics)
        ],
    }
    labels = _labels(wave, vm)
    template_labels = {**labels, f"{LABEL_PREFIX}/vm": name, **{spread_label(s): "true" for s in spread}}
    spec: dict[str, Any] = {
        "domain": domain,
        "networks": [
            {"name": f"nic-{i}", "multus": {"networkName": vm.changes.network(n) or nad_names[n["network"]]}}
            for i, n in enumerate(nics)
        ],
        "volumes": [
            {"name": f"disk-{i}", "dataVolume": {"name": f"{name}-disk-{i}"}} for i in range(len(disks))
        ],
    }
    if spread:
        spec["affinity"] = {"podAntiAffinity": _anti_affinity(spread)}
    return {
        "apiVersion": API_VERSIONS["VirtualMachine"],
        "kind": "VirtualMachine",
        "metadata": {
            "name": name,
            "namespace": options.namespace,
            "labels": labels,
            "annotations": {
                f"{LABEL_PREFIX}/source-name": one_line(vm.name),
                f"{LABEL_PREFIX}/source-moref": one_line(str(record.get("moref") or "")),
                f"{LABEL_PREFIX}/source-instance-uuid": one_line(str(record.get("instance_uuid") or "")),
                f"{LABEL_PREFIX}/guest-id": one_line(str(record.get("guest_id") or "")),
                f"{LABEL_PREFIX}/guest-family": bus.family,
            },
        },
        "spec": {
            "runStrategy": options.run_strategy,
            "template": {"metadata": {"labels": template_labels}, "spec": spec},
        },
    }


def _anti_affinity(spread: list[SpreadSet]) -> dict[str, Any]:
    required, preferred = [], []
    for s in spread:
        term = {
            "labelSelector": {"matchLabels": {spread_label(s): "true"}},
            "topologyKey": "kubernetes.io/hostname",
        }
        if s.mandatory:
            required.append(term)
        else:
            preferred.append({"weight": 100, "podAffinityTerm": term})
    result: dict[str, Any] = {}
    if required:
        result["requiredDuringSchedulingIgnoredDuringExecution"] = required
    if preferred:
        result["preferredDuringSchedulingIgnoredDuringExecution"] = preferred
    return result
