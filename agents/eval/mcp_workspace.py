"""A workspace whose plan holds a golden wave (agents/eval/waves/*.yaml), for the eval over MCP:
the wave's facts become an inventory file (the importer's format), which is imported, each VM
pinned to the wave's number, and planned, all through the CLI as an operator would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from migrator.errors import InputFileError

TIER_KEY = "tier"  # waves/parameters.py tier_keys: what the planner reads a VM's role from


def inventory(facts: dict[str, Any]) -> dict[str, Any]:
    """The importer's document for a wave's facts: one VM record per VM, nothing else."""
    vms = []
    for i, v in enumerate(facts["vms"], start=1):
        vms.append(
            {
                "name": v["name"], "moref": f"vm-{i}", "instance_uuid": f"00000000-0000-4000-8000-{i:012d}",
                "power_state": "poweredOn", "num_cpu": v["cpu"], "memory_mb": v["memory_gb"] * 1024,
                "guest_id": "otherGuest64", "guest_os": v["os"], "firmware": "bios",
                "custom_fields": {"app": v["app"], TIER_KEY: v["tier"], "env": "prod"}, "tags": [],
                "disks": [{"label": label, "capacity_gb": float(gb), "controller": "pvscsi"}
                          for label, gb in v["disks"].items()],
                "nics": [{"label": label, "type": "vmxnet3", "network": net, "connected": True}
                         for label, net in (v.get("nics") or {}).items()],
            }
        )  # fmt: skip
    return {"schema_version": 1, "snapshot": {"source": "golden-eval"}, "vms": vms}


def _cli(ws: Path, *args: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIGRATOR_")}
    done = subprocess.run(
        [sys.executable, "-m", "migrator", "--workspace", str(ws), *args],
        capture_output=True, text=True, env=env, timeout=600, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise InputFileError(f"preparing the eval workspace: migrator {args[0]} {args[1]}: {last}")


def prepare(wave_file: Path, ws: Path) -> int:
    """`ws` planned with the wave's VMs in the wave's number; returns that number."""
    facts = yaml.safe_load(wave_file.read_text(encoding="utf-8"))
    ws.mkdir(parents=True, exist_ok=True)
    source = ws / "golden-inventory.json"
    source.write_text(json.dumps(inventory(facts)), encoding="utf-8")
    _cli(ws, "import", "inventory", str(source))
    for vm in facts["vms"]:
        _cli(ws, "waves", "pin", vm["name"], "--wave", str(facts["number"]))
    _cli(ws, "waves", "plan")
    return int(facts["number"])
