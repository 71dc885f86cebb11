"""`migrator policies test`: every policy against its pass and fail fixtures.

A fixture file policies/fixtures/<ID>.json holds {"pass": {"input": ...}, "fail": {"input": ...,
"expect": [names]}}: the pass input must give no finding of that policy, the fail input exactly
the named VMs (source) or resources (iac)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from policies.registry import Policy, evaluate, fixtures, policies


@dataclass
class FixtureResult:
    policy: str
    case: str  # pass | fail
    ok: bool
    detail: str


def subjects(policy: Policy, policy_input: dict[str, Any]) -> set[str]:
    result = evaluate(policy.family, policy_input).get(policy.name) or {}
    key = "vm" if policy.family == "source" else "resource"
    return {str(f[key]) for f in result.get("findings") or []}


def run_fixtures() -> list[FixtureResult]:
    results = []
    for policy in policies():
        data = fixtures(policy.id)
        if data is None:
            results.append(
                FixtureResult(policy.id, "fixtures", False, f"missing policies/fixtures/{policy.id}.json")
            )
            continue
        found = subjects(policy, data["pass"]["input"])
        results.append(
            FixtureResult(
                policy.id, "pass", not found, "no findings" if not found else f"unexpected: {sorted(found)}"
            )
        )
        expected = set(data["fail"]["expect"])
        found = subjects(policy, data["fail"]["input"])
        ok = found == expected and bool(expected)
        results.append(
            FixtureResult(policy.id, "fail", ok, f"expected {sorted(expected)}, got {sorted(found)}")
        )
    return results
