"""One VM's need on several clouds side by side: the size each cloud's catalogue picks, its
monthly price, and the licensing the price cannot show (docs/size.md, "Several clouds").

The choices themselves are made once by `waves.sizing.size_vm` (sizing["aws"], ["azure"],
["gcp"]); OpenStack's flavor comes from the user's catalogue (waves/flavors.py), priced only
where that file carries prices.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from waves.sizing import price_source

if TYPE_CHECKING:  # the plan path needs no YAML: flavors are read only for --cloud openstack
    from waves.flavors import FlavorCatalogue

CLOUDS = ("aws", "azure", "gcp", "openstack")
PRICED_CLOUDS = ("aws", "azure", "gcp")  # a shipped, dated catalogue with prices
HOURS_PER_MONTH = 730  # the shipped catalogues' month, used for a priced flavor file too
SIZE_KEY = {"aws": "instance_type", "azure": "vm_size", "gcp": "machine_type"}

# What a price cannot show, per cloud: the shown Windows price includes the licence; bringing
# your own is possible only as written here; SQL Server is never priced (docs/size.md).
LICENSING: dict[str, dict[str, str]] = {
    "windows": {
        "aws": "Windows: price is licence-included; bring your own licence only on Dedicated Hosts",
        "azure": (
            "Windows: price is licence-included; Azure Hybrid Benefit (licences with Software "
            "Assurance) can remove the licence charge: not priced"
        ),
        "gcp": (
            "Windows: price is licence-included (premium image); bring your own licence only on "
            "sole-tenant nodes"
        ),
        "openstack": "Windows: no Windows Server licence in the price; license it under your own agreement",
    },
    "sql_server": {
        "aws": (
            "SQL Server: licence not priced; License Mobility (Software Assurance) or a licence-included AMI"
        ),
        "azure": (
            "SQL Server: licence not priced; Azure Hybrid Benefit for SQL Server or a pay-as-you-go SQL image"
        ),
        "gcp": (
            "SQL Server: licence not priced; License Mobility (Software Assurance) or a "
            "premium SQL Server image"
        ),
        "openstack": "SQL Server: licence not priced; bring your own licence",
    },
}


def licensing_flags(sizing: dict[str, Any], cloud: str) -> list[str]:
    """The licensing notes for one VM on one cloud (from size_vm's `licence`)."""
    licence = sizing.get("licence") or {}
    return [LICENSING[kind][cloud] for kind in ("windows", "sql_server") if licence.get(kind)]


def choice(sizing: dict[str, Any], cloud: str, flavors: FlavorCatalogue | None = None) -> dict[str, Any]:
    """`{"size", "monthly", "currency", "flags"}` for one VM on one cloud; `monthly` None: none
    fits, or (OpenStack) the flavor file carries no prices."""
    if cloud == "openstack":
        assert flavors is not None, "openstack needs a flavor catalogue"
        flavor = flavors.fitting(int(sizing["vcpu"]), int(sizing["memory_mb"]))
        hourly = flavor.hourly if flavor is not None else None
        monthly = None if hourly is None else round(hourly * HOURS_PER_MONTH, 2)
        size, currency = (flavor.name if flavor else None), flavors.currency
    else:
        picked = sizing[cloud]
        size, monthly, currency = picked[SIZE_KEY[cloud]], picked["monthly_usd"], "USD"
    return {"size": size, "monthly": monthly, "currency": currency, "flags": licensing_flags(sizing, cloud)}


def cloud_totals(
    rows: Sequence[dict[str, Any]], clouds: Sequence[str], flavors: FlavorCatalogue | None = None
) -> dict[str, Any]:
    """Per cloud: the monthly sum over the VMs that have a price, how many VMs no size fits,
    whether the cloud is priced at all, and its catalogue's provenance."""
    out: dict[str, Any] = {}
    for cloud in clouds:
        picks = [row["clouds"][cloud] for row in rows]
        priced = cloud in PRICED_CLOUDS or (flavors is not None and flavors.currency is not None)
        out[cloud] = {
            "monthly": round(sum(p["monthly"] or 0 for p in picks), 2) if priced else None,
            "currency": picks[0]["currency"] if picks else ("USD" if cloud in PRICED_CLOUDS else None),
            "priced": priced,
            "no_fit": sum(1 for p in picks if p["size"] is None),
            "catalogue": provenance(cloud, flavors),
        }
    return out


def provenance(cloud: str, flavors: FlavorCatalogue | None = None) -> dict[str, Any]:
    """Where a cloud's sizes and prices come from, and as of when."""
    if cloud == "openstack":
        assert flavors is not None
        return {"file": flavors.label, "source": flavors.source, "as_of": flavors.as_of}
    return price_source(cloud)


def wave_costs(sizes: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """A wave's sized monthly cost on each priced cloud, and the cheapest cloud among those on
    which every VM of the wave fits a size (a total missing a VM does not compare like for like;
    None: an empty wave, or no such cloud)."""
    costs = {cloud: round(sum(s[cloud]["monthly_usd"] or 0 for s in sizes), 2) for cloud in PRICED_CLOUDS}
    complete = [c for c in PRICED_CLOUDS if all(s[c]["monthly_usd"] is not None for s in sizes)]
    cheapest = min(complete, key=lambda c: (costs[c], PRICED_CLOUDS.index(c)), default=None)
    return {"monthly_usd": costs, "cheapest_cloud": cheapest if sizes else None}
