"""A workspace with the demo estate and flows, and a second snapshot changed on purpose."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from migrator.app.flows import import_flow_file
from migrator.app.snapshots import store_inventory
from migrator.app.workspace import Workspace
from migrator.inventory_import import read_export

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
DEMO = FIXTURES / "inventories" / "demo.json"


def demo_workspace(root: Path, db_url: str | None = None) -> Workspace:
    ws = Workspace.open(root / "ws", db_url)
    store_inventory(ws, "import", "demo.json", read_export(DEMO))
    import_flow_file(ws, FIXTURES / "flows" / "demo-flows.csv")
    return ws


def changed_export(tmp: Path) -> Path:
    """The demo estate a week later: crm-web-01 resized and re-cabled, dns-01 now says it depends
    on shop-db-01, nfs-01 gone, new-01 added, shop-web-01 tagged."""
    doc = json.loads(DEMO.read_text())
    vms: dict[str, dict[str, Any]] = {vm["name"]: vm for vm in doc["vms"]}
    web = vms["crm-web-01"]
    web["num_cpu"] = 8
    extra = copy.deepcopy(web["disks"][0])
    extra.update(label="disk-202-1", key=205, capacity_gb=500.0, unit_number=1)
    web["disks"].append(extra)
    web["nics"][0]["network"] = "web-vlan111"
    vms["dns-01"]["annotation"] = "Depends on shop-db-01 for zone data"
    vms["shop-web-01"]["tags"] = ["Application:shop", "Backup:gold"]
    new = copy.deepcopy(vms["ad-01"])
    new.update(name="new-01", moref="vm-9001", hostname="new-01.corp.example", ip_addresses=["10.0.10.99"])
    new["nics"][0]["ip_addresses"] = ["10.0.10.99"]
    new["custom_fields"] = {"app": "new", "env": "prod"}
    del vms["nfs-01"]
    doc["vms"] = [*vms.values(), new]
    path = tmp / "week-later.json"
    path.write_text(json.dumps(doc))
    return path
