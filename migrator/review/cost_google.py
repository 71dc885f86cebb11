"""PLAN.md's Google Cloud figures for a wave of the terraform-google target: the estimate line
and the cost table, from the GCE catalogue (waves/data/gcp-compute-us-central1.json)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from transpilers.model import VMInput
from transpilers.terraform_google import gcp_choice
from waves.sizing import price_source


def gcp_estimate(vms: Sequence[VMInput]) -> str:
    sized = sum(gcp_choice(vm)["monthly_usd"] or 0 for vm in vms)
    as_is = sum(gcp_choice(vm)["as_is_monthly_usd"] or 0 for vm in vms)
    return f"- Google Cloud estimate: ${sized:,.2f}/month sized, ${as_is:,.2f} as-is"


def gcp_cost(vms: Sequence[VMInput], cell: Callable[[str], str], usd: Callable[[float | None], str]) -> str:
    lines = [
        "## Cost against as-is",
        "",
        "| VM | as-is machine type | as-is $/month | sized machine type | sized $/month |",
        "|---|---|---|---|---|",
    ]
    sized = as_is = 0.0
    for vm in vms:
        g = gcp_choice(vm)
        sized += g["monthly_usd"] or 0
        as_is += g["as_is_monthly_usd"] or 0
        lines.append(
            f"| {cell(vm.name)} | {g['as_is_type'] or 'none fits'} | {usd(g['as_is_monthly_usd'])} "
            f"| {g['machine_type'] or 'none fits'} | {usd(g['monthly_usd'])} |"
        )
    lines.append(f"| total | | {usd(as_is)} | | {usd(sized)} |")
    prices = price_source("gcp")
    lines += [
        "",
        f"Compute Engine on-demand {prices['region']} list prices as of {prices['as_of']} (entered by "
        "hand, not fetched: waves/data/gcp-compute-us-central1.json says how; refresh before "
        "budgeting); no sustained-use or committed-use discount. Licences the price cannot show "
        "are not priced: Windows Server here is the premium-image charge, and bringing your own "
        "licence (sole-tenant nodes) or SQL Server licences changes the figure.",
    ]
    return "\n".join(lines)
