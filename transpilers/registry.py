"""The transpilers migrator ships, registered explicitly (no import-time discovery).

This is the one list of target names and of each target's options: front ends build their
choices and flags from it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields

from migrator.errors import UsageError
from transpilers.base import OptionSpec, Transpiler
from transpilers.kubevirt import KubeVirt
from transpilers.model import TargetOptions
from transpilers.terraform_aws import TerraformAws
from transpilers.terraform_azure import TerraformAzure
from transpilers.terraform_google import TerraformGoogle
from transpilers.terraform_openstack import TerraformOpenstack

TRANSPILERS: dict[str, Transpiler] = {
    t.meta.id: t
    for t in (TerraformAws(), KubeVirt(), TerraformAzure(), TerraformGoogle(), TerraformOpenstack())
}
# terraform-aws, kubevirt, terraform-azure, terraform-google, terraform-openstack
TARGETS: tuple[str, ...] = tuple(TRANSPILERS)


def get(target: str) -> Transpiler:
    try:
        return TRANSPILERS[target]
    except KeyError:
        raise UsageError(
            f"{{target}} {target!r}: use one of {', '.join(sorted(TRANSPILERS))}", field="target"
        ) from None


def for_sizing(sizing: str) -> str | None:
    """The code target (by name order) whose planner sizing is `sizing` (aws -> terraform-aws)."""
    return next((name for name, t in sorted(TRANSPILERS.items()) if t.meta.sizing == sizing), None)


def option_specs() -> dict[str, tuple[OptionSpec, list[str]]]:
    """Every declared target option once, with the targets that declare it, in declaration order."""
    specs: dict[str, tuple[OptionSpec, list[str]]] = {}
    for target, transpiler in TRANSPILERS.items():
        for spec in transpiler.meta.options:
            specs.setdefault(spec.name, (spec, []))[1].append(target)
    return specs


_OPTION_FIELDS = {f.name for f in fields(TargetOptions)}
assert all(name in _OPTION_FIELDS for name in option_specs()), "an OptionSpec names no TargetOptions field"


def target_options(values: Mapping[str, object]) -> TargetOptions:
    """TargetOptions from declared option values; None (not given) keeps the declared default."""
    declared = option_specs()
    settings: dict[str, object] = {}
    for name, value in values.items():
        if name not in declared:
            raise UsageError(f"{{{name}}} is not an option of any target", field=name)
        spec = declared[name][0]
        chosen = spec.default if value is None else value
        if chosen is not None and not isinstance(chosen, spec.type):
            raise UsageError(f"{{{name}}} must be a {spec.type.__name__}, not {chosen!r}", field=name)
        settings[name] = chosen
    return TargetOptions(**settings)  # type: ignore[arg-type]
