"""Running the pack: source policies over inventory records, IaC policies over generated code."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from migrator.diagnostics import Diagnostic
from policies.registry import DIAGNOSTIC_SEVERITY, SEVERITIES, Policy, evaluate, policies

BATCH = 50  # rego-cpp slows down more than linearly with input size; evaluate in batches


@dataclass(frozen=True, order=True)
class Finding:
    vm: str
    policy: str  # id
    severity: str  # critical | warning | info
    title: str
    message: str
    vsphere_path: str
    meaning: str  # what it means for the chosen target

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def _by_package(family: str) -> dict[str, Policy]:
    return {p.name: p for p in policies(family)}


def source_findings(
    vms: list[dict[str, Any]], clusters: list[dict[str, Any]], target: str | None = None
) -> list[Finding]:
    """Every source policy over the VMs; `target` picks the meaning text (and target limits)."""
    by_package = _by_package("source")
    found: set[Finding] = set()
    for start in range(0, len(vms), BATCH):
        batch = vms[start : start + BATCH]
        policy_input = {"target": target or "any", "vms": batch, "clusters": _clusters_of(batch, clusters)}
        results = evaluate("source", policy_input)
        for package, result in results.items():
            policy = by_package.get(package)
            if policy is None:
                continue
            meaning = (policy.metadata.get("targets") or {}).get(target or "", "")
            for f in result.get("findings") or []:
                found.add(
                    Finding(
                        str(f["vm"]),
                        policy.id,
                        policy.severity,
                        str(policy.metadata["title"]),
                        str(f["message"]),
                        str(policy.metadata.get("vsphere_path", "")),
                        meaning,
                    )
                )
    return sorted(found, key=lambda f: (f.vm, SEVERITIES.index(f.severity), f.policy, f.message))


def _clusters_of(batch: list[dict[str, Any]], clusters: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The clusters as a batch's findings can see them: the VMs' own clusters and the DRS rules that
    name one of its VMs (the only two links the source policies follow from a VM to a cluster).

    Sending every cluster with every rule to every batch made the input, and rego-cpp's parse of
    it, grow with the estate; tests/test_policies.py checks the findings are unchanged."""
    names = {vm.get("name") for vm in batch}
    own = {vm.get("cluster") for vm in batch}
    out = []
    for cluster in clusters:
        rules = [r for r in cluster.get("drs_rules") or [] if names.intersection(r.get("vms") or [])]
        if rules or cluster.get("name") in own:
            out.append({**cluster, "drs_rules": rules})
    return out


def blocking(findings: Iterable[Finding]) -> dict[str, list[str]]:
    """VM -> its critical findings: these VMs are left out of the generated code."""
    out: dict[str, list[str]] = {}
    for f in findings:
        if f.severity == "critical":
            out.setdefault(f.vm, []).append(f"{f.policy}: {f.message}")
    return out


def iac_diagnostics(policy_input: dict[str, Any], scopes: tuple[str, ...] | None = None) -> list[Diagnostic]:
    """The IaC guardrails' findings; only the guardrails of `scopes` run when it is given."""
    by_package = _by_package("iac")
    out = []
    for package, result in evaluate("iac", policy_input, scopes).items():
        policy = by_package.get(package)
        if policy is None:
            continue
        for f in result.get("findings") or []:
            out.append(
                Diagnostic(
                    "policy",
                    policy.id,
                    DIAGNOSTIC_SEVERITY[policy.severity],
                    str(f.get("file", "")),
                    f.get("line"),
                    str(f["message"]),
                    str(f.get("resource", "")),
                )
            )
    return sorted(set(out), key=lambda d: (d.file, d.resource, d.rule, d.message))
