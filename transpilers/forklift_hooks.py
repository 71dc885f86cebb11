"""Forklift hooks for the runbook steps a hook can run (docs/handoff.md, "Hooks").

The runbook's verification step checks that every TCP port a VM's clients were observed using
answers on the moved VM. When the Plan starts the VMs itself (targetPowerState `auto`, i.e. a
run strategy other than Halted) and the VM runs at the source, Forklift can run that check as a
PostHook: a `Hook` per VM whose Ansible playbook waits for the VirtualMachineInstance to report an
address, then for each port. With Halted VMs the runbook starts them servers first by hand, so a
PostHook would wait for a VM nobody started: no hook then, and REPORT.md says why.

The playbook is data: it is built as Python lists and dicts and written by yaml.safe_dump, then
base64-encoded, never assembled from strings. Ansible also evaluates `{{ }}` templates in every
string of a playbook, so YAML escaping alone would not keep text inert: the playbook holds only
values migrator made (the DNS-1123 VM name it chose, the namespace option after a check, port
numbers), never inventory text such as the source VM's name, which goes into the Hook's
annotations instead (plain Kubernetes data, never evaluated).
"""

from __future__ import annotations

import base64
import re
from typing import Any

import yaml

from migrator.diagnostics import Diagnostic
from transpilers.escape import one_line
from transpilers.model import TargetOptions, VMInput, WaveInput

API = "forklift.konveyor.io/v1beta1"
STEP = "PostHook"
# What Forklift's own tools default to (kubectl-mtv `create hook --image`); untagged, so the
# IAC-NO-LATEST-IMAGES guardrail asks for a pin: --hook-image registry/hook-runner:TAG.
DEFAULT_IMAGE = "quay.io/kubev2v/hook-runner"
DEADLINE_SECONDS = 1800  # the hook Job's deadline: boot, address, and every port
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")


def tcp_ports(wave: WaveInput, vm: VMInput) -> list[int]:
    """The TCP ports the VM's clients were observed using (the runbook's verification)."""
    ports = {p for t in wave.traffic if t.server == vm.name for p in t.ports}
    numbers = {int(n) for p in ports for proto, _, n in [p.partition("/")] if proto == "tcp" and n.isdigit()}
    return sorted(n for n in numbers if 0 < n < 65536)


def hook_name(wave: WaveInput, target_name: str) -> str:
    return f"wave-{wave.number:02d}-{target_name}-verify"


def playbook(target_name: str, namespace: str, ports: list[int]) -> str:
    """The Ansible playbook (YAML text): wait for the VMI's address, then for every port."""
    address = "(vmi.resources[0].status.interfaces | selectattr('ipAddress', 'defined') | first).ipAddress"
    ready = (
        "vmi.resources | length > 0 and (vmi.resources[0].status.interfaces | default([]) "
        "| selectattr('ipAddress', 'defined') | list | length > 0)"
    )
    play = {
        "name": f"migrator: verify the observed ports of {target_name}",
        "hosts": "localhost",
        "gather_facts": False,
        "vars": {"vm_name": target_name, "vm_namespace": namespace, "tcp_ports": ports},
        "tasks": [
            {
                "name": "Wait for the VirtualMachineInstance to report an address",
                "kubernetes.core.k8s_info": {
                    "api_version": "kubevirt.io/v1",
                    "kind": "VirtualMachineInstance",
                    "name": "{{ vm_name }}",
                    "namespace": "{{ vm_namespace }}",
                },
                "register": "vmi",
                "until": ready,
                "retries": 60,
                "delay": 10,
            },
            {
                "name": "Every port the VM's clients were observed using is listening",
                "ansible.builtin.wait_for": {
                    "host": "{{ " + address + " }}",
                    "port": "{{ item }}",
                    "timeout": 300,
                },
                "loop": "{{ tcp_ports }}",
            },
        ],
    }
    text: str = yaml.safe_dump([play], sort_keys=False, width=1000)
    return text


def hook(
    wave: WaveInput, vm: VMInput, target_name: str, ports: list[int], options: TargetOptions
) -> dict[str, Any]:
    spec: dict[str, Any] = {"image": options.hook_image or DEFAULT_IMAGE}
    if options.hook_service_account:
        spec["serviceAccount"] = options.hook_service_account
    spec["deadline"] = DEADLINE_SECONDS
    spec["playbook"] = base64.b64encode(playbook(target_name, options.namespace, ports).encode()).decode(
        "ascii"
    )
    meta = {
        "name": hook_name(wave, target_name),
        "namespace": options.namespace,
        "labels": {"migration-wave": str(wave.number)},
        "annotations": {
            "migrator.io/source-name": one_line(vm.name),
            "migrator.io/runbook-step": "Verify: the observed ports answering",
            "migrator.io/ports": ", ".join(f"tcp/{p}" for p in ports),
        },
    }
    return {"apiVersion": API, "kind": "Hook", "metadata": meta, "spec": spec}


def wave_hooks(
    wave: WaveInput, placed: list[VMInput], names: dict[str, str], options: TargetOptions
) -> tuple[list[dict[str, Any]], dict[str, str], list[Diagnostic]]:
    """The wave's Hooks (one per VM that needs one), VM name -> its Hook's name, and REPORT.md's
    note on what got none."""
    checked = [(vm, tcp_ports(wave, vm)) for vm in placed]
    checked = [(vm, ports) for vm, ports in checked if ports]
    if not checked:
        return [], {}, []
    why_none = _why_no_hooks(options)
    if why_none:
        return [], {}, [_note(wave, "info", why_none)]
    docs: list[dict[str, Any]] = []
    by_vm: dict[str, str] = {}
    off: list[str] = []
    for vm, ports in checked:
        if not _DNS_LABEL.fullmatch(names[vm.name]):
            continue  # never reached: the transpiler's names are DNS-1123 labels; kept out of Ansible
        if vm.record.get("power_state") != "poweredOn":
            off.append(one_line(vm.name, 60))  # Forklift leaves it off too (targetPowerState auto)
            continue
        docs.append(hook(wave, vm, names[vm.name], ports, options))
        by_vm[vm.name] = docs[-1]["metadata"]["name"]
    notes = []
    if off:
        notes.append(
            _note(
                wave,
                "info",
                f"no port-check hook for {', '.join(off)}: off at the source, so Forklift leaves it off",
            )
        )
    return docs, by_vm, notes


def _why_no_hooks(options: TargetOptions) -> str | None:
    if options.run_strategy == "Halted":
        return (
            "no Forklift hooks: the Plan leaves the VMs off (--run-strategy Halted), so the runbook starts "
            "them servers first and checks their ports; with another run strategy a PostHook per VM "
            "checks them"
        )
    if not _DNS_LABEL.fullmatch(options.namespace):
        return f"no Forklift hooks: namespace {one_line(options.namespace, 80)} is not a DNS-1123 label"
    return None


def _note(wave: WaveInput, severity: str, message: str) -> Diagnostic:
    return Diagnostic(
        "transpiler",
        "FORKLIFT-HOOKS",
        severity,
        "forklift-plan.yaml",
        None,
        message,
        f"Plan/wave-{wave.number:02d}",
    )


def plan_hooks(name: str | None, options: TargetOptions) -> list[dict[str, Any]]:
    """A Plan VM's `hooks` entry for its Hook (none: no entry)."""
    if name is None:
        return []
    return [{"hook": {"name": name, "namespace": options.namespace}, "step": STEP}]
