"""Right-sizing from observed utilisation, and mapping the one need per VM to each cloud's
catalogue (AWS instance types, Azure VM sizes, Compute Engine machine types) and to KubeVirt
requests.

Need = configured size x the chosen percentile of utilisation x a comfort factor (Azure's
convention: P95 and 1.3), never below a floor for the guest OS family. Without samples the VM
is sized as it is and flagged. Discovery stores p50, p95 and max, so --percentile is one of
50, 95 or 100.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from migrator.errors import UsageError

PERCENTILE_KEYS = {50: "p50", 95: "p95", 100: "max"}
MEMORY_FLOOR_MB = {"windows": 2048, "linux": 1024}  # below this the guest OS itself struggles
KUBEVIRT_MEMORY_STEP_MB = 128
UNKNOWN_LABELS = {"num_cpu": "vCPU count", "memory_mb": "memory size"}


@dataclass(frozen=True)
class SizingParameters:
    percentile: int = 95
    comfort: float = 1.3

    def __post_init__(self) -> None:
        if self.percentile not in PERCENTILE_KEYS:
            raise UsageError(
                "{percentile} must be 50, 95 or 100 (discovery stores p50, p95 and max)", field="percentile"
            )
        if not 1.0 <= self.comfort <= 4.0:
            raise UsageError("{comfort} must be between 1.0 and 4.0", field="comfort")


# cloud -> its catalogue of sizes with prices, source and date (docs/size.md); the key is also the
# key of that cloud's choice in size_vm's result (sizing["aws"], sizing["azure"], sizing["gcp"])
CATALOGUES = {
    "aws": "data/aws-ec2-us-east-1.json",
    "azure": "data/azure-vm-eastus.json",
    "gcp": "data/gcp-compute-us-central1.json",
}


@cache
def catalog(cloud: str = "aws") -> dict[str, Any]:
    text = resources.files("waves").joinpath(CATALOGUES[cloud]).read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def os_family(vm: dict[str, Any]) -> str:
    text = f"{vm.get('guest_id') or ''} {vm.get('guest_os') or ''}".lower()
    return "windows" if "win" in text else "linux"


def _mentions_sql_server(vm: dict[str, Any]) -> bool:
    haystack = " ".join(
        [
            str(vm.get("annotation") or ""),
            str(vm.get("guest_os") or ""),
            *map(str, (vm.get("custom_fields") or {}).values()),
        ]
    ).lower()
    return "sql server" in haystack or "mssql" in haystack


def coverage_rating(perf: dict[str, Any] | None) -> str:
    if not perf or not perf.get("samples"):
        return "none"
    share = float(perf.get("coverage") or 0)
    return "high" if share >= 0.9 else "medium" if share >= 0.5 else "low"


@cache  # a few hundred distinct shapes in a large estate; callers only read the entry
def cheapest(
    vcpu: int, memory_mb: int, family: str, cloud: str = "aws", disks: int = 0
) -> dict[str, Any] | None:
    """The cheapest catalogued size that holds the need (and, where the catalogue records how
    many data disks a size takes, the VM's data disks: Azure's limit grows with the size)."""
    for i in _by_price(cloud, family):  # the first that fits is the cheapest
        if (
            i["vcpu"] >= vcpu
            and i["memory_gib"] * 1024 >= memory_mb
            and i.get("max_data_disks", disks) >= disks
        ):
            return i
    return None


@cache
def _by_price(cloud: str, family: str) -> list[dict[str, Any]]:
    """The priced sizes for a guest OS family, cheapest first (ties: fewer vCPUs, less memory,
    then the name, so that the choice is stable)."""
    price_key = f"{family}_hourly"
    priced = [i for i in catalog(cloud)["instances"] if i.get(price_key) is not None]
    return sorted(priced, key=lambda i: (i[price_key], i["vcpu"], i["memory_gib"], i["type"]))


def smallest_in_family(vcpu: int, memory_mb: int, family: str) -> dict[str, Any] | None:
    """The smallest AWS type of one instance family that fits (a plan edit chose the family)."""
    return smallest_of_family("aws", family, vcpu, memory_mb)


def instance(type_name: str) -> dict[str, Any] | None:
    """The AWS catalogue's entry for one instance type (None: not in the catalogue)."""
    return size_entry("aws", type_name)


def monthly_usd(instance: dict[str, Any] | None, os_family: str, cloud: str = "aws") -> float | None:
    """An instance type's on-demand price per month for a guest OS family (None: not priced)."""
    hourly = instance.get(f"{os_family}_hourly") if instance else None
    return None if hourly is None else round(hourly * catalog(cloud)["hours_per_month"], 2)


def azure_size(vcpu: int, memory_mb: int, family: str, disks: int = 0) -> dict[str, Any]:
    """The cheapest Azure size for a need and its data disks, with its monthly price (None
    values: none fits)."""
    found = cheapest(vcpu, memory_mb, family, "azure", disks)
    return {
        "vm_size": found["type"] if found else None,
        "series": found["family"] if found else None,
        "monthly_usd": monthly_usd(found, family, "azure"),
    }


def data_disks(record: dict[str, Any]) -> int:
    """The disks beside the OS disk (the first), which a cloud attaches as data disks."""
    return max(0, len(record.get("disks") or []) - 1)


def azure_of(need: dict[str, Any], as_is: tuple[int, int] | None = None, disks: int = 0) -> dict[str, Any]:
    """The Azure choice for a VM's need (vcpu, memory_mb, os_family: the sizing after any plan
    edit) and for its size today (`as_is`, else the need's *_now fields): the same one-need,
    one-catalogue rule as AWS, so an edited need re-picks the Azure size too. `disks`: the
    disks beside the OS disk, which the size must be able to attach."""
    family = str(need["os_family"])
    sized = azure_size(int(need["vcpu"]), int(need["memory_mb"]), family, disks)
    now = as_is or (
        int(need.get("vcpu_now") or need["vcpu"]),
        int(need.get("memory_mb_now") or need["memory_mb"]),
    )
    current = azure_size(now[0], now[1], family, disks)
    return {**sized, "as_is_size": current["vm_size"], "as_is_monthly_usd": current["monthly_usd"]}


def gcp_size(vcpu: int, memory_mb: int, family: str) -> dict[str, Any]:
    """The cheapest Compute Engine machine type for a need, with its monthly price (None
    values: none fits). GCE attaches up to 127 data disks to every catalogued type, so disks
    never bind the choice."""
    found = cheapest(vcpu, memory_mb, family, "gcp")
    return {
        "machine_type": found["type"] if found else None,
        "family": found["family"] if found else None,
        "monthly_usd": monthly_usd(found, family, "gcp"),
    }


def gcp_of(need: dict[str, Any]) -> dict[str, Any]:
    """The Compute Engine choice for a VM's need (the sizing after any plan edit) and for its
    size today (the need's *_now fields): the same one-need, one-catalogue rule as AWS and Azure
    (waves/data/gcp-compute-us-central1.json)."""
    family = str(need["os_family"])
    sized = gcp_size(int(need["vcpu"]), int(need["memory_mb"]), family)
    now_vcpu = int(need.get("vcpu_now") or need["vcpu"])
    current = gcp_size(now_vcpu, int(need.get("memory_mb_now") or need["memory_mb"]), family)
    return {**sized, "as_is_type": current["machine_type"], "as_is_monthly_usd": current["monthly_usd"]}


def unknown_size(vm: dict[str, Any]) -> list[str]:
    """The size fields the inventory does not know (null: an empty RVTools cell, for instance)."""
    return [key for key in ("num_cpu", "memory_mb") if vm.get(key) is None]


def size_vm(vm: dict[str, Any], params: SizingParameters) -> dict[str, Any]:
    family = os_family(vm)
    unknown = unknown_size(vm)
    # Unknown is not zero: size from the smallest sensible machine, say so, and keep it countable.
    vcpu_now = max(1, int(vm["num_cpu"])) if "num_cpu" not in unknown else 1
    mem_now = int(vm["memory_mb"]) if "memory_mb" not in unknown else MEMORY_FLOOR_MB[family]
    perf = vm.get("perf")
    rating = coverage_rating(perf)
    flags: list[str] = [
        f"{UNKNOWN_LABELS[key]} unknown in the inventory: assumed {vcpu_now if key == 'num_cpu' else mem_now}"
        f"{'' if key == 'num_cpu' else ' MiB'}; check before relying on this size or price"
        for key in unknown
    ]
    suffix = PERCENTILE_KEYS[params.percentile]
    if unknown:
        vcpu, memory, basis = vcpu_now, mem_now, "assumed: size unknown in the inventory"
    elif rating == "none" or perf is None:
        vcpu, memory, basis = vcpu_now, mem_now, "as-is: no utilisation data"
        flags.append("sized as-is: no utilisation samples")
    else:
        cpu_pct = float(perf.get(f"cpu_{suffix}_pct") or 0)
        mem_pct = float(perf.get(f"mem_{suffix}_pct") or 0)
        vcpu = max(1, math.ceil(vcpu_now * cpu_pct / 100 * params.comfort))
        memory = math.ceil(mem_now * mem_pct / 100 * params.comfort)
        basis = f"p{params.percentile} x {params.comfort:g} over {perf.get('window_days', '?')} day(s)"
        if rating == "low":
            flags.append(f"low coverage: {float(perf.get('coverage') or 0):.0%} of expected samples")
        if vcpu > vcpu_now:
            flags.append("CPU busy today: sized above the current vCPU count")
    floor = MEMORY_FLOOR_MB[family]
    if memory < floor:
        memory = floor
        flags.append(f"memory raised to the {family} floor of {floor} MiB")
    sql_server = _mentions_sql_server(vm)
    if sql_server:
        flags.append(
            "SQL Server: licence not priced; bring your own (License Mobility) or use a licence-included AMI"
        )
    sized_type, as_is_type = cheapest(vcpu, memory, family), cheapest(vcpu_now, mem_now, family)
    hours = catalog()["hours_per_month"]
    price_key = f"{family}_hourly"
    if sized_type is None:
        flags.append("larger than every catalogued instance type")
    memory_guest = math.ceil(memory / KUBEVIRT_MEMORY_STEP_MB) * KUBEVIRT_MEMORY_STEP_MB
    return {
        "vm": vm["name"],
        "os_family": family,
        "vcpu_now": None if "num_cpu" in unknown else vcpu_now,
        "memory_mb_now": None if "memory_mb" in unknown else mem_now,
        "unknown": unknown,
        "vcpu": vcpu,
        "memory_mb": memory,
        "basis": basis,
        "coverage": rating,
        "flags": flags,
        "aws": {
            "instance_type": sized_type["type"] if sized_type else None,
            "monthly_usd": round(sized_type[price_key] * hours, 2) if sized_type else None,
            "as_is_type": as_is_type["type"] if as_is_type else None,
            "as_is_monthly_usd": round(as_is_type[price_key] * hours, 2) if as_is_type else None,
        },
        "azure": azure_of(
            {"vcpu": vcpu, "memory_mb": memory, "os_family": family},
            (vcpu_now, mem_now),
            data_disks(vm),
        ),
        "gcp": gcp_of(
            {
                "vcpu": vcpu,
                "memory_mb": memory,
                "os_family": family,
                "vcpu_now": vcpu_now,
                "memory_mb_now": mem_now,
            }
        ),
        # what the prices cannot show (licensing per cloud: licensing_flags)
        "licence": {"windows": family == "windows", "sql_server": sql_server},
        "kubevirt": {
            "cores": vcpu,
            "memory_guest": f"{memory_guest}Mi",
            "cpu_request": f"{vcpu * 1000}m",
            "memory_request": f"{memory_guest}Mi",
        },
    }


def totals(sizes: list[dict[str, Any]]) -> dict[str, Any]:
    sized = sum(s["aws"]["monthly_usd"] or 0 for s in sizes)
    as_is = sum(s["aws"]["as_is_monthly_usd"] or 0 for s in sizes)
    return {
        "vms": len(sizes),
        "vcpu": sum(s["vcpu"] for s in sizes),
        "vcpu_now": sum(s["vcpu_now"] or 0 for s in sizes),
        "memory_gb": round(sum(s["memory_mb"] for s in sizes) / 1024, 1),
        "memory_gb_now": round(sum(s["memory_mb_now"] or 0 for s in sizes) / 1024, 1),
        "aws_monthly_usd": round(sized, 2),
        "aws_as_is_monthly_usd": round(as_is, 2),
        "aws_monthly_saving_usd": round(as_is - sized, 2),
        "sized_as_is": sum(1 for s in sizes if s["coverage"] == "none"),
        "size_unknown": sum(1 for s in sizes if s.get("unknown")),
    }


def price_source(cloud: str = "aws") -> dict[str, str]:
    data = catalog(cloud)
    return {k: data[k] for k in ("region", "currency", "as_of", "source")}


# --- a plan edit's size (waves/edits.py: vm-size, size-family) ------------------------------------


def size_entry(cloud: str, name: str) -> dict[str, Any] | None:
    """The catalogue's entry for one size of a cloud (None: not in the catalogue)."""
    return next((i for i in catalog(cloud)["instances"] if i["type"] == name), None)


def smallest_of_family(
    cloud: str, family: str, vcpu: int, memory_mb: int, disks: int = 0
) -> dict[str, Any] | None:
    """The smallest size of one family of a cloud's catalogue that holds the need and its data
    disks (a plan edit chose the family)."""
    fitting = [
        i
        for i in catalog(cloud)["instances"]
        if i["family"] == family
        and i["vcpu"] >= vcpu
        and i["memory_gib"] * 1024 >= memory_mb
        and i.get("max_data_disks", disks) >= disks
    ]
    return min(fitting, key=lambda i: (i["vcpu"], i["memory_gib"], i["type"]), default=None)


def edited_size(
    cloud: str, need: dict[str, Any], size: str | None, family: str | None, disks: int = 0
) -> dict[str, Any] | None:
    """The size a plan edit chose on a cloud, with its family and monthly price: the named size,
    else the smallest of the named family that fits the need (type None: none fits). None when no
    edit chose one (the catalogue's cheapest fit stands)."""
    if size is None and family is None:
        return None
    found = size_entry(cloud, size) if size else None
    if found is None and family is not None:
        found = smallest_of_family(cloud, family, int(need["vcpu"]), int(need["memory_mb"]), disks)
    return {
        "type": found["type"] if found else None,
        "family": found["family"] if found else None,
        "monthly_usd": monthly_usd(found, str(need["os_family"]), cloud),
    }
