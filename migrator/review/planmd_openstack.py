"""PLAN.md's OpenStack parts: the flavor each VM gets from the user's catalogue (--flavors) and
what it costs, only where the catalogue carries prices (a private cloud has no public list)."""

from __future__ import annotations

from collections.abc import Sequence

from migrator.review.markdown import cell, code
from transpilers.model import TargetOptions, VMInput
from waves.flavors import Flavor, FlavorCatalogue, load_flavors

HOURS_PER_MONTH = 730


def _catalogue(options: TargetOptions) -> FlavorCatalogue:
    return load_flavors(options.flavors)


def _as_is(vm: VMInput, catalogue: FlavorCatalogue) -> Flavor | None:
    s = vm.sizing
    return catalogue.fitting(int(s["vcpu_now"] or s["vcpu"]), int(s["memory_mb_now"] or s["memory_mb"]))


def _sized(vm: VMInput, catalogue: FlavorCatalogue) -> Flavor | None:
    return catalogue.fitting(int(vm.sizing["vcpu"]), int(vm.sizing["memory_mb"]))


def _monthly(flavor: Flavor | None) -> float | None:
    return None if flavor is None or flavor.hourly is None else round(flavor.hourly * HOURS_PER_MONTH, 2)


def flavor_name(vm: VMInput, options: TargetOptions) -> str:
    flavor = _sized(vm, _catalogue(options))
    return flavor.name if flavor else "none fits"


def estimate(vms: Sequence[VMInput], options: TargetOptions) -> str:
    catalogue = _catalogue(options)
    if catalogue.currency is None:
        return f"- OpenStack: flavors from {code(catalogue.label)}; not priced (the catalogue has no prices)"
    sized = sum(_monthly(_sized(vm, catalogue)) or 0 for vm in vms)
    as_is = sum(_monthly(_as_is(vm, catalogue)) or 0 for vm in vms)
    return f"- OpenStack estimate: {sized:,.2f} {catalogue.currency}/month sized, {as_is:,.2f} as-is"


def cost(vms: Sequence[VMInput], options: TargetOptions) -> str:
    catalogue = _catalogue(options)
    unit = catalogue.currency or "price"
    lines = [
        "## Cost against as-is",
        "",
        f"| VM | as-is flavor | as-is {unit}/month | sized flavor | sized {unit}/month |",
        "|---|---|---|---|---|",
    ]
    sized = as_is = 0.0
    for vm in vms:
        now, then = _as_is(vm, catalogue), _sized(vm, catalogue)
        as_is += _monthly(now) or 0
        sized += _monthly(then) or 0
        lines.append(
            f"| {cell(vm.name)} | {cell(now.name) if now else 'none fits'} | {_money(_monthly(now))} "
            f"| {cell(then.name) if then else 'none fits'} | {_money(_monthly(then))} |"
        )
    priced = catalogue.currency is not None
    lines.append(f"| total | | {_money(as_is if priced else None)} | | {_money(sized if priced else None)} |")
    source = f"{catalogue.source} ({catalogue.as_of})" if catalogue.as_of else catalogue.source
    lines += [
        "",
        f"Flavors from {code(catalogue.label)}: {code(source or 'no source given')}. "
        + (
            f"Prices are the catalogue's own, {HOURS_PER_MONTH} hours a month."
            if priced
            else "The catalogue has no prices, so nothing is priced (docs/targets.md, 'OpenStack flavors')."
        ),
    ]
    return "\n".join(lines)


def _money(value: float | None) -> str:
    return "-" if value is None else f"{value:,.2f}"
