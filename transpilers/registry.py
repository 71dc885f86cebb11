"""The transpilers migrator ships, registered explicitly (no import-time discovery)."""

from __future__ import annotations

from migrator.errors import UsageError
from transpilers.base import Transpiler
from transpilers.kubevirt import KubeVirt
from transpilers.terraform_aws import TerraformAws

TRANSPILERS: dict[str, Transpiler] = {t.meta.id: t for t in (TerraformAws(), KubeVirt())}


def get(target: str) -> Transpiler:
    try:
        return TRANSPILERS[target]
    except KeyError:
        raise UsageError(f"--target {target!r}: use one of {', '.join(sorted(TRANSPILERS))}") from None
