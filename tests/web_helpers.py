"""A planned workspace for the dashboard tests: the demo estate with hostile text, flows, a plan, a PR."""

from __future__ import annotations

import copy
import csv
import dataclasses
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from migrator.app.flows import import_flow_file
from migrator.app.generation import GenerateRequest, generate
from migrator.app.planning import plan_waves
from migrator.app.prs import LandRequest, Reviews
from migrator.app.schedule import ScheduleRequest, schedule_plan
from migrator.app.snapshots import store_inventory
from migrator.app.workspace import Workspace
from migrator.inventory_import import read_export
from migrator.store.inventory import Inventory
from waves.parameters import PlanParameters

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
LOCAL = "http://127.0.0.1"  # the dashboard answers only its own host names (migrator/web/security.py)
SCRIPT = "<script>alert('owned')</script>"
BREAKER = '"><img src=x onerror=alert(1)>'
INVISIBLE = "web\u200b\u202e\u2066evil"
LONG = "x" * 3000
HOSTILE_VM = f"{BREAKER} {SCRIPT}"  # a VM's name
HOSTILE_APP = "javascript:alert(document.cookie)"
EXT_IPV6 = "2001:db8::10"  # an external endpoint whose address has ':' in it
# An external endpoint known only by name (an Azure Migrate export): markup, quotes and every
# character that cuts a URL path ("/", "?", "#", "%") come from the flow file as they are.
# the schedule of the planned workspace (docs/schedule.md): a slow link, so the bandwidth matters
SCHEDULE = ScheduleRequest("2027-01-11", ("Sat 22:00-06:00",), "20Mbps", ("2027-02-01..2027-02-07",))
EXT_NAME = "<b>partner</b> \"api\" 'gw'/v1?x=1#top %2F"


def hostile_inventory() -> Inventory:
    """The demo export with hostile names, annotations and custom attributes on two VMs."""
    inventory = read_export(FIXTURES / "inventories" / "demo.json")
    vms: list[dict[str, Any]] = [copy.deepcopy(v) for v in inventory.vms]
    legacy = next(v for v in vms if v["name"] == "legacy web (old)")
    legacy["name"] = HOSTILE_VM
    legacy["annotation"] = f"{SCRIPT}\n{INVISIBLE}\n{LONG}"
    legacy["custom_fields"] = {**legacy.get("custom_fields", {}), "app": HOSTILE_APP, "note": BREAKER}
    return dataclasses.replace(inventory, vms=vms)


def planned_workspace(folder: Path, land: bool = True, hostile_endpoints: bool = False) -> Workspace:
    """Snapshot, flows, a kubevirt plan, wave 1 generated (no external tools) and landed as PR #1.
    `hostile_endpoints` adds two external endpoints to the flows: EXT_IPV6 and EXT_NAME."""
    ws = Workspace.open(folder)
    store_inventory(ws, "import", "demo.json", hostile_inventory())
    import_flow_file(ws, FIXTURES / "flows" / "demo-flows.csv")
    if hostile_endpoints:
        generic, azure = hostile_endpoint_flows(folder.parent)
        import_flow_file(ws, generic)
        import_flow_file(ws, azure, "azure-migrate")
    plan_waves(ws, PlanParameters(target="kubevirt"))
    if land:
        generate(ws, GenerateRequest(target="kubevirt", wave=1, out=folder / "migration", use_tools=False))
        Reviews(ws).land(LandRequest(target="kubevirt", wave=1))
    # after landing, so wave 1's PLAN.md reads as without a schedule; the dashboard shows it
    schedule_plan(ws, SCHEDULE)
    store_inventory(ws, "import", "demo-later.json", later_inventory())  # snapshot 2, for drift
    return ws


def hostile_endpoint_flows(folder: Path) -> tuple[Path, Path]:
    """payroll-app-dev calls EXT_IPV6 on tcp/8443 (a generic flow file); payroll-db-dev calls
    EXT_NAME on tcp/9443 (an Azure Migrate export, which names servers and has no addresses)."""
    folder.mkdir(parents=True, exist_ok=True)
    generic = folder / "ipv6-flows.csv"
    generic.write_text(
        "src_ip,dst_ip,dst_port,protocol,bytes,packets,connections,first_seen,last_seen\n"
        f"10.0.200.11,{EXT_IPV6},8443,tcp,7000000,6000,40,2026-11-02T08:00:00Z,2026-11-06T17:30:00Z\n"
    )
    azure = folder / "azure-dependencies.csv"
    with azure.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["Source server name", "Destination server name", "Destination port"])
        writer.writerow(["payroll-db-dev", EXT_NAME, "9443"])
    return generic, azure


def later_inventory() -> Inventory:
    """A later discovery: crm-db-01 resized, nfs-01 gone, a new VM."""
    inventory = hostile_inventory()
    vms = [copy.deepcopy(v) for v in inventory.vms if v["name"] != "nfs-01"]
    db = next(v for v in vms if v["name"] == "crm-db-01")
    db["num_cpu"] = (db.get("num_cpu") or 1) * 4
    db["memory_mb"] = (db.get("memory_mb") or 1024) * 4
    extra = copy.deepcopy(db)
    extra.update(name="crm-db-02", moref="vm-crm-db-02", ip_addresses=[], nics=[])
    return dataclasses.replace(inventory, vms=[*vms, extra])


def local_client(app: FastAPI) -> TestClient:
    """A TestClient that calls the app as a browser on this machine would: `Host: 127.0.0.1`."""
    return TestClient(app, base_url=LOCAL)
