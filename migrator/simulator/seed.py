"""Seed a running vcsim with an estate through the vSphere API (this writes: test harness only)."""

from __future__ import annotations

import base64
import http.client
import json
import urllib.parse
from typing import Any

from pyVim.connect import Disconnect, SmartConnect
from pyVim.task import WaitForTask
from pyVmomi import vim

from migrator.simulator.estate import Estate
from migrator.simulator.launcher import Simulator

GIB_KB = 1024 * 1024


def _connect(sim: Simulator) -> Any:
    host, port = sim.address
    return SmartConnect(
        host=host,
        port=port,
        user=sim.username,
        pwd=sim.password,
        protocol="https" if sim.tls else "http",
        disableSslCertValidation=True,
    )


def _all(content: Any, obj_type: type) -> list[Any]:
    view = content.viewManager.CreateContainerView(content.rootFolder, [obj_type], True)
    try:
        return list(view.view)
    finally:
        view.DestroyView()


def seed(sim: Simulator, estate: Estate) -> dict[str, str]:
    """Apply the estate; returns VM name -> moref."""
    si = _connect(sim)
    try:
        return _Seeder(si.RetrieveContent(), sim, estate).run()
    finally:
        Disconnect(si)


class _Seeder:
    def __init__(self, content: Any, sim: Simulator, estate: Estate) -> None:
        self.content, self.sim, self.estate = content, sim, estate
        self.portgroups: dict[str, Any] = {}
        self.dvs: Any = None
        self.vm_objs: dict[str, Any] = {}
        self.cluster_objs: dict[str, Any] = {}
        self.opaque: dict[str, dict[str, str]] = {}  # name -> {id, type}

    def run(self) -> dict[str, str]:
        self._clusters()
        self._portgroups()
        self._opaque_networks()
        self._custom_fields()
        self._vms()
        self._drs_rules()
        self._tags()
        self._vapps()  # last: a VM in a vApp has no parent folder, which vcsim's reconfigure needs
        return {name: vm._moId for name, vm in self.vm_objs.items()}

    def _clusters(self) -> None:
        clusters = sorted(_all(self.content, vim.ClusterComputeResource), key=lambda c: c.name)
        for obj, name in zip(clusters, self.estate.clusters, strict=False):
            WaitForTask(obj.Rename_Task(name))
            self.cluster_objs[name] = obj

    def _portgroups(self) -> None:
        self.dvs = _all(self.content, vim.DistributedVirtualSwitch)[0]
        specs = []
        for pg in self.estate.portgroups:
            if "trunk" in pg:
                vlan: Any = vim.dvs.VmwareDistributedVirtualSwitch.TrunkVlanSpec(
                    vlanId=[vim.NumericRange(start=a, end=b) for a, b in pg["trunk"]], inherited=False
                )
            else:
                vlan = vim.dvs.VmwareDistributedVirtualSwitch.VlanIdSpec(
                    vlanId=pg.get("vlan", 0), inherited=False
                )
            spec = vim.dvs.DistributedVirtualPortgroup.ConfigSpec(
                name=pg["name"],
                type="earlyBinding",
                numPorts=32,
                defaultPortConfig=vim.dvs.VmwareDistributedVirtualSwitch.VmwarePortConfigPolicy(vlan=vlan),
            )
            specs.append(spec)
        if specs:
            WaitForTask(self.dvs.AddDVPortgroup_Task(specs))
        for pg in _all(self.content, vim.dvs.DistributedVirtualPortgroup):
            self.portgroups[pg.name] = pg

    def _opaque_networks(self) -> None:
        """NSX-T segments: vCenter has no API to create them, so the launcher's harness does."""
        for net in self.estate.raw.get("opaque_networks") or []:
            kind = net.get("type", "nsx.LogicalSwitch")
            _harness(self.sim, "opaque-network", name=net["name"], id=net["id"], type=kind)
            self.opaque[net["name"]] = {"id": net["id"], "type": kind}

    def _vapps(self) -> None:
        """vApps on a cluster's root pool (CreateVApp), then their VMs moved in (harness)."""
        for spec in self.estate.raw.get("vapps") or []:
            cluster = self.cluster_objs[spec["cluster"]]
            vapp = cluster.resourcePool.CreateVApp(
                name=spec["name"],
                resSpec=_resource_spec(),
                configSpec=vim.vApp.VAppConfigSpec(annotation=""),
                vmFolder=None,
            )
            for vm_spec in self.estate.vms:
                if vm_spec.get("vapp") == spec["name"]:
                    _harness(
                        self.sim, "move-into-vapp", vm=self.vm_objs[vm_spec["name"]]._moId, vapp=vapp._moId
                    )

    def _custom_fields(self) -> None:
        manager = self.content.customFieldsManager
        existing = {f.name: f.key for f in manager.field or []}
        self.field_keys = dict(existing)
        for name in self.estate.raw.get("custom_fields") or []:
            if name not in existing:
                self.field_keys[name] = manager.AddCustomFieldDef(name=name, moType=vim.VirtualMachine).key

    def _vms(self) -> None:
        by_cluster: dict[str, list[Any]] = {}
        for vm in sorted(_all(self.content, vim.VirtualMachine), key=lambda v: v.name):
            by_cluster.setdefault(vm.runtime.host.parent.name, []).append(vm)
        for spec in self.estate.vms:
            vm = by_cluster[spec["cluster"]].pop(0)
            self._configure(vm, spec)
            self.vm_objs[spec["name"]] = vm
        for leftovers in by_cluster.values():  # the estate is exactly what the file says
            for vm in leftovers:
                if vm.runtime.powerState == "poweredOn":
                    WaitForTask(vm.PowerOffVM_Task())
                WaitForTask(vm.Destroy_Task())

    def _nic_backing(self, network: str) -> Any:
        if network in self.opaque:
            return vim.vm.device.VirtualEthernetCard.OpaqueNetworkBackingInfo(
                opaqueNetworkId=self.opaque[network]["id"], opaqueNetworkType=self.opaque[network]["type"]
            )
        pg = self.portgroups[network]
        return vim.vm.device.VirtualEthernetCard.DistributedVirtualPortBackingInfo(
            port=vim.dvs.PortConnection(switchUuid=self.dvs.uuid, portgroupKey=pg.key)
        )

    def _configure(self, vm: Any, spec: dict[str, Any]) -> None:
        WaitForTask(vm.Rename_Task(spec["name"]))
        changes: list[Any] = []
        devices = vm.config.hardware.device
        disk = next(d for d in devices if isinstance(d, vim.vm.device.VirtualDisk))
        controller_key = disk.controllerKey
        nic = next(d for d in devices if isinstance(d, vim.vm.device.VirtualEthernetCard))
        independent = set(spec.get("independent_disks") or [])
        for index, size in enumerate(spec.get("disks_gb") or []):
            mode = "independent_persistent" if index in independent else "persistent"
            if index == 0:
                disk.capacityInKB = size * GIB_KB
                disk.capacityInBytes = size * GIB_KB * 1024
                changes.append(vim.vm.device.VirtualDeviceSpec(operation="edit", device=disk))
                continue
            new_disk = vim.vm.device.VirtualDisk(
                key=-100 - index,
                controllerKey=controller_key,
                unitNumber=index,
                capacityInKB=size * GIB_KB,
                backing=vim.vm.device.VirtualDisk.FlatVer2BackingInfo(
                    diskMode=mode, thinProvisioned=index % 2 == 1, fileName=""
                ),
            )
            changes.append(
                vim.vm.device.VirtualDeviceSpec(operation="add", fileOperation="create", device=new_disk)
            )
        for index, network in enumerate(spec.get("nics") or []):
            if index == 0:
                nic.backing = self._nic_backing(network)
                changes.append(vim.vm.device.VirtualDeviceSpec(operation="edit", device=nic))
                continue
            changes.append(
                vim.vm.device.VirtualDeviceSpec(
                    operation="add",
                    device=vim.vm.device.VirtualVmxnet3(
                        key=-200 - index,
                        backing=self._nic_backing(network),
                        connectable=vim.vm.device.VirtualDevice.ConnectInfo(
                            startConnected=True, connected=True
                        ),
                    ),
                )
            )
        extra = []
        if spec.get("ip"):
            extra.append(vim.option.OptionValue(key="SET.guest.ipAddress", value=spec["ip"]))
        if spec.get("hostname"):
            extra.append(vim.option.OptionValue(key="SET.guest.hostName", value=spec["hostname"]))
        config = vim.vm.ConfigSpec(
            numCPUs=spec.get("cpus", 1),
            numCoresPerSocket=spec.get("cores_per_socket", 1),
            memoryMB=spec.get("memory_mb", 1024),
            guestId=spec.get("guest_id", "otherGuest"),
            firmware=spec.get("firmware", "bios"),
            annotation=spec.get("annotation", ""),
            changeTrackingEnabled=bool(spec.get("cbt", False)),
            cpuHotAddEnabled=bool(spec.get("cpu_hot_add", False)),
            memoryHotAddEnabled=bool(spec.get("memory_hot_add", False)),
            deviceChange=changes,
            extraConfig=extra,
        )
        # estates of several simulators: vcsim derives a VM's UUIDs from its path, the same in each
        if spec.get("bios_uuid"):
            config.uuid = spec["bios_uuid"]
        if spec.get("instance_uuid"):
            config.instanceUuid = spec["instance_uuid"]
        if spec.get("secure_boot"):
            config.bootOptions = vim.vm.BootOptions(efiSecureBootEnabled=True)
        WaitForTask(vm.ReconfigVM_Task(config))
        for field, value in (spec.get("custom") or {}).items():
            self.content.customFieldsManager.SetField(entity=vm, key=self.field_keys[field], value=str(value))
        for n in range(int(spec.get("snapshots", 0))):
            WaitForTask(
                vm.CreateSnapshot_Task(name=f"snap-{n + 1}", description="", memory=False, quiesce=False)
            )
        for iface in spec.get("guest_interfaces") or []:
            _harness(
                self.sim,
                "guest-interface",
                vm=vm._moId,
                mac=iface["mac"],
                network=iface.get("network", ""),
                ip=list(iface.get("ips") or []),
            )
        if (
            spec.get("power") in ("off", False) and vm.runtime.powerState == "poweredOn"
        ):  # YAML 1.1 reads off as false
            WaitForTask(vm.PowerOffVM_Task())

    def _drs_rules(self) -> None:
        for rule in self.estate.raw.get("drs_rules") or []:
            cluster = self.cluster_objs[rule["cluster"]]
            vms = [self.vm_objs[name] for name in rule["vms"]]
            spec = vim.cluster.ConfigSpecEx()
            if rule["kind"] == "affinity":
                info: Any = vim.cluster.AffinityRuleSpec(name=rule["name"], enabled=True, vm=vms)
            elif rule["kind"] == "anti-affinity":
                info = vim.cluster.AntiAffinityRuleSpec(name=rule["name"], enabled=True, vm=vms)
            else:
                hosts = sorted(cluster.host, key=lambda h: h.name)
                vm_group, host_group = f"{rule['name']}-vms", f"{rule['name']}-hosts"
                spec.groupSpec = [
                    vim.cluster.GroupSpec(operation="add", info=vim.cluster.VmGroup(name=vm_group, vm=vms)),
                    vim.cluster.GroupSpec(
                        operation="add",
                        info=vim.cluster.HostGroup(name=host_group, host=[hosts[i] for i in rule["hosts"]]),
                    ),
                ]
                info = vim.cluster.VmHostRuleInfo(
                    name=rule["name"],
                    enabled=True,
                    mandatory=bool(rule.get("mandatory", False)),
                    vmGroupName=vm_group,
                    affineHostGroupName=host_group,
                )
            spec.rulesSpec = [vim.cluster.RuleSpec(operation="add", info=info)]
            WaitForTask(cluster.ReconfigureComputeResource_Task(spec, modify=True))

    def _tags(self) -> None:
        wanted = {
            (tag, name) for vm in self.estate.vms for tag in vm.get("tags") or [] for name in [vm["name"]]
        }
        if not wanted:
            return
        rest = _RestWriter(self.sim)
        categories: dict[str, str] = {}
        tags: dict[str, str] = {}
        for tag, vm_name in sorted(wanted):
            category, name = tag.split(":", 1)
            if category not in categories:
                categories[category] = rest.post(
                    "/com/vmware/cis/tagging/category",
                    {
                        "create_spec": {
                            "name": category,
                            "description": "",
                            "cardinality": "MULTIPLE",
                            "associable_types": [],
                        }
                    },
                )
            if tag not in tags:
                tags[tag] = rest.post(
                    "/com/vmware/cis/tagging/tag",
                    {"create_spec": {"name": name, "description": "", "category_id": categories[category]}},
                )
            moref = self.vm_objs[vm_name]._moId
            rest.post(
                f"/com/vmware/cis/tagging/tag-association/id:{tags[tag]}?~action=attach",
                {"object_id": {"type": "VirtualMachine", "id": moref}},
            )


def _resource_spec() -> Any:
    def alloc() -> Any:
        return vim.ResourceAllocationInfo(
            reservation=0,
            expandableReservation=True,
            limit=-1,
            shares=vim.SharesInfo(level="normal", shares=0),
        )

    return vim.ResourceConfigSpec(cpuAllocation=alloc(), memoryAllocation=alloc())


def _harness(sim: Simulator, action: str, **form: Any) -> None:
    """POST to the launcher's /migrator/ harness (shapes vcsim cannot make through the API)."""
    host, port = sim.address
    conn: http.client.HTTPConnection
    if sim.tls:
        import ssl

        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        conn = http.client.HTTPSConnection(host, port, timeout=30, context=ctx)
    else:
        conn = http.client.HTTPConnection(host, port, timeout=30)
    auth = base64.b64encode(f"{sim.username}:{sim.password}".encode()).decode()
    body = urllib.parse.urlencode(form, doseq=True)
    headers = {"Authorization": f"Basic {auth}", "Content-Type": "application/x-www-form-urlencoded"}
    try:
        conn.request("POST", f"/migrator/{action}", body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
    finally:
        conn.close()
    if response.status != 200:
        raise RuntimeError(f"vcsim harness {action}: HTTP {response.status} {data[:200]!r}")


class _RestWriter:
    def __init__(self, sim: Simulator) -> None:
        host, port = sim.address
        self.conn = http.client.HTTPConnection(host, port, timeout=30)
        if sim.tls:
            import ssl

            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            self.conn = http.client.HTTPSConnection(host, port, timeout=30, context=ctx)
        auth = base64.b64encode(f"{sim.username}:{sim.password}".encode()).decode()
        self.session = self._call("POST", "/com/vmware/cis/session", None, {"Authorization": f"Basic {auth}"})

    def _call(self, method: str, path: str, body: Any, headers: dict[str, str]) -> Any:
        headers = {"Content-Type": "application/json", **headers}
        self.conn.request(
            method, "/rest" + path, body=json.dumps(body) if body is not None else None, headers=headers
        )
        response = self.conn.getresponse()
        data = response.read()
        if response.status != 200:
            raise RuntimeError(f"vAPI {method} {path}: HTTP {response.status} {data[:200]!r}")
        return json.loads(data).get("value") if data else None

    def post(self, path: str, body: Any) -> Any:
        return self._call("POST", path, body, {"vmware-api-session-id": self.session})
