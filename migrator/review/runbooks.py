"""Cutover and rollback runbooks for one wave and target, from the wave's facts.

The commands are written for a human to run in the change window; migrator never runs them.
Every name in a command is shell-quoted (shlex) and passed after `--` or as a `jq --arg`, so a
VM called `$(rm -rf /)` or `-off` is an argument, never code or an option. Order matters: on
the way out, clients stop before the servers they depend on and servers start first; the way
back is the reverse.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from graphlib import CycleError, TopologicalSorter
from typing import Any

import yaml

from transpilers.escape import one_line
from transpilers.forklift import MIGRATION_FILE, PLAN_FILE
from transpilers.model import WaveInput


@dataclass
class Step:
    title: str  # migrator's own text (Markdown)
    commands: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # Markdown lines under the commands


@dataclass(frozen=True)
class WaveView:
    """What the runbooks need to know about the wave, computed once."""

    wave: WaveInput
    folder: str  # the wave's folder inside the plans repository
    placed: list[str]  # VMs written (not blocked), servers first
    inbound: dict[str, list[str]]  # VM -> ports its clients use ("tcp/5432")
    outside_clients: dict[str, list[str]]  # VM -> clients outside the wave (VMs or ext:addresses)
    source_ips: dict[str, list[str]]
    # an estate's VMs: name -> (its vCenter, its name there); govc must ask that vCenter for that name
    source: dict[str, tuple[str, str]] = field(default_factory=dict)


def view(wave: WaveInput, folder: str) -> WaveView:
    members = {vm.name for vm in wave.vms if vm.name not in wave.blocked}
    inbound: dict[str, set[str]] = {}
    outside: dict[str, set[str]] = {}
    deps: dict[str, set[str]] = {vm: set() for vm in members}
    for t in wave.traffic:
        if t.server not in members:
            continue
        inbound.setdefault(t.server, set()).update(t.ports)
        if t.client in members:
            deps[t.client].add(t.server)  # a client starts after its server
        else:
            outside.setdefault(t.server, set()).add(t.client)
    return WaveView(
        wave=wave,
        folder=folder,
        placed=_servers_first(deps),
        inbound={vm: sorted(p, key=_port_key) for vm, p in inbound.items()},
        outside_clients={vm: sorted(c) for vm, c in outside.items()},
        source_ips={vm.name: list(vm.ips) for vm in wave.vms},
        source={
            vm.name: (str(vm.record["vcenter"]), str(vm.record.get("source_name") or vm.name))
            for vm in wave.vms
            if vm.record.get("vcenter")
        },
    )


def _port_key(port: str) -> tuple[str, int, str]:
    proto, _, number = port.partition("/")
    return (proto, int(number) if number.isdigit() else -1, number)


def _servers_first(deps: dict[str, set[str]]) -> list[str]:
    try:
        sorter = TopologicalSorter({vm: sorted(d) for vm, d in sorted(deps.items())})
        order: list[str] = []
        sorter.prepare()
        while sorter.is_active():
            ready = sorted(sorter.get_ready())
            order += ready
            sorter.done(*ready)
        return order
    except CycleError:  # mutual dependencies: any order needs the whole group up together
        return sorted(deps)


def q(text: str) -> str:
    """A shell word for any text, on one line: shlex quoting, or bash's $'...' when the text has
    newlines, control or invisible characters (written as escapes, so the name stays exact)."""
    if all(ch.isprintable() for ch in text):
        return shlex.quote(text)
    out = []
    for ch in text:
        if ch in "\\'":
            out.append("\\" + ch)
        elif ch.isprintable():
            out.append(ch)
        else:
            code = ord(ch)
            out.append(
                f"\\x{code:02x}" if code < 0x80 else f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"
            )
    return "$'" + "".join(out) + "'"


def _ports(v: WaveView, vm: str) -> list[tuple[str, str]]:
    out = []
    for port in v.inbound.get(vm, [])[:5]:
        proto, _, number = port.partition("/")
        if number.isdigit():
            out.append((proto, number))
    return out


def _nc(proto: str, host: str, port: str) -> str:
    return f"nc -vz{'u' if proto == 'udp' else ''} -w 5 {host} {port}"


def _govc_power(v: WaveView, vms: list[str], flag: str) -> list[str]:
    """govc power commands; in a multi-vCenter estate each names its vCenter's URL variable
    (GOVC_URL_<VCENTER>) and the VM's name in that vCenter (docs/scale.md)."""
    lines = []
    for vm in vms:
        if vm in v.source:
            vcenter, name = v.source[vm]
            lines.append(f'govc vm.power -u "${govc_url_env(vcenter)}" {flag} -- {q(name)}')
        else:
            lines.append(f"govc vm.power {flag} -- {q(vm)}")
    return lines


def govc_url_env(vcenter: str) -> str:
    """GOVC_URL_PROD_VC_01 for prod-vc-01: the variable holding that vCenter's govc URL."""
    return "GOVC_URL_" + re.sub(r"[^A-Z0-9]", "_", vcenter.upper())


def _source_checks(v: WaveView) -> list[str]:
    lines = []
    for vm in v.placed:
        ips = v.source_ips.get(vm) or []
        for proto, port in _ports(v, vm):
            if ips:
                lines.append(_nc(proto, q(ips[0]), port))
    return lines


def _repoint(v: WaveView, back: bool) -> Step:
    where = "the source addresses" if back else "the new addresses (from the verification step)"
    step = Step(
        "Point DNS records and load-balancer pools back to the source VMs"
        if back
        else "Repoint DNS records and load-balancer pools at the moved VMs"
    )
    for vm in v.placed:
        clients = v.outside_clients.get(vm)
        if not clients:
            continue
        ips = ", ".join(one_line(ip, 64) for ip in v.source_ips.get(vm) or ["unknown"])  # guest-reported
        step.commands.append(
            f"# {q(vm)} (source {ips}) has {len(clients)} client(s) outside this wave: use {where}"
        )
    if not step.commands:
        step.notes.append("No client outside this wave was observed; check for unobserved clients.")
    return step


# --- Terraform (terraform-aws) -------------------------------------------------------------


_INSTANCE_IDS = "$(terraform output -json instance_ids | jq -r '.[]')"


def _tf_expected(files: dict[str, str]) -> int:
    return sum(
        line.startswith('resource "')
        for name, text in files.items()
        if name.endswith(".tf")
        for line in text.splitlines()
    )


@dataclass(frozen=True)
class CloudCommands:
    """What one Terraform target's runbooks say in their own cloud's words; the order, the
    source VMs' power steps and the port checks are the same for every cloud."""

    name: str  # in "remove the wave's <name> resources"
    prepare_title: str
    prepare_note: str  # which variables to set, and where each VM's image comes from
    verify_title: str
    verify: Callable[[WaveView], list[str]]  # the cloud's status commands
    stop_title: str
    stop: Callable[[WaveView], list[str]]  # stop the new machines (in the wave's folder)
    destroy_note: str


def cloud_cutover(v: WaveView, files: dict[str, str], cloud: CloudCommands) -> list[Step]:
    plan_file = f"wave-{v.wave.number:02d}.tfplan"
    ip_of = "\"$(terraform output -json private_ips | jq -r --arg vm {vm} '.[$vm]')\""
    checks = [_nc(proto, ip_of.format(vm=q(vm)), port) for vm in v.placed for proto, port in _ports(v, vm)]
    return [
        Step(
            cloud.prepare_title,
            [f"cd {q(v.folder)}", "cp terraform.tfvars.example terraform.tfvars"],
            [cloud.prepare_note],
        ),
        Step(
            "Initialise and save the plan; review it",
            ["terraform init -input=false", f"terraform plan -input=false -out={plan_file}"],
            [f"Expect {_tf_expected(files)} resource(s) to add and nothing to change or destroy."],
        ),
        Step(
            "Stop the source VMs (clients before the servers they use), then take the final sync",
            _govc_power(v, list(reversed(v.placed)), "-s"),
        ),
        Step("Apply the saved plan", [f"terraform apply -input=false {plan_file}"]),
        Step(cloud.verify_title, ["terraform output -json private_ips", *cloud.verify(v), *checks]),
        _repoint(v, back=False),
    ]


def cloud_rollback(v: WaveView, cloud: CloudCommands) -> list[Step]:
    return [
        _repoint(v, back=True),
        Step(cloud.stop_title, [f"cd {q(v.folder)}", *cloud.stop(v)]),
        Step("Power the source VMs back on (servers first)", _govc_power(v, v.placed, "-on")),
        Step("Verify the source VMs serve again", _source_checks(v) or ["# no observed ports to check"]),
        Step(
            f"Only after the decision is final: remove the wave's {cloud.name} resources",
            [
                "terraform plan -destroy -input=false -out=destroy.tfplan",
                "terraform apply -input=false destroy.tfplan",
            ],
            [cloud.destroy_note],
        ),
    ]


AWS = CloudCommands(
    name="AWS",
    prepare_title="Before the window: fill in the variables and import each VM's disks as an AMI",
    prepare_note=(
        "Set `vpc_id`, `subnet_ids`, `kms_key_id` and `ami_ids` in `terraform.tfvars`; give each "
        "VM its imported image (AWS Application Migration Service or `aws ec2 import-image`) "
        "in `ami_overrides`."
    ),
    verify_title="Verify: instances healthy and the observed ports answering",
    verify=lambda v: [f"aws ec2 wait instance-status-ok --instance-ids {_INSTANCE_IDS}"],
    stop_title="Stop the new instances so only one copy serves",
    stop=lambda v: [f"aws ec2 stop-instances --instance-ids {_INSTANCE_IDS}"],
    destroy_note="Writes made on the new instances since cutover are lost unless copied back first.",
)


# --- KubeVirt -------------------------------------------------------------------------------


def kubevirt_objects(files: dict[str, str]) -> tuple[dict[str, str], dict[str, list[str]], str]:
    """(source VM -> VirtualMachine name, VirtualMachine -> DataVolumes, namespace) from the manifests."""
    vms: dict[str, str] = {}
    disks: dict[str, list[str]] = {}
    namespace = "default"
    for name in sorted(files):
        if not name.endswith(".yaml"):
            continue
        for doc in yaml.safe_load_all(files[name]):
            if not isinstance(doc, dict):
                continue
            meta: dict[str, Any] = doc.get("metadata") or {}
            namespace = str(meta.get("namespace") or namespace)
            if doc.get("kind") == "VirtualMachine":
                source = (meta.get("annotations") or {}).get("migrator.io/source-name", meta.get("name"))
                vms[str(source)] = str(meta.get("name"))
            elif doc.get("kind") == "DataVolume":
                owner = str((meta.get("labels") or {}).get("migrator.io/vm", ""))
                disks.setdefault(owner, []).append(str(meta.get("name")))
    return vms, disks, namespace


def kubevirt_cutover(v: WaveView, files: dict[str, str]) -> list[Step]:
    vms, disks, ns = kubevirt_objects(files)
    names = [(vm, vms[vm]) for vm in v.placed if vm in vms]
    manifests = sorted(n for n in files if n.startswith("vm-") and n.endswith(".yaml"))
    checks = [
        _nc(proto, q((v.source_ips.get(vm) or ["<address>"])[0]), port)
        for vm, _ in names
        for proto, port in _ports(v, vm)
    ]
    return [
        Step(
            "Before the window: the namespace, the vCenter credentials Secret and the networks",
            [
                f"cd {q(v.folder)}",
                f"kubectl get namespace {q(ns)}",
                f"kubectl -n {q(ns)} get secret vcenter-credentials",
                *(["kubectl apply -f networks.yaml"] if "networks.yaml" in files else []),
            ],
        ),
        Step(
            "Stop the source VMs (clients before the servers they use): the import reads powered-off disks",
            _govc_power(v, list(reversed(v.placed)), "-s"),
        ),
        Step(
            "Create the DataVolumes (the VDDK import starts) and the halted VirtualMachines",
            [f"kubectl apply -f {q(m)}" for m in manifests],
        ),
        Step(
            "Wait for every disk import",
            [
                f"kubectl -n {q(ns)} wait --for=condition=Ready --timeout=12h datavolume/{q(dv)}"
                for _, k8s in names
                for dv in disks.get(k8s, [])
            ],
        ),
        Step("Start the VMs (servers first)", [f"virtctl -n {q(ns)} start {q(k8s)}" for _, k8s in names]),
        Step(
            "Verify: VMIs ready and the observed ports answering",
            [
                *(
                    f"kubectl -n {q(ns)} wait --for=condition=Ready --timeout=15m vmi/{q(k8s)}"
                    for _, k8s in names
                ),
                *checks,
            ],
            ["Bridge networks keep the source VLAN and MAC: guests with static addresses keep them."],
        ),
        _repoint(v, back=False),
    ]


def kubevirt_rollback(v: WaveView, files: dict[str, str]) -> list[Step]:
    vms, _disks, ns = kubevirt_objects(files)
    names = [vms[vm] for vm in reversed(v.placed) if vm in vms]
    manifests = sorted(n for n in files if n.startswith("vm-") and n.endswith(".yaml"))
    return [
        Step("Stop the moved VMs (clients first)", [f"virtctl -n {q(ns)} stop {q(k8s)}" for k8s in names]),
        _repoint(v, back=True),
        Step("Power the source VMs back on (servers first)", _govc_power(v, v.placed, "-on")),
        Step("Verify the source VMs serve again", _source_checks(v) or ["# no observed ports to check"]),
        Step(
            "Only after the decision is final: delete the VirtualMachines and imported disks",
            [f"cd {q(v.folder)}", *(f"kubectl delete -f {q(m)}" for m in manifests)],
            ["The networks may be shared with other waves: leave `networks.yaml` in place."],
        ),
    ]


# --- Forklift (the kubevirt target's default executor) ----------------------------------------


def forklift_objects(files: dict[str, str]) -> tuple[dict[str, str], str, str, bool]:
    """(source VM -> VirtualMachine name Forklift creates, Plan name, namespace, warm) from the
    Plan and its source-facts ConfigMap (which names each moref's VM)."""
    docs = [d for d in yaml.safe_load_all(files.get(PLAN_FILE, "")) if isinstance(d, dict)]
    facts: dict[str, str] = next((d.get("data") or {} for d in docs if d.get("kind") == "ConfigMap"), {})
    by_id = {
        value: facts.get(key[: -len(".id")] + ".name", value)
        for key, value in facts.items()
        if key.endswith(".id")
    }
    for doc in docs:
        if doc.get("kind") == "Plan":
            meta: dict[str, Any] = doc.get("metadata") or {}
            spec: dict[str, Any] = doc.get("spec") or {}
            vms = {
                by_id.get(str(e.get("id")), str(e.get("name"))): str(e.get("targetName")) for e in spec["vms"]
            }
            return vms, str(meta.get("name")), str(meta.get("namespace") or "default"), bool(spec.get("warm"))
    return {}, "", "default", False


def forklift_hook_names(files: dict[str, str]) -> list[str]:
    """The Forklift Hooks of the wave (transpilers/forklift_hooks.py), in file order."""
    docs = yaml.safe_load_all(files.get(PLAN_FILE, ""))
    return [
        str((d.get("metadata") or {}).get("name"))
        for d in docs
        if isinstance(d, dict) and d.get("kind") == "Hook"
    ]


def _forklift_start(files: dict[str, str], ns: str, names: list[str]) -> Step:
    """Start the VMs servers first, unless the Plan has Forklift start them (targetPowerState
    other than off: `virtctl start` on a running VM fails)."""
    docs = yaml.safe_load_all(files.get(PLAN_FILE, ""))
    plan = next((d for d in docs if isinstance(d, dict) and d.get("kind") == "Plan"), {})
    if (plan.get("spec") or {}).get("targetPowerState", "off") == "off":
        return Step("Start the VMs (servers first)", [f"virtctl -n {q(ns)} start {q(k8s)}" for k8s in names])
    return Step(
        "The VMs start by themselves",
        notes=["The Plan's `targetPowerState` is `auto`: Forklift starts each VM that ran at the source."],
    )


def _hook_notes(files: dict[str, str], plan: str, ns: str) -> list[str]:
    hooks = forklift_hook_names(files)
    if not hooks:
        return []
    return [
        f"Forklift already ran these port checks as PostHooks ({', '.join(f'`{h}`' for h in hooks)}) before "
        f"marking each VM done: `kubectl -n {q(ns)} get plan/{q(plan)} -o yaml` shows each hook's result."
    ]


def forklift_cutover(v: WaveView, files: dict[str, str]) -> list[Step]:
    vms, plan, ns, warm = forklift_objects(files)
    names = [(vm, vms[vm]) for vm in v.placed if vm in vms]
    checks = [
        _nc(proto, q((v.source_ips.get(vm) or ["<address>"])[0]), port)
        for vm, _ in names
        for proto, port in _ports(v, vm)
    ]
    start = (
        "Start the warm migration ahead of the window: disks copy now, the VMs switch at the "
        "Migration's cutover"
        if warm
        else "At the window: start the cold migration (Forklift powers the source VMs off, copies and "
        "converts them)"
    )
    return [
        Step(
            "Before the window: the namespace, the providers, the networks and the Forklift plan",
            [
                f"cd {q(v.folder)}",
                f"kubectl get namespace {q(ns)}",
                f"kubectl -n {q(ns)} get provider vsphere-source host",
                *(["kubectl apply -f networks.yaml"] if "networks.yaml" in files else []),
                f"kubectl apply -f {PLAN_FILE}",
                f"kubectl -n {q(ns)} wait --for=condition=Ready --timeout=15m plan/{q(plan)}",
            ],
            [
                "The providers are estate-wide: `kubectl apply -f ../forklift-providers.yaml` once, "
                "with the Secret."
            ],
        ),
        Step(
            start,
            [
                f"kubectl apply -f {MIGRATION_FILE}",
                f"kubectl -n {q(ns)} wait --for=condition=Succeeded --timeout=24h plan/{q(plan)}",
            ],
        ),
        _forklift_start(files, ns, [k8s for _, k8s in names]),
        Step(
            "Verify: VMIs ready and the observed ports answering",
            [
                *(
                    f"kubectl -n {q(ns)} wait --for=condition=Ready --timeout=15m vmi/{q(k8s)}"
                    for _, k8s in names
                ),
                *checks,
            ],
            _hook_notes(files, plan, ns),
        ),
        _repoint(v, back=False),
    ]


def forklift_rollback(v: WaveView, files: dict[str, str]) -> list[Step]:
    vms, _plan, ns, _warm = forklift_objects(files)
    names = [vms[vm] for vm in reversed(v.placed) if vm in vms]
    return [
        Step("Stop the moved VMs (clients first)", [f"virtctl -n {q(ns)} stop {q(k8s)}" for k8s in names]),
        _repoint(v, back=True),
        Step("Power the source VMs back on (servers first)", _govc_power(v, v.placed, "-on")),
        Step("Verify the source VMs serve again", _source_checks(v) or ["# no observed ports to check"]),
        Step(
            "Only after the decision is final: delete the VMs Forklift created and the plan",
            [
                f"cd {q(v.folder)}",
                *(f"kubectl -n {q(ns)} delete vm {q(k8s)}" for k8s in names),
                f"kubectl delete -f {MIGRATION_FILE} -f {PLAN_FILE}",
            ],
            ["The networks may be shared with other waves: leave `networks.yaml` in place."],
        ),
    ]


def runbooks(
    target_language: str, v: WaveView, files: dict[str, str], cloud: str = "aws"
) -> tuple[list[Step], list[Step]]:
    if target_language == "terraform":
        commands = _cloud_commands(cloud)
        cutover, rollback = cloud_cutover(v, files, commands), cloud_rollback(v, commands)
    elif PLAN_FILE in files:
        cutover, rollback = forklift_cutover(v, files), forklift_rollback(v, files)
    else:
        cutover, rollback = kubevirt_cutover(v, files), kubevirt_rollback(v, files)
    return [*_window(v), *cutover], rollback


def _cloud_commands(cloud: str) -> CloudCommands:
    # the other clouds' modules import this one, so they are read when first asked for
    if cloud == "azure":
        from migrator.review.runbooks_azure import AZURE

        return AZURE
    if cloud == "gcp":
        from migrator.review.runbooks_google import GOOGLE

        return GOOGLE
    if cloud == "openstack":
        from migrator.review.runbooks_openstack import OPENSTACK

        return OPENSTACK
    return AWS


def _window(v: WaveView) -> list[Step]:
    """A first step naming the change window, when a plan edit set one (no window: no step)."""
    window = v.wave.cutover_window()
    if window is None:
        return []
    return [
        Step(
            f"Change window: {window} (plan edit).",
            notes=[
                "Start no step below before the window opens. If the cutover cannot finish inside it, "
                "stop and follow the rollback runbook."
            ],
        )
    ]
