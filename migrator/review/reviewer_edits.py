"""A reviewer's change to a generated wave, said as plan edits (docs/edits.md, "Reviewer edits").

Both trees are parsed (python-hcl2 for Terraform, PyYAML for manifests), resources are matched
by address (`aws_instance.crm_db_01`; `VirtualMachine/crm-db-01` for Kubernetes, the namespace
being an attribute) and each differing attribute is mapped to the edit that makes the generator
render it, where the vocabulary (waves/edits.py) has one. The generated tree says which VM and
disk a resource stands for (its Name tag, its source-name annotation, its disk index), checked
against the wave's plan model. What no edit says becomes a FreeEdit, recorded but never applied.
PLAN.md and REPORT.md are narrative, not code: changes there are not edits (so no cutover window is
read back), and the text shows an instance type, never a family (so no instance-family edit).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import hcl2
import yaml
from pydantic import ValidationError

from transpilers.escape import aws_tag_value
from transpilers.kubevirt import LABEL_PREFIX
from transpilers.model import VMInput, WaveInput
from transpilers.naming import tf_names
from transpilers.security_groups import tier_key
from transpilers.terraform_google import gce_label
from waves.edits import (
    CLOUD_TARGETS,
    RESERVED_TAGS,
    Edit,
    FreeEdit,
    Tags,
    free_value,
    parse_edit,
)

NARRATIVE = frozenset({"PLAN.md", "REPORT.md"})
MISSING = object()
_VOLUME_FIELDS = {"volume_type": "type", "type": "type", "volume_size": "size_gb", "size": "size_gb"}
_VOLUME_FIELDS |= {"iops": "iops", "throughput": "throughput"}
_GI = re.compile(r"^([0-9]+)Gi$")
_RULE = "aws_vpc_security_group_ingress_rule"
_DOMAIN = "spec.template.spec.domain."


Where = tuple[str, str, str, Any, Any]  # file, resource address, attribute path, old, new


@dataclass
class _Found:
    """Edits found so far; partial ones (one VM's tags, one disk's fields) merge before validation.
    Each remembers where it was read, so one the vocabulary refuses is a free edit right there."""

    target: str
    wave: int
    at: Where = ("", "", "", None, None)  # the attribute being read
    edits: list[Edit | FreeEdit] = field(default_factory=list)
    partial: dict[tuple[str, ...], dict[str, Any]] = field(default_factory=dict)  # key -> edit data
    where: dict[tuple[str, ...], list[Where]] = field(default_factory=dict)
    frees: list[Where] = field(default_factory=list)

    def free(self, file: str, address: str, path: str, old: Any, new: Any) -> None:
        self.frees.append((file, address, path, old, new))

    def add(self, key: tuple[str, ...], data: dict[str, Any], at: list[Where] | None = None) -> None:
        """Merge `data` into the edit under `key` (a volume's fields, a VM's tags, a single value)."""
        merged = self.partial.setdefault(key, {})
        for name, value in data.items():
            merged[name] = {**merged.get(name, {}), **value} if isinstance(value, dict) else value
        self.where.setdefault(key, []).extend(at if at is not None else [self.at])

    def result(self) -> list[Edit | FreeEdit]:
        for key, data in self.partial.items():
            try:
                self.edits.append(parse_edit(data))
            except ValidationError:  # outside the catalogue or the bounds: kept as it was written
                self.frees += self.where[key]
        self.edits += [
            FreeEdit(
                target=self.target,
                wave=self.wave,
                file=(f or "-")[:256],
                address=a[:512],
                path=p[:512],
                old=free_value(o),
                new=free_value(n),
            )
            for f, a, p, o, n in self.frees
        ]
        return self.edits


def extract_edits(
    target: str, wave: WaveInput, generated: Mapping[str, bytes | None], edited: Mapping[str, bytes | None]
) -> list[Edit | FreeEdit]:
    """The edits that turn the generated files into the edited ones, in a stable order."""
    found = _Found(target, wave.number)
    names = sorted(n for n in set(generated) | set(edited) if n not in NARRATIVE)
    changed = [n for n in names if generated.get(n) != edited.get(n)]
    if target == "terraform-aws":
        _terraform(found, wave, generated, edited, changed)
    elif target == "kubevirt":
        _kubevirt(found, wave, generated, edited, changed)
    elif target in CLOUDS:
        _cloud_terraform(found, CLOUDS[target], wave, (generated, edited), changed)
    else:
        for name in changed:
            found.free(name, "", "", _text(generated.get(name)), _text(edited.get(name)))
    return found.result()


def _text(data: bytes | None) -> str | None:
    return None if data is None else data.decode("utf-8", errors="replace")


def flatten(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted path, leaf) of a parsed document; an empty dict or list is a leaf."""
    if isinstance(value, dict) and value:
        for key, item in value.items():
            yield from flatten(item, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list) and value:
        for index, item in enumerate(value):
            yield from flatten(item, f"{prefix}.{index}" if prefix else str(index))
    else:
        yield prefix, value


def differences(old: Any, new: Any) -> list[tuple[str, Any, Any]]:
    """(path, old, new) for each leaf that differs; MISSING where a side lacks the path."""
    before, after = dict(flatten(old)), dict(flatten(new))
    return [
        (path, before.get(path, MISSING), after.get(path, MISSING))
        for path in sorted(set(before) | set(after), key=lambda p: (p.count("."), p))
        if before.get(path, MISSING) != after.get(path, MISSING)
    ]


def _shown(value: Any) -> Any:
    return None if value is MISSING else value


# --- Terraform for Azure, Google Cloud and OpenStack --------------------------------------------


@dataclass(frozen=True)
class _Cloud:
    """Where one cloud's Terraform says a VM's size, its disks' types and its tags."""

    name: str  # the `cloud` of vm-size and disk-type edits
    instances: tuple[str, ...]  # resource types of a VM
    size: str  # the instance's size attribute
    tags: str  # the instance's tags/labels/metadata map (source-moref, source-uuid)
    os_disk_type: str  # the instance's path to the OS disk's type
    disk: tuple[str, str, str]  # a data disk's resource type, ident suffix, type attribute
    tag_edits: bool  # whether a tag the reviewer adds reads as a `tags` edit (GCE labels are escaped)


CLOUDS = {
    CLOUD_TARGETS["azure"]: _Cloud(
        "azure",
        ("azurerm_linux_virtual_machine", "azurerm_windows_virtual_machine"),
        "size",
        "tags",
        "os_disk.storage_account_type",
        ("azurerm_managed_disk", "disk", "storage_account_type"),
        True,
    ),
    CLOUD_TARGETS["gcp"]: _Cloud(
        "gcp",
        ("google_compute_instance",),
        "machine_type",
        "labels",
        "boot_disk.initialize_params.type",
        ("google_compute_disk", "disk", "type"),
        False,
    ),
    CLOUD_TARGETS["openstack"]: _Cloud(
        "openstack",
        ("openstack_compute_instance_v2",),
        "flavor_name",
        "metadata",
        "block_device.volume_type",
        ("openstack_blockstorage_volume_v3", "vol", "volume_type"),
        True,
    ),
}


def _cloud_vms(cloud: _Cloud, wave: WaveInput, generated: dict[str, dict[str, Any]]) -> dict[str, VMInput]:
    """Terraform ident -> VM, by the source-moref and source-uuid the instance carries."""
    escape = gce_label if cloud.name == "gcp" else aws_tag_value
    by_source = {
        (
            escape(str(vm.record.get("moref") or "")),
            escape(str(vm.record.get("instance_uuid") or vm.record.get("bios_uuid") or "")),
        ): vm
        for vm in wave.vms
    }
    found = {}
    for address, body in generated.items():
        type_, _, ident = address.partition(".")
        tags = body.get(cloud.tags) or {}
        vm = by_source.get((str(tags.get("source-moref")), str(tags.get("source-uuid"))))
        if type_ in cloud.instances and vm is not None:
            found[ident] = vm
    return found


def _cloud_terraform(
    found: _Found,
    cloud: _Cloud,
    wave: WaveInput,
    trees: tuple[Mapping[str, bytes | None], Mapping[str, bytes | None]],
    changed: list[str],
) -> None:
    """Sizes, disk types and instance tags as edits; every other change a free edit where it is."""
    generated, edited = trees
    parsed = {n: hcl_resources(generated.get(n)) for n in generated if n.endswith(".tf")}
    vms = _cloud_vms(cloud, wave, {a: b for r in parsed.values() for a, b in (r or {}).items()})
    for name in changed:
        before, after = (
            parsed.get(name, {}),
            hcl_resources(edited.get(name)) if name.endswith(".tf") else None,
        )
        if before is None or after is None:
            found.free(name, "", "", _text(generated.get(name)), _text(edited.get(name)))
            continue
        for address in sorted(set(before) | set(after)):
            old, new = before.get(address), after.get(address)
            if old == new:
                continue
            if old is None or new is None:
                found.free(name, address, "", old, new)
                continue
            for path, was, now in differences(old, new):
                found.at = (name, address, path, _shown(was), _shown(now))
                if _rendered_caching(address, path, now, after):
                    continue
                if not _cloud_attribute(found, cloud, vms, (address, path), now):
                    found.free(name, address, path, _shown(was), _shown(now))


def _rendered_caching(address: str, path: str, value: Any, after: dict[str, dict[str, Any]]) -> bool:
    """Azure writes a data disk attachment's caching from the disk's type (None on Premium SSD v2,
    else ReadOnly): a reviewer who changed both wrote what the disk-type edit renders."""
    type_, _, ident = address.partition(".")
    if type_ != "azurerm_virtual_machine_data_disk_attachment" or path != "caching":
        return False
    disk = after.get(f"azurerm_managed_disk.{ident}") or {}
    return value == ("None" if disk.get("storage_account_type") == "PremiumV2_LRS" else "ReadOnly")


def _cloud_attribute(
    found: _Found, cloud: _Cloud, vms: dict[str, VMInput], where: tuple[str, str], value: Any
) -> bool:
    """Record the edit for one changed attribute; False when the vocabulary has none."""
    address, path = where
    type_, _, ident = address.partition(".")
    disk_type, suffix, type_attribute = cloud.disk
    owner = re.fullmatch(rf"(.+)_{suffix}([0-9]+)", ident) if type_ == disk_type else None
    vm = vms.get(owner.group(1) if owner else ident if type_ in cloud.instances else "")
    if vm is None or value is MISSING:
        return False
    disks = vm.record.get("disks") or []
    index = int(owner.group(2)) if owner and path == type_attribute else None
    index = 0 if type_ in cloud.instances and path == cloud.os_disk_type else index
    if index is not None and index < len(disks):
        label = str(disks[index].get("label"))
        data = {"kind": "disk-type", "vm": vm.name, "disk": label, "cloud": cloud.name, "type": value}
        found.add(("disk-type", vm.name, label), data)
        return True
    if type_ in cloud.instances and path == cloud.size:
        found.add(
            ("vm-size", vm.name), {"kind": "vm-size", "vm": vm.name, "cloud": cloud.name, "size": value}
        )
        return True
    if type_ in cloud.instances and cloud.tag_edits and path.startswith(cloud.tags + "."):
        return _tag(found, vm, path.removeprefix(cloud.tags + "."), value)
    return False


# --- Terraform -------------------------------------------------------------------------------


def _hcl_value(value: Any) -> Any:
    """python-hcl2's value without its quoting and block markers."""
    if isinstance(value, dict):
        return {_hcl_value(k): _hcl_value(v) for k, v in value.items() if k != "__is_block__"}
    if isinstance(value, list):
        items = [_hcl_value(v) for v in value]
        return (
            items[0]
            if len(items) == 1 and isinstance(value[0], dict) and "__is_block__" in value[0]
            else items
        )
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return value


def hcl_resources(data: bytes | None) -> dict[str, dict[str, Any]] | None:
    """`type.name` -> body of each resource, and `variable.name` of each variable (None: unparsable)."""
    if data is None:
        return {}
    try:
        document = hcl2.loads(data.decode("utf-8"))
    except Exception:  # python-hcl2 raises lark's many error types
        return None
    out: dict[str, dict[str, Any]] = {}
    for block in document.get("resource", []):
        for type_, named in block.items():
            for name, body in named.items():
                out[f"{_hcl_value(type_)}.{_hcl_value(name)}"] = _hcl_value(body)
    for block in document.get("variable", []):
        for name, body in block.items():
            out[f"variable.{_hcl_value(name)}"] = _hcl_value(body)
    return out


@dataclass(frozen=True)
class _TfNames:
    instances: dict[str, VMInput]  # terraform ident -> VM
    groups: dict[str, str]  # terraform ident -> tier key
    spread: dict[str, str] = field(default_factory=dict)  # added placement group ident -> set name


def _tf_names(wave: WaveInput, generated: dict[str, dict[str, Any]]) -> _TfNames:
    by_tag = {aws_tag_value(vm.name): vm for vm in wave.vms}
    instances = {}
    for address, body in generated.items():
        if address.startswith("aws_instance."):
            vm = by_tag.get(str((body.get("tags") or {}).get("Name")))
            if vm is not None:
                instances[address.split(".", 1)[1]] = vm
    placed = [vm for vm in wave.vms if vm.name in {v.name for v in instances.values()}]
    groups = {ident: key for key, ident in tf_names(sorted({tier_key(vm) for vm in placed})).items()}
    return _TfNames(instances, groups)


def _terraform(
    found: _Found,
    wave: WaveInput,
    generated: Mapping[str, bytes | None],
    edited: Mapping[str, bytes | None],
    changed: list[str],
) -> None:
    parsed_generated = {n: hcl_resources(generated.get(n)) for n in generated if n.endswith(".tf")}
    everything: dict[str, dict[str, Any]] = {}
    for resources in parsed_generated.values():
        everything.update(resources or {})
    names = _tf_names(wave, everything)
    parsed_edited = {n: hcl_resources(edited.get(n)) for n in changed if n.endswith(".tf")}
    names = _tf_spread_sets(found, names, everything, parsed_edited)
    for name in changed:
        before, after = parsed_generated.get(name, {}), parsed_edited.get(name)
        if not name.endswith(".tf") or before is None or after is None:
            found.free(name, "", "", _text(generated.get(name)), _text(edited.get(name)))
            continue
        for address in sorted(set(before) | set(after)):
            old, new = before.get(address), after.get(address)
            if old != new:
                _tf_resource(found, names, name, address, old, new)


def _tf_spread_sets(
    found: _Found,
    names: _TfNames,
    generated: dict[str, dict[str, Any]],
    edited: dict[str, dict[str, dict[str, Any]] | None],
) -> _TfNames:
    """Each spread placement group the reviewer added, with the instances that joined it, is an
    anti-affinity edit; its resource and the members' `placement_group` and `migrator-spread-set`
    tag are how that edit renders (all of it a free edit where the vocabulary refuses the set)."""
    after = {a: (f, b) for f, resources in edited.items() for a, b in (resources or {}).items()}
    spread: dict[str, str] = {}
    for address, (file, body) in sorted(after.items()):
        type_, _, ident = address.partition(".")
        if type_ != "aws_placement_group" or address in generated or body.get("strategy") != "spread":
            continue
        name = _set_name(found.wave, ident, body.get("name"))
        at: list[Where] = [(file, address, "", None, body)]
        members = []
        for vm_ident, vm in sorted(names.instances.items(), key=lambda i: i[1].name):
            where = after.get(f"aws_instance.{vm_ident}")
            if where is None or _placement(where[1].get("placement_group")) != ident:
                continue
            members.append(vm.name)
            old = generated.get(f"aws_instance.{vm_ident}") or {}
            for path in ("placement_group", "tags.migrator-spread-set"):
                was, now = dict(flatten(old)).get(path), dict(flatten(where[1])).get(path)
                if was != now:
                    at.append((where[0], f"aws_instance.{vm_ident}", path, was, now))
        data = {"kind": "anti-affinity", "wave": found.wave, "name": name, "vms": members}
        if _fits(data):  # else the group and its instances' changes are free edits where they are
            found.add(("anti-affinity", ident), data, at)
            spread[ident] = name
    return _TfNames(names.instances, names.groups, spread)


def _fits(data: dict[str, Any]) -> bool:
    """Whether a spread set read from the text is one the vocabulary can say."""
    try:
        parse_edit(data)
    except ValidationError:
        return False
    return True


def _set_name(wave: int, ident: str, written: Any) -> str:
    """The set's name as migrator renders it (`wave3-edit-<name>`), else what the reviewer wrote."""
    rendered = re.fullmatch(rf"wave{wave}-edit-(.+)", str(written))
    if rendered:
        return rendered.group(1)
    return str(written) if isinstance(written, str) else ident.removeprefix("edit_").replace("_", "-")


def _placement(expr: Any) -> str | None:
    found = re.fullmatch(r"\$\{aws_placement_group\.([A-Za-z0-9_-]+)\.name\}", str(expr))
    return found.group(1) if found else None


def _tf_resource(
    found: _Found,
    names: _TfNames,
    file: str,
    address: str,
    old: dict[str, Any] | None,
    new: dict[str, Any] | None,
) -> None:
    type_, _, ident = address.partition(".")
    if type_ == _RULE:
        _tf_rule(found, names, file, address, old, new)
        return
    zone = (new or {}).get("default") if address == "variable.availability_zone" else None
    if isinstance(zone, str):  # added by the reviewer, or its default changed
        found.at = (file, address, "default", (old or {}).get("default"), zone)
        found.add(("availability-zone",), {"kind": "availability-zone", "wave": found.wave, "zone": zone})
        return
    if type_ == "aws_placement_group" and ident in names.spread:
        return  # read as an anti-affinity edit (_tf_spread_sets)
    if old is None or new is None:  # a resource added or removed by hand
        found.free(file, address, "", old, new)
        return
    for path, before, after in differences(old, new):
        found.at = (file, address, path, _shown(before), _shown(after))
        if not _tf_attribute(found, names, (type_, ident), path, after):
            found.free(file, address, path, _shown(before), _shown(after))


def _tf_attribute(found: _Found, names: _TfNames, resource: tuple[str, str], path: str, value: Any) -> bool:
    """Record the edit for one changed attribute; False when the vocabulary has none."""
    type_, ident = resource
    if value is MISSING:
        return False
    if type_ == "variable" and ident == "region" and path == "default":
        found.add(("region",), {"kind": "region", "wave": found.wave, "region": value})
        return True
    disk_of = re.match(r"^(.+)_disk([0-9]+)$", ident) if type_ == "aws_ebs_volume" else None
    nic_of = re.match(r"^(.+)_nic([0-9]+)$", ident) if type_ == "aws_network_interface" else None
    owner = disk_of or nic_of
    vm = names.instances.get(ident if type_ == "aws_instance" else owner.group(1) if owner else "")
    if vm is None:
        return False
    disks = vm.record.get("disks") or []
    if path == "subnet_id" and type_ in ("aws_instance", "aws_network_interface"):
        return _subnet(found, vm, int(nic_of.group(2)) if nic_of else 0, value)
    if type_ == "aws_instance" and path in ("placement_group", "tags.migrator-spread-set"):
        return _placement(value) in names.spread or str(value).removeprefix("edit-") in names.spread.values()
    if type_ == "aws_instance" and path == "availability_zone" and value == "${var.availability_zone}":
        return True  # how an availability-zone edit renders; the variable says the zone
    if type_ == "aws_instance" and path == "instance_type":
        found.add(
            ("instance-type", vm.name), {"kind": "instance-type", "vm": vm.name, "instance_type": value}
        )
        return True
    if path.startswith("tags."):
        return _tag(found, vm, path.removeprefix("tags."), value)
    field_ = path.removeprefix("root_block_device.") if type_ == "aws_instance" else path
    index = 0 if type_ == "aws_instance" and path.startswith("root_block_device.") else None
    index = int(disk_of.group(2)) if disk_of else index
    if index is None or field_ not in _VOLUME_FIELDS or index >= len(disks):
        return False
    _volume(found, vm, str(disks[index].get("label")), _VOLUME_FIELDS[field_], value)
    return True


def _subnet(found: _Found, vm: VMInput, nic: int, value: Any) -> bool:
    """A NIC's `var.subnet_ids` key: the network edit for that NIC (by its inventory label)."""
    key = re.fullmatch(r'\$\{var\.subnet_ids\["([^"\\]+)"\]\}', str(value))
    return key is not None and nic < len(vm.nics) and _network(found, vm, nic, key.group(1))


def _network(found: _Found, vm: VMInput, nic: int, network: str) -> bool:
    label = str(vm.nics[nic].get("label"))
    data = {"kind": "network", "vm": vm.name, "nic": label, "network": network}
    found.add(("network", vm.name, label), data)
    return True


def _volume(found: _Found, vm: VMInput, disk: str, name: str, value: Any) -> None:
    data = {"kind": "volume", "vm": vm.name, "disk": disk, name: value}
    found.add(("volume", vm.name, disk), data)


def _tag(found: _Found, vm: VMInput, key: str, value: Any) -> bool:
    """A tag the vocabulary can say (checked alone, so one bad tag is a free edit where it is)."""
    if key in RESERVED_TAGS or not isinstance(value, str):
        return False
    try:
        Tags(vm=vm.name, tags={key: value})
    except ValidationError:
        return False
    found.add(("tags", vm.name), {"kind": "tags", "vm": vm.name, "tags": {key: value}})
    return True


def _rule_edit(names: _TfNames, wave: int, body: dict[str, Any], action: str) -> dict[str, Any] | None:
    """A port-rule edit for one ingress rule resource (None: it does not read as one)."""
    group = names.groups.get(_ref(body.get("security_group_id")) or "")
    peer = body.get("referenced_security_group_id")
    data = {
        "kind": "port-rule",
        "action": action,
        "wave": wave,
        "group": group,
        "protocol": body.get("ip_protocol"),
        "from_port": body.get("from_port"),
        "to_port": body.get("to_port"),
    }
    if peer is not None:
        data["peer_group"] = names.groups.get(_ref(peer) or "")
    else:
        data["cidr"] = body.get("cidr_ipv4") or body.get("cidr_ipv6")
    return data if group and (peer is None or data["peer_group"]) else None


def _ref(expr: Any) -> str | None:
    found = re.fullmatch(r"\$\{aws_security_group\.([A-Za-z0-9_-]+)\.id\}", str(expr))
    return found.group(1) if found else None


def _tf_rule(
    found: _Found,
    names: _TfNames,
    file: str,
    address: str,
    old: dict[str, Any] | None,
    new: dict[str, Any] | None,
) -> None:
    """A removed rule is a `remove`, an added one an `add`, a changed one both."""
    for body, action in ((old, "remove"), (new, "add")):
        if body is None:
            continue
        data = _rule_edit(names, found.wave, body, action)
        at: Where = (file, address, "", old if action == "remove" else None, new if action == "add" else None)
        if data is None:
            found.frees.append(at)
        else:
            found.add(("port-rule", address, action), data, [at])


# --- Kubernetes manifests --------------------------------------------------------------------


def yaml_resources(data: bytes | None) -> dict[str, dict[str, Any]] | None:
    """`Kind/name` -> document (None: unparsable); the namespace is compared as an attribute."""
    if data is None:
        return {}
    try:
        documents = [d for d in yaml.safe_load_all(data.decode("utf-8")) if d is not None]
    except (yaml.YAMLError, UnicodeDecodeError):
        return None
    out = {}
    for doc in documents:
        if not isinstance(doc, dict):
            return None
        out[f"{doc.get('kind')}/{(doc.get('metadata') or {}).get('name')}"] = doc
    return out


def _kubevirt(
    found: _Found,
    wave: WaveInput,
    generated: Mapping[str, bytes | None],
    edited: Mapping[str, bytes | None],
    changed: list[str],
) -> None:
    by_name = {vm.name: vm for vm in wave.vms}
    namespaces: set[Any] = set()
    moved: list[tuple[str, str, Any, Any]] = []
    parsed = {n: (yaml_resources(generated.get(n)), yaml_resources(edited.get(n))) for n in changed}
    spread = _k8s_spread_sets(found, by_name, parsed)
    for name in changed:
        before, after = parsed[name]
        if not name.endswith(".yaml") or before is None or after is None:
            found.free(name, "", "", _text(generated.get(name)), _text(edited.get(name)))
            continue
        owners = _k8s_owners(before, by_name)
        for address in sorted(set(before) | set(after)):
            old, new = before.get(address), after.get(address)
            if old is not None and new is not None and address in owners:
                new = _without_sets(new, spread)
            if old == new:
                continue
            if old is None or new is None:
                found.free(name, address, "", old, new)
                continue
            for path, was, now in differences(old, new):
                found.at = (name, address, path, _shown(was), _shown(now))
                if path == "metadata.namespace":
                    namespaces.add(now)
                    moved.append((name, address, was, now))
                elif not _k8s_attribute(found, owners.get(address), path, now, new):
                    found.free(name, address, path, _shown(was), _shown(now))
    _namespace(found, generated, namespaces, moved)


_TEMPLATE = ("spec", "template")
_EDIT_SET = f"spread.{LABEL_PREFIX}/edit-"


def _template(doc: dict[str, Any]) -> dict[str, Any]:
    template = ((doc.get("spec") or {}).get("template")) or {}
    return template if isinstance(template, dict) else {}


def _set_term(spec: dict[str, Any], label: str) -> bool | None:
    """Whether the pod anti-affinity has a required (True) or preferred (False) term on `label`."""
    anti = (spec.get("affinity") or {}).get("podAntiAffinity") or {}
    selector = {"matchLabels": {label: "true"}}
    required = anti.get("requiredDuringSchedulingIgnoredDuringExecution") or []
    if any(isinstance(t, dict) and t.get("labelSelector") == selector for t in required):
        return True
    preferred = anti.get("preferredDuringSchedulingIgnoredDuringExecution") or []
    terms = [t.get("podAffinityTerm") for t in preferred if isinstance(t, dict)]
    if any(isinstance(t, dict) and t.get("labelSelector") == selector for t in terms):
        return False
    return None


def _k8s_spread_sets(
    found: _Found,
    by_name: dict[str, VMInput],
    parsed: dict[str, tuple[dict[str, dict[str, Any]] | None, dict[str, dict[str, Any]] | None]],
) -> set[str]:
    """Each `spread.migrator.io/edit-<name>` label the reviewer added to VirtualMachines with a
    podAntiAffinity term on it (all required, or all preferred) is an anti-affinity edit; the
    labels it is read from (free edits where the vocabulary refuses the set)."""
    sets: dict[str, list[tuple[str, Where, bool | None]]] = {}  # label -> (VM, where, required)
    for file, (before, after) in sorted(parsed.items()):
        for address, (vm, disk) in _k8s_owners(before or {}, by_name).items():
            new = (after or {}).get(address)
            if disk is not None or new is None:
                continue
            was = (_template(before[address] if before else {}).get("metadata") or {}).get("labels") or {}
            labels = (_template(new).get("metadata") or {}).get("labels") or {}
            for label in sorted(k for k in labels if str(k).startswith(_EDIT_SET) and k not in was):
                where = (file, address, f"spec.template.metadata.labels.{label}", None, labels[label])
                required = (
                    _set_term(_template(new).get("spec") or {}, label) if labels[label] == "true" else None
                )
                sets.setdefault(label, []).append((vm.name, where, required))
    read = set()
    for label, members in sets.items():
        how = {required for _, _, required in members}
        if len(how) != 1 or None in how:
            continue  # not the shape migrator renders: each label stays a free edit where it is
        name = label.removeprefix(_EDIT_SET)
        data = {"kind": "anti-affinity", "wave": found.wave, "name": name, "vms": [m[0] for m in members]}
        data["required"] = how.pop()
        if _fits(data):  # else its labels and terms are free edits where they are
            found.add(("anti-affinity", label), data, [m[1] for m in members])
            read.add(label)
    return read


def _without_sets(doc: dict[str, Any], labels: set[str]) -> dict[str, Any]:
    """A VirtualMachine without the spread sets read as edits: their labels and affinity terms."""
    if not labels:
        return doc
    doc = copy.deepcopy(doc)
    template = _template(doc)
    tagged = (template.get("metadata") or {}).get("labels") or {}
    for label in labels:
        tagged.pop(label, None)
    spec = template.get("spec") or {}
    anti = (spec.get("affinity") or {}).get("podAntiAffinity")
    if not isinstance(anti, dict):
        return doc
    for key, inner in (
        ("requiredDuringSchedulingIgnoredDuringExecution", lambda t: t),
        ("preferredDuringSchedulingIgnoredDuringExecution", lambda t: t.get("podAffinityTerm") or {}),
    ):
        kept = [t for t in anti.get(key) or [] if not (isinstance(t, dict) and _selected(inner(t), labels))]
        if kept:
            anti[key] = kept
        else:
            anti.pop(key, None)
    if not anti:
        spec["affinity"].pop("podAntiAffinity")
        if not spec["affinity"]:
            spec.pop("affinity")
    return doc


def _selected(term: Any, labels: set[str]) -> bool:
    selector = term.get("labelSelector") if isinstance(term, dict) else None
    return any(selector == {"matchLabels": {label: "true"}} for label in labels)


def _namespace(
    found: _Found,
    generated: Mapping[str, bytes | None],
    namespaces: set[Any],
    moved: list[tuple[str, str, Any, Any]],
) -> None:
    """A namespace edit when every manifest moved to the same namespace; else free edits."""
    total = sum(len(yaml_resources(data) or {}) for name, data in generated.items() if name.endswith(".yaml"))
    if len(namespaces) == 1 and len(moved) == total and isinstance(next(iter(namespaces)), str):
        data = {"kind": "namespace", "wave": found.wave, "namespace": namespaces.pop()}
        found.add(
            ("namespace",), data, [(f, a, "metadata.namespace", _shown(w), _shown(n)) for f, a, w, n in moved]
        )
        return
    for file, address, was, now in moved:
        found.free(file, address, "metadata.namespace", _shown(was), _shown(now))


def _k8s_owners(
    documents: dict[str, dict[str, Any]], by_name: dict[str, VMInput]
) -> dict[str, tuple[VMInput, int | None]]:
    """Which VM (and disk index, for a DataVolume) each generated document stands for."""
    vm_of: dict[str, VMInput] = {}  # manifest name -> VM
    for doc in documents.values():
        if doc.get("kind") == "VirtualMachine":
            source = ((doc.get("metadata") or {}).get("annotations") or {}).get("migrator.io/source-name")
            if source in by_name:
                vm_of[str(doc["metadata"]["name"])] = by_name[source]
    owners: dict[str, tuple[VMInput, int | None]] = {}
    for address, doc in documents.items():
        meta = doc.get("metadata") or {}
        if doc.get("kind") == "VirtualMachine" and meta.get("name") in vm_of:
            owners[address] = (vm_of[meta["name"]], None)
        owner = vm_of.get((meta.get("labels") or {}).get("migrator.io/vm", ""))
        disk = re.match(r"^.+-disk-([0-9]+)$", str(meta.get("name")))
        if doc.get("kind") == "DataVolume" and owner is not None and disk:
            owners[address] = (owner, int(disk.group(1)))
    return owners


def _k8s_attribute(
    found: _Found, owner: tuple[VMInput, int | None] | None, path: str, value: Any, new: dict[str, Any]
) -> bool:
    if owner is None or value is MISSING:
        return False
    vm, disk = owner
    if disk is not None:
        return _datavolume(found, vm, disk, path, value)
    if path.startswith(("metadata.labels.", "spec.template.metadata.labels.")):
        key = path.split("labels.", 1)[1]
        return "/" not in key and key != "migration-wave" and _tag(found, vm, key, str(value))
    if path.startswith(tuple(_DOMAIN + part for part in ("cpu.", "memory.", "resources."))):
        return _cpu_memory(found, vm, path.removeprefix(_DOMAIN), new)
    network = re.fullmatch(r"spec\.template\.spec\.networks\.([0-9]+)\.multus\.networkName", path)
    if network:
        return _multus(found, vm, int(network.group(1)), value, new)
    devices = "spec.template.spec.domain.devices."
    if path == f"{devices}disks.0.disk.bus":
        found.add(("boot-bus", vm.name), {"kind": "boot-bus", "vm": vm.name, "bus": value})
        return True
    if re.fullmatch(re.escape(devices) + r"interfaces\.[0-9]+\.model", path):
        found.add(("nic-model", vm.name), {"kind": "nic-model", "vm": vm.name, "model": value})
        return True
    return False


def _multus(found: _Found, vm: VMInput, index: int, value: Any, new: dict[str, Any]) -> bool:
    """An interface's Multus network: the network edit for its NIC (`nic-N` is the VM's Nth NIC)."""
    networks = _template(new).get("spec", {}).get("networks") or []
    named = re.fullmatch(r"nic-([0-9]+)", str((networks[index] or {}).get("name")))
    nic = int(named.group(1)) if named else len(vm.nics)
    return isinstance(value, str) and nic < len(vm.nics) and _network(found, vm, nic, value)


def _cpu_memory(found: _Found, vm: VMInput, path: str, new: dict[str, Any]) -> bool:
    """The domain's CPU topology, guest memory and their requests say one cpu-memory edit: vCPUs
    are sockets x cores x threads (the request in millicores), memory the guest's (or request's)."""
    domain = new["spec"]["template"]["spec"]["domain"]
    if path.startswith("cpu."):
        cpu = domain.get("cpu") or {}
        sizes = [cpu.get(k, 1) for k in ("sockets", "cores", "threads")]
        vcpu = sizes[0] * sizes[1] * sizes[2] if all(type(n) is int for n in sizes) else None
        return vcpu is not None and _size(found, vm, {"vcpu": vcpu})
    requests = (domain.get("resources") or {}).get("requests") or {}
    if path == "resources.requests.cpu":
        milli = re.fullmatch(r"([0-9]+)000m|([0-9]+)", str(requests.get("cpu")))
        return milli is not None and _size(found, vm, {"vcpu": int(milli.group(1) or milli.group(2))})
    if path in ("memory.guest", "resources.requests.memory"):
        text = (domain.get("memory") or {}).get("guest") if path == "memory.guest" else requests.get("memory")
        mib = re.fullmatch(r"([0-9]+)(Mi|Gi)", str(text))
        return mib is not None and _size(
            found, vm, {"memory_mb": int(mib.group(1)) * (1024 if mib.group(2) == "Gi" else 1)}
        )
    return False


def _size(found: _Found, vm: VMInput, data: dict[str, int]) -> bool:
    found.add(("cpu-memory", vm.name), {"kind": "cpu-memory", "vm": vm.name, **data})
    return True


def _datavolume(found: _Found, vm: VMInput, disk: int, path: str, value: Any) -> bool:
    disks = vm.record.get("disks") or []
    if path == "spec.storage.storageClassName":
        data = {"kind": "storage-class", "vm": vm.name, "storage_class": value}
        found.add(("storage-class", vm.name), data)
        return True
    size = _GI.match(str(value))
    if path == "spec.storage.resources.requests.storage" and size and disk < len(disks):
        _volume(found, vm, str(disks[disk].get("label")), "size_gb", int(size.group(1)))
        return True
    return False
