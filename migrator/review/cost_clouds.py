"""PLAN.md's one-line comparison of a wave's sized cost on AWS, Azure and Google Cloud, for every
target (docs/size.md, "Per-wave cost per cloud"): the same choices each Terraform target writes,
after plan edits, at list prices; licences that a price cannot show stay unpriced."""

from __future__ import annotations

from collections.abc import Sequence

from transpilers.model import VMInput
from transpilers.terraform_azure import azure_choice
from transpilers.terraform_google import gcp_choice

LABELS = {"aws": "AWS", "azure": "Azure", "gcp": "Google Cloud"}


def _monthly(vm: VMInput, cloud: str) -> float | None:
    if cloud == "aws":
        price: float | None = vm.sizing["aws"]["monthly_usd"]
        return price
    return (azure_choice(vm) if cloud == "azure" else gcp_choice(vm))["monthly_usd"]


def clouds_line(vms: Sequence[VMInput]) -> str:
    prices = {cloud: [_monthly(vm, cloud) for vm in vms] for cloud in LABELS}
    totals = {cloud: round(sum(p or 0 for p in got), 2) for cloud, got in prices.items()}
    complete = [c for c in LABELS if all(p is not None for p in prices[c])]  # like for like only
    cheapest = min(complete, key=lambda c: (totals[c], list(LABELS).index(c)), default=None)
    shown = ", ".join(f"{LABELS[c]} ${totals[c]:,.2f}" for c in LABELS)
    if not vms:
        verdict = "an empty wave"
    else:
        verdict = f"cheapest: {LABELS[cheapest]}" if cheapest else "no cloud holds every VM"
    return (
        f"- Per cloud, sized: {shown} per month; {verdict} "
        "(list prices, Windows licence-included; SQL Server and Hybrid Benefit not priced)"
    )
